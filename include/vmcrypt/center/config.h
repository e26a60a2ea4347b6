// Center's configuration file (center.toml, written by `vmcrypt center
// init`; every key in docs/center.md) and the set-up of a center folder.
#ifndef VMCRYPT_CENTER_CONFIG_H_
#define VMCRYPT_CENTER_CONFIG_H_

#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/center/center.h"

namespace vmcrypt::center {

// Reads `path` ([center] section); relative paths are relative to its folder.
Result<CenterConfig> LoadCenterConfig(const std::string& path);

struct CenterInitOptions {
  std::string dir;
  std::string name = "center";
  std::vector<std::string> sans;  // extra DNS names / IP addresses for the API certificate
  std::string admin_user = "admin";
};

struct CenterInitResult {
  std::vector<std::string> files;  // written, relative to dir
  std::string admin_token;         // shown once; only its hash is stored
  std::string client_fingerprint;  // what hosts must trust
};

// Writes into `dir` (never overwriting): ca.crt/ca.key (the CA of the API
// certificate: what clients trust, VMCRYPT_CA), center.crt/center.key
// (serverAuth; SANs 127.0.0.1, localhost and `sans`), client.crt/client.key
// (center's identity toward hosts and key servers), root.key (seals native
// KDKs), state/ (center.db) and center.toml; creates the first user with
// the Admin role.
Result<CenterInitResult> InitCenterDirectory(const CenterInitOptions& options);

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_CONFIG_H_
