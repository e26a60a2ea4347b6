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
  std::FILE* f = fdopen(fd, "a");
  if (f == nullptr) {
    close(fd);
    return InternalError("cannot open audit log " + path);
  }
  return std::unique_ptr<AuditLog>(new AuditLog(f));
}

AuditLog::~AuditLog() {
  if (file_ != nullptr) std::fclose(file_);
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
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(lines.data(), 1, lines.size(), file_);
  std::fflush(file_);
}

}  // namespace vmcrypt::kms
