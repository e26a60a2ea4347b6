#include "vmcrypt/kms/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include <ctime>
#include "vmcrypt/kmip/enums.h"

namespace vmcrypt::kms {
namespace {

std::string Iso8601(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return InternalError("cannot open audit log " + path + ": " + std::strerror(errno));
  return std::unique_ptr<AuditLog>(new AuditLog(fd));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) close(fd_);
}

void AuditLog::Record(int64_t time, const ClientIdentity& client, const std::string& peer,
                      const std::vector<OperationRecord>& records) {
  std::string lines;
  for (const OperationRecord& r : records) {
    nlohmann::ordered_json j;
    j["time"] = Iso8601(time);
    j["client"] = client.name;
    j["subject"] = client.subject;
    j["fingerprint"] = client.fingerprint;
    j["tenant"] = client.tenant;
    j["peer"] = peer;
    std::string_view op = kmip::OperationName(r.operation);
    j["operation"] =
        op.empty() ? std::to_string(static_cast<uint32_t>(r.operation)) : std::string(op);
    if (!r.uid.empty()) j["uid"] = r.uid;
    j["result"] = r.status == kmip::ResultStatus::kSuccess ? "success" : "failure";
    if (r.reason) {
      std::string_view reason = kmip::ResultReasonName(*r.reason);
      j["reason"] =
          reason.empty() ? std::to_string(static_cast<uint32_t>(*r.reason)) : std::string(reason);
    }
    lines += j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  }
  // One write(2) for the whole batch (see audit.h); a short write, which a
  // regular file gives only when the disk is full, is completed.
  const char* p = lines.data();
  size_t left = lines.size();
  while (left > 0) {
    const ssize_t n = write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the disk is full or failing: the request is still answered
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace vmcrypt::kms
