// Lab: everything center-bench measures, in one process on loopback, in a
// folder it owns: the built-in key server (KMIP over TLS, port 0), host
// agents (HostAgent + HostApiServer on port 0, each with its own data,
// run and state folders and a small locked key cache), and a center opened
// on its own folder with two key providers, as `vmcrypt dev` sets them up:
//   "kms"     standard: the key server, trusted both ways (its certificate
//             fetched and pinned; center's self-signed client certificate
//             registered in the key server's store);
//   "native"  native: KEKs derived on the hosts from a pushed KDK.
// Every agent presents the same host certificate (made once: a bench does
// not need 68 key pairs); center pins it per host as usual.
//
// Not thread-safe to set up; the pieces it returns are (see their headers).
#ifndef VMCRYPT_BENCH_CENTER_LAB_H_
#define VMCRYPT_BENCH_CENTER_LAB_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/center/center.h"
#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/api_server.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/object_store.h"

namespace vmcrypt::bench {

struct Agent {
  std::string name;
  std::string address;  // 127.0.0.1:PORT
  std::unique_ptr<host::HostAgent> agent;
  std::unique_ptr<host::HostApiServer> server;
};

class Lab {
 public:
  // Lays out and starts the key server and center under `dir` (which must
  // exist and be empty); no agents yet.
  static Result<std::unique_ptr<Lab>> Start(const std::string& dir);
  // Stops center first (its tasks finish), then the agents, then the KMS.
  ~Lab();

  // Starts `count` more agents named PREFIX1..PREFIXcount, each with room
  // for `key_cache_size` keys, and returns their indexes in agents().
  Result<std::vector<size_t>> AddAgents(const std::string& prefix, int count,
                                        size_t key_cache_size);
  // Adds cluster `cluster` to center and, in it, one center host per agent
  // index: "<cluster>-h<i>" pointing at that agent. An agent may be in
  // several clusters under different center names. Returns the names.
  Result<std::vector<std::string>> AddCluster(const std::string& cluster,
                                              const std::vector<size_t>& agent_indexes);

  center::Center& center() { return *center_; }
  const center::Principal& admin() const { return admin_; }
  std::vector<Agent>& agents() { return agents_; }
  const std::string& host_fingerprint() const { return host_fingerprint_; }
  // Center's client identity toward hosts (PEM files).
  const std::string& client_cert_file() const;
  const std::string& client_key_file() const;

 private:
  Lab() = default;
  Status Init(const std::string& dir);
  Status SetUpProviders();

  std::string dir_;
  std::unique_ptr<store::ObjectStore> kms_store_;
  std::unique_ptr<kms::SoftwareRootKey> kms_root_key_;
  std::unique_ptr<kms::Engine> kms_engine_;
  std::unique_ptr<kms::KmsServer> kms_server_;
  host::HostConfig host_template_;  // certificate, key and trust shared by the agents
  std::string host_fingerprint_;
  std::vector<Agent> agents_;
  std::unique_ptr<center::Center> center_;
  center::Principal admin_;
};

// Waits for each task (Center::GetTask with a wait) and fails naming the
// first that did not end in success, with its error.
Status WaitForTasks(center::Center& c, const center::Principal& who,
                    const std::vector<std::string>& task_ids);

}  // namespace vmcrypt::bench

#endif  // VMCRYPT_BENCH_CENTER_LAB_H_
