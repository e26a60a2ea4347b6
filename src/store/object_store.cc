#include "vmcrypt/store/object_store.h"

#include <string>

namespace vmcrypt::store {
namespace {
constexpr std::string_view kConcurrentUpdate = "concurrent update";
}  // namespace

Status ConcurrentUpdateError(std::string_view uid) {
  std::string message(kConcurrentUpdate);
  message += ": object ";
  message += uid;
  message += " was modified since it was read";
  return FailedPreconditionError(std::move(message));
}

bool IsConcurrentUpdate(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().starts_with(kConcurrentUpdate);
}

}  // namespace vmcrypt::store
