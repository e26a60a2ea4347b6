#include <cstdlib>
#include <string>

#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/dictionary.h"

namespace vmcrypt::kmip {

bool ParseProtocolVersion(const std::string& text, ProtocolVersion* out) {
  size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != dot && (text[i] < '0' || text[i] > '9')) return false;
  }
  if (dot > 4 || text.size() - dot > 5) return false;
  out->major = std::atoi(text.substr(0, dot).c_str());
  out->minor = std::atoi(text.substr(dot + 1).c_str());
  return true;
}

StatusCode StatusCodeFor(ResultReason reason) {
  switch (reason) {
    case ResultReason::kItemNotFound:
      return StatusCode::kNotFound;
    case ResultReason::kAuthenticationNotSuccessful:
      return StatusCode::kUnauthenticated;
    case ResultReason::kPermissionDenied:
      return StatusCode::kPermissionDenied;
    case ResultReason::kInvalidMessage:
    case ResultReason::kInvalidField:
    case ResultReason::kMissingData:
      return StatusCode::kInvalidArgument;
    case ResultReason::kOperationNotSupported:
    case ResultReason::kFeatureNotSupported:
    case ResultReason::kKeyFormatTypeNotSupported:
    case ResultReason::kKeyCompressionTypeNotSupported:
      return StatusCode::kUnimplemented;
    case ResultReason::kIllegalOperation:
    case ResultReason::kObjectArchived:
    case ResultReason::kKeyValueNotPresent:
      return StatusCode::kFailedPrecondition;
    case ResultReason::kObjectAlreadyExists:
      return StatusCode::kAlreadyExists;
    case ResultReason::kIndexOutOfBounds:
    case ResultReason::kResponseTooLarge:
      return StatusCode::kOutOfRange;
    default:
      return StatusCode::kInternal;
  }
}

std::string_view OperationName(Operation op) {
  return ttlv::dict::EnumSpecName("Operation", static_cast<uint32_t>(op));
}
std::string_view ResultReasonName(ResultReason reason) {
  return ttlv::dict::EnumSpecName("ResultReason", static_cast<uint32_t>(reason));
}
std::string_view ObjectTypeName(ObjectType type) {
  return ttlv::dict::EnumSpecName("ObjectType", static_cast<uint32_t>(type));
}
std::string_view StateName(State state) {
  return ttlv::dict::EnumSpecName("State", static_cast<uint32_t>(state));
}

}  // namespace vmcrypt::kmip
