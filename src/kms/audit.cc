#include "vmcrypt/kms/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string_view>

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

// The length of the well-formed UTF-8 sequence at the start of `s`
// (Unicode 15, table 3-7), or 0 when it is not one: `bad` is then how many
// bytes an invalid sequence spans before the byte that breaks it, which is
// read again as the start of the next one (as nlohmann's decoder does).
size_t Utf8Sequence(std::string_view s, size_t* bad) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c = b(0);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t i = 1; i < n; ++i) {
    const bool ok =
        i < s.size() && (i == 1 ? (b(i) >= lo && b(i) <= hi) : (b(i) >= 0x80 && b(i) <= 0xBF));
    if (!ok) {
      *bad = i;
      return 0;
    }
  }
  return n;
}

// Appends `s` as the inside of a JSON string: " and \ escaped, control
// characters as \b \f \n \r \t or \u00xx, other bytes as they are, and
// each invalid UTF-8 sequence as U+FFFD.
void AppendJsonText(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      size_t bad = 0;
      const size_t n = Utf8Sequence(s.substr(i), &bad);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
        i += bad;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
}

// Closes the previous string value and appends ,"name":"value (open).
void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out += "\",\"";
  out += name;
  out += "\":\"";
  AppendJsonText(out, value);
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
  // Formatted by hand, byte for byte as nlohmann::ordered_json::dump() with
  // invalid UTF-8 replaced would (audit_test checks): building a JSON object
  // per line cost about as much as the rest of a Get's bookkeeping.
  std::string lines;
  lines.reserve(records.size() * 320);
  for (const OperationRecord& r : records) {
    lines += "{\"time\":\"";
    lines += Iso8601(time);
    AppendField(lines, "client", client.name);
    AppendField(lines, "subject", client.subject);
    AppendField(lines, "fingerprint", client.fingerprint);
    AppendField(lines, "tenant", client.tenant);
    AppendField(lines, "peer", peer);
    std::string_view op = kmip::OperationName(r.operation);
    AppendField(lines, "operation",
                op.empty() ? std::to_string(static_cast<uint32_t>(r.operation)) : op);
    if (!r.uid.empty()) AppendField(lines, "uid", r.uid);
    AppendField(lines, "result", r.status == kmip::ResultStatus::kSuccess ? "success" : "failure");
    if (r.reason) {
      std::string_view reason = kmip::ResultReasonName(*r.reason);
      AppendField(lines, "reason",
                  reason.empty() ? std::to_string(static_cast<uint32_t>(*r.reason)) : reason);
    }
    lines += "\"}\n";
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
