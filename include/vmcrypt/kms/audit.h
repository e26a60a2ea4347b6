// The key server's audit log: one JSON line per KMIP operation with the time,
// the client (certificate subject and SHA-256 fingerprint, tenant), the
// operation, the object's identifier, the result and its reason. It never
// holds key bytes. Thread-safe without a lock: each Record() is one write(2)
// on an O_APPEND descriptor, which Linux appends atomically, so lines from
// concurrent requests never interleave; nothing is buffered in the process
// (a kill -9 loses no line that was recorded).
#ifndef VMCRYPT_KMS_AUDIT_H_
#define VMCRYPT_KMS_AUDIT_H_

#include <memory>
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
  explicit AuditLog(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_AUDIT_H_
