// The key server's audit log: one JSON line per KMIP operation with the time,
// the client (certificate subject and SHA-256 fingerprint, tenant), the
// operation, the object's identifier, the result and its reason. It never
// holds key bytes. Thread-safe; every line is flushed as it is written.
#ifndef VMCRYPT_KMS_AUDIT_H_
#define VMCRYPT_KMS_AUDIT_H_

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kms/engine.h"

namespace vmcrypt::kms {

class AuditLog {
 public:
  // Opens `path` for appending (created with mode 0640).
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();

  void Record(int64_t time, const ClientIdentity& client, const std::string& peer,
              const std::vector<OperationRecord>& records);

 private:
  explicit AuditLog(std::FILE* f) : file_(f) {}
  std::mutex mu_;
  std::FILE* file_;
};

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_AUDIT_H_
