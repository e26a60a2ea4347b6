// The host agent's configuration (`host.toml`, written by `vmcrypt host
// init`; every key documented in docs/host.md).
#ifndef VMCRYPT_HOST_CONFIG_H_
#define VMCRYPT_HOST_CONFIG_H_

#include <string>
#include <vector>

#include "vmcrypt/base/status.h"

namespace vmcrypt::host {

struct HostConfig {
  std::string name = "host1";
  std::string listen = "127.0.0.1:8443";  // the control-plane API (HTTPS)
  std::string cert_file;                  // the agent's certificate (PEM)
  std::string key_file;                   // its private key (PEM, 0600)
  // Control-plane clients must present a certificate issued by this CA...
  std::string client_ca_file;
  // ...or one whose SHA-256 fingerprint ("AB:CD:...") is listed here.
  std::vector<std::string> trusted_fingerprints;
  std::string data_dir;          // VM home directories
  std::string run_dir;           // NBD sockets of open VMs
  size_t key_cache_size = 4096;  // keys held at most
};

// Reads `path`; relative paths in it are relative to its folder.
Result<HostConfig> LoadHostConfig(const std::string& path);

struct HostInitOptions {
  std::string dir;
  std::string name = "host1";
  std::vector<std::string> sans;  // extra DNS names / IP addresses
};

// Writes into `dir` (never overwriting): ca.crt/ca.key (the CA that signs
// control-plane clients), host.crt/host.key (serverAuth; SANs 127.0.0.1,
// localhost and `sans`), clients/admin.crt/.key (a first control-plane
// client), data/, run/ and host.toml. Returns the files written.
Result<std::vector<std::string>> InitHostDirectory(const HostInitOptions& options);

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_CONFIG_H_
