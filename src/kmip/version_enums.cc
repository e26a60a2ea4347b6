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
      break;
  }
  // The reasons KMIP 1.3+ and 2.x added (KMIP 2.1 §11.27), by name.
  const std::string_view name = ttlv::dict::EnumName("ResultReason", static_cast<uint32_t>(reason));
  static const struct {
    std::string_view name;
    StatusCode code;
  } kByName[] = {
      {"ObjectNotFound", StatusCode::kNotFound},
      {"AttributeNotFound", StatusCode::kNotFound},
      {"AttributeInstanceNotFound", StatusCode::kNotFound},
      {"WrappingObjectNotFound", StatusCode::kNotFound},
      {"WrongKeyLifecycleState", StatusCode::kFailedPrecondition},
      {"ObjectDestroyed", StatusCode::kFailedPrecondition},
      {"WrappingObjectDestroyed", StatusCode::kFailedPrecondition},
      {"WrappingObjectArchived", StatusCode::kFailedPrecondition},
      {"IncompatibleCryptographicUsageMask", StatusCode::kPermissionDenied},
      {"NotAuthorised", StatusCode::kPermissionDenied},
      {"Sensitive", StatusCode::kPermissionDenied},
      {"NotExtractable", StatusCode::kPermissionDenied},
      {"UsageLimitExceeded", StatusCode::kOutOfRange},
      {"ServerLimitExceeded", StatusCode::kOutOfRange},
      {"NumericRange", StatusCode::kOutOfRange},
      {"InvalidAttribute", StatusCode::kInvalidArgument},
      {"InvalidAttributeValue", StatusCode::kInvalidArgument},
      {"InvalidObjectType", StatusCode::kInvalidArgument},
      {"IllegalObjectType", StatusCode::kInvalidArgument},
      {"InvalidCorrelationValue", StatusCode::kInvalidArgument},
      {"InvalidCSR", StatusCode::kInvalidArgument},
      {"InvalidDataType", StatusCode::kInvalidArgument},
      {"ReadOnlyAttribute", StatusCode::kInvalidArgument},
      {"AttributeReadOnly", StatusCode::kInvalidArgument},
      {"AttributeSingleValued", StatusCode::kInvalidArgument},
      {"MultiValuedAttribute", StatusCode::kInvalidArgument},
      {"NonUniqueNameAttribute", StatusCode::kAlreadyExists},
      {"BadCryptographicParameters", StatusCode::kInvalidArgument},
      {"MissingInitializationVector", StatusCode::kInvalidArgument},
      {"UnknownEnumeration", StatusCode::kInvalidArgument},
      {"UnknownTag", StatusCode::kInvalidArgument},
      {"UnsupportedAttribute", StatusCode::kUnimplemented},
      {"UnsupportedCryptographicParameters", StatusCode::kUnimplemented},
      {"UnsupportedProtocolVersion", StatusCode::kUnimplemented},
      {"KeyWrapTypeNotSupported", StatusCode::kUnimplemented},
      {"CryptographicFailure", StatusCode::kDataLoss},
  };
  for (const auto& e : kByName) {
    if (e.name == name) return e.code;
  }
  return StatusCode::kInternal;
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
