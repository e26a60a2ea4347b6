// Center: the control plane (vCenter's role in seeds 000 and 002). It keeps
// the inventory (clusters, hosts, VMs, storage policies), the key providers,
// users and roles, tasks and events in a CenterStore; it requests KEKs from
// key providers and keeps only their ids; it pushes KEKs (standard
// providers) or KDKs (native providers) to the hosts of a cluster over the
// host API (mutual TLS, pinned host certificates) and asks hosts to create,
// encrypt, decrypt, rekey, open and close VMs.
//
// Every request names its caller (a Principal from Authorizer::Authenticate)
// and checks the privilege it needs (docs/api.md lists them per route).
// Mutating VM and host operations are tasks: the call returns the queued
// task's document at once; the work runs on a pool of threads and records
// its state, progress, result and one event.
//
// Documents (JSON) are those of docs/api.md. Key bytes never appear in
// them, in events, in logs or in the store.
//
// Thread-safety: every method may be called from any thread.
#ifndef VMCRYPT_CENTER_CENTER_H_
#define VMCRYPT_CENTER_CENTER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/center/auth.h"
#include "vmcrypt/center/store.h"

namespace vmcrypt::center {

struct CenterConfig {
  std::string name = "center";
  std::string listen = "127.0.0.1:8440";  // the REST API (HTTPS); port 0 picks one
  std::string cert_file;                  // the API's TLS identity (PEM)
  std::string key_file;
  std::string ca_file;           // the CA that issued cert_file (what clients trust)
  std::string client_cert_file;  // center's identity toward hosts and key servers
  std::string client_key_file;
  std::string root_key_file;  // seals native KDKs (kms::SoftwareRootKey file)
  std::string state_dir;      // center.db, providers/<name>/
  int task_threads = 4;
  std::chrono::milliseconds host_timeout{30000};
  std::chrono::milliseconds kms_timeout{5000};
};

class Center {
 public:
  using Logger = std::function<void(const std::string&)>;

  // Opens the store (state_dir/center.db), loads the root key, writes the
  // built-in roles and policies, and marks tasks a previous run left
  // unfinished as failed. Starts the task threads.
  static Result<std::unique_ptr<Center>> Open(const CenterConfig& config, Logger log);
  // Finishes the tasks in progress, then stops.
  ~Center();

  const CenterConfig& config() const;
  Authorizer& auth();
  CenterStore& store();
  // SHA-256 fingerprint of center's client certificate ("AB:CD:..."): what
  // a host must trust (`vmcrypt host init --trust-fingerprint`).
  const std::string& client_fingerprint() const;

  Result<Json> About(const Principal& who);

  // --- users and roles (Authorization.Manage) ---
  Result<Json> ListUsers(const Principal& who);
  Result<Json> AddUser(const Principal& who,
                       const Json& body);  // {"name", "role"} -> {"name", "role", "token"}
  Result<Json> ListRoles(const Principal& who);
  Result<Json> AddRole(const Principal& who, const Json& body);  // {"name", "privileges"}

  // --- key providers ---
  Result<Json> ListProviders(const Principal& who);
  // {"name", "type": "standard", "servers": ["HOST:PORT", ...]} or
  // {"name", "type": "native", "tpm_required": bool}
  Result<Json> AddProvider(const Principal& who, const Json& body);
  Result<Json> GetProvider(const Principal& who, const std::string& name);
  Result<Json> DeleteProvider(const Principal& who, const std::string& name);
  // {"action": "fetch-server-certificates" | "server-ca" (+"ca") | "csr" (-> "csr") |
  //  "signed-certificate" (+"certificate") | "self-signed" (-> "certificate") |
  //  "import" (+"certificate", "key")}
  Result<Json> TrustProvider(const Principal& who, const std::string& name, const Json& body);
  // {"cluster": optional}: center's default, or a cluster's.
  Result<Json> SetDefaultProvider(const Principal& who, const std::string& name, const Json& body);
  // {"password"} -> {"pkcs12": BASE64}
  Result<Json> ExportProvider(const Principal& who, const std::string& name, const Json& body);
  // {"pkcs12": BASE64, "password"}
  Result<Json> RestoreProvider(const Principal& who, const Json& body);

  // --- inventory ---
  Result<Json> ListClusters(const Principal& who);
  Result<Json> AddCluster(const Principal& who, const Json& body);  // {"name"}
  Result<Json> DeleteCluster(const Principal& who, const std::string& name);
  Result<Json> ListHosts(const Principal& who);
  // {"name", "address": "HOST:PORT", "fingerprint": "AB:..", "cluster"}
  Result<Json> AddHost(const Principal& who, const Json& body);
  Result<Json> GetHost(const Principal& who, const std::string& name);
  Result<Json> RemoveHost(const Principal& who, const std::string& name);
  Result<Json> ListPolicies(const Principal& who);
  Result<Json> ListVms(const Principal& who);
  Result<Json> GetVm(const Principal& who, const std::string& name);

  // --- tasks: each returns the queued task's document ---
  // {"name", "disks": [BYTES...], "host"?, "policy"?: "encrypted"|"none",
  //  "provider"?, "vtpm"?}
  Result<Json> CreateVm(const Principal& who, const Json& body);
  // action: "encrypt" ({"provider"?}), "decrypt", "rekey" ({"mode":
  // "shallow"|"deep", "provider"?}), "register", "move" ({"host"}), "open",
  // "close", "delete".
  Result<Json> VmAction(const Principal& who, const std::string& vm, const std::string& action,
                        const Json& body);
  // action: "encrypt" or "decrypt".
  Result<Json> DiskAction(const Principal& who, const std::string& vm, const std::string& disk,
                          const std::string& action);
  // Host encryption mode: a host key from the default provider ({"provider"?}).
  Result<Json> EnableHostEncryption(const Principal& who, const std::string& host,
                                    const Json& body);
  Result<Json> KeyStatusTask(const Principal& who);

  // Key status now (the same result as the task): {"keys": [...]}.
  Result<Json> KeyStatus(const Principal& who);

  Result<Json> ListTasks(const Principal& who);
  // Waits up to `wait` for the task to finish.
  Result<Json> GetTask(const Principal& who, const std::string& id,
                       std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  // --- events and alarms (System.View) ---
  // Events numbered after `after`, oldest first, at most `limit`; with
  // after = 0, the newest `limit` events (oldest first).
  Result<Json> ListEvents(const Principal& who, int64_t after, size_t limit);
  Result<Json> ListAlarms(const Principal& who);

  struct Impl;

 private:
  explicit Center(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_CENTER_H_
