// Status and Result<T>: errors as values at component boundaries.
//
// A Status is either OK or an error code with a human-readable message.
// Result<T> holds either a T or a non-OK Status. Neither throws. Messages
// must never contain key material (DEVELOPERS.md, non-negotiable 4).
//
// Thread-safety: values; distinct objects may be used from distinct threads.
#ifndef VMCRYPT_BASE_STATUS_H_
#define VMCRYPT_BASE_STATUS_H_

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vmcrypt {

// Error codes, modelled on absl/grpc canonical codes plus the ones a KMIP
// server needs to map to a KMIP Result Reason.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // malformed input (parse errors, bad values)
  kNotFound = 2,         // a named object does not exist
  kAlreadyExists = 3,
  kPermissionDenied = 4,    // authenticated but not allowed
  kUnauthenticated = 5,     // identity could not be established
  kFailedPrecondition = 6,  // object in the wrong state
  kOutOfRange = 7,          // a limit was exceeded
  kUnimplemented = 8,       // recognised but not supported
  kUnavailable = 9,         // peer unreachable, connection failed
  kDeadlineExceeded = 10,   // timeout
  kDataLoss = 11,           // stored data corrupt or tampered
  kInternal = 12,           // a bug or an unexpected library failure
  kCancelled = 13,
};

// Returns "INVALID_ARGUMENT" etc.
std::string_view StatusCodeName(StatusCode code);

// The HTTP status (RFC 9110 §15) a REST API answers an error with: 400
// InvalidArgument and OutOfRange, 401 Unauthenticated, 403 PermissionDenied,
// 404 NotFound, 409 AlreadyExists and FailedPrecondition, 501 Unimplemented,
// 503 Unavailable and DeadlineExceeded, 500 for every other code (kOk
// included: callers map only errors).
int HttpStatusFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (no-op when OK).
  Status WithContext(std::string_view prefix) const;

  // A component-specific detail code carried with an error (0 if none), e.g.
  // the KMIP Result Reason a key-server operation failed with.
  int32_t detail() const { return detail_; }
  Status WithDetail(int32_t detail) const {
    Status s = *this;
    s.detail_ = detail;
    return s;
  }

  // Marks a status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int32_t detail_ = 0;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status UnauthenticatedError(std::string message);
Status FailedPreconditionError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status DataLossError(std::string message);
Status InternalError(std::string message);

// Result<T>: a T or an error Status. Constructing a Result from an OK Status
// is a programming error and aborts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : value_(value) {}             // NOLINT: implicit
  Result(T&& value) : value_(std::move(value)) {}       // NOLINT: implicit
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit
    if (status_.ok()) std::abort();
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // Precondition: ok(). Violations abort.
  T& value() & {
    CheckOk();
    return *value_;
  }
  const T& value() const& {
    CheckOk();
    return *value_;
  }
  T&& value() && {
    CheckOk();
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    if (!value_.has_value()) std::abort();
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace vmcrypt

#define VMCRYPT_CONCAT_INNER_(a, b) a##b
#define VMCRYPT_CONCAT_(a, b) VMCRYPT_CONCAT_INNER_(a, b)

// Returns the status from the current function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::vmcrypt::Status vmcrypt_status_ = (expr);        \
    if (!vmcrypt_status_.ok()) return vmcrypt_status_; \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): evaluates a Result<T>; on error returns its
// status, else move-assigns the value to `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, expr) \
  VMCRYPT_ASSIGN_OR_RETURN_IMPL_(VMCRYPT_CONCAT_(vmcrypt_result_, __LINE__), lhs, expr)
#define VMCRYPT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

#endif  // VMCRYPT_BASE_STATUS_H_
