// `vmcrypt kms init`: lays out a ready-to-serve key server folder.
#ifndef VMCRYPT_KMS_INIT_H_
#define VMCRYPT_KMS_INIT_H_

#include <string>
#include <vector>

#include "vmcrypt/base/status.h"

namespace vmcrypt::kms {

struct InitOptions {
  std::string dir;
  std::string name = "kms1";      // the server certificate's common name
  std::vector<std::string> sans;  // extra subjectAltNames: DNS names or IP addresses
  int validity_days = 825;
};

// What was written, relative to `dir`, in order.
struct InitResult {
  std::vector<std::string> files;
};

// Writes into `dir` (created if needed; must not hold a kms.toml yet):
//   ca.crt, ca.key           the KMS's own CA (key 0600)
//   server.crt, server.key   serverAuth+clientAuth, SANs 127.0.0.1, localhost
//                            and `sans` (key 0600)
//   root.key                 a software root key (0600)
//   clients/admin.crt, clients/admin.key   a first client bundle (key 0600)
//   kms.db                   the store, with "admin" registered (tenant default)
//   kms.toml                 the configuration, with every setting commented
// Fails with AlreadyExists if `dir` was initialized before; nothing is
// overwritten. Key material is never printed or logged.
Result<InitResult> InitKmsDirectory(const InitOptions& options);

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_INIT_H_
