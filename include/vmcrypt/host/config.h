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
  std::string data_dir;  // VM home directories
  std::string run_dir;   // NBD sockets of open VMs
  // The agent's own state: the host key reference of host encryption mode
  // (ids only, never key bytes) and support bundles. Empty: host encryption
  // mode cannot be enabled.
  std::string state_dir;
  size_t key_cache_size = 4096;  // keys held at most
  // The host's TPM (e.g. "/dev/tpmrm0"); empty: the host has none. A native
  // key provider that requires a TPM is refused on a host without one. The
  // path must exist (HostAgent::Create checks); it is not used further yet.
  std::string tpm_device;
};

// Reads `path`; relative paths in it are relative to its folder.
Result<HostConfig> LoadHostConfig(const std::string& path);

struct HostInitOptions {
  std::string dir;
  std::string name = "host1";
  std::vector<std::string> sans;  // extra DNS names / IP addresses
  // Control-plane client certificates to trust by SHA-256 fingerprint
  // ("AB:CD:...", 32 pairs; lower case accepted), written to host.toml's
  // trusted_fingerprints.
  std::vector<std::string> trusted_fingerprints;
};

// Writes into `dir` (never overwriting): ca.crt/ca.key (the CA that signs
// control-plane clients), host.crt/host.key (serverAuth; SANs 127.0.0.1,
// localhost and `sans`), clients/admin.crt/.key (a first control-plane
// client), data/, run/, state/ (0700) and host.toml. Returns the files written.
// InvalidArgument (before anything is written) for a malformed fingerprint.
Result<std::vector<std::string>> InitHostDirectory(const HostInitOptions& options);

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_CONFIG_H_
