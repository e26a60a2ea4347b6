// The key server's configuration file (kms.toml), as written by `vmcrypt kms
// init` and documented in docs/kms.md. Relative paths are resolved against
// the file's folder.
#ifndef VMCRYPT_KMS_CONFIG_H_
#define VMCRYPT_KMS_CONFIG_H_

#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kms/server.h"

namespace vmcrypt::kms {

struct KmsConfig {
  std::string name = "kms1";
  ServerOptions server;
  std::string ca_cert_file;
  std::string ca_key_file;
  std::string root_key_type = "software";
  std::string root_key_file;
  std::string store_type = "sqlite";
  std::string store_path;
  std::string audit_file;  // empty: no audit log
};

// Parses `path`. Errors name the file, and the line for syntax errors.
Result<KmsConfig> LoadKmsConfig(const std::string& path);

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_CONFIG_H_
