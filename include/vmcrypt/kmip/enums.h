// The KMIP enumerations the code uses by name. Values are those of the
// specifications (KMIP 1.4 §9.1.3.2, 2.1 §11); enums_test.cc checks every
// constant here against the generated dictionary. Values not listed here are
// still carried (as their numbers) and printed by name by the XML and JSON
// encodings.
#ifndef VMCRYPT_KMIP_ENUMS_H_
#define VMCRYPT_KMIP_ENUMS_H_

#include <cstdint>
#include <string_view>

#include "vmcrypt/base/status.h"

namespace vmcrypt::kmip {

enum class Operation : uint32_t {
  kCreate = 0x01,
  kCreateKeyPair = 0x02,
  kRegister = 0x03,
  kReKey = 0x04,
  kDeriveKey = 0x05,
  kCertify = 0x06,
  kReCertify = 0x07,
  kLocate = 0x08,
  kCheck = 0x09,
  kGet = 0x0A,
  kGetAttributes = 0x0B,
  kGetAttributeList = 0x0C,
  kAddAttribute = 0x0D,
  kModifyAttribute = 0x0E,
  kDeleteAttribute = 0x0F,
  kObtainLease = 0x10,
  kGetUsageAllocation = 0x11,
  kActivate = 0x12,
  kRevoke = 0x13,
  kDestroy = 0x14,
  kArchive = 0x15,
  kRecover = 0x16,
  kValidate = 0x17,
  kQuery = 0x18,
  kCancel = 0x19,
  kPoll = 0x1A,
  kNotify = 0x1B,
  kPut = 0x1C,
  kReKeyKeyPair = 0x1D,
  kDiscoverVersions = 0x1E,
  kEncrypt = 0x1F,
  kDecrypt = 0x20,
  kSign = 0x21,
  kSignatureVerify = 0x22,
  kMac = 0x23,
  kMacVerify = 0x24,
  kRngRetrieve = 0x25,
  kRngSeed = 0x26,
  kHash = 0x27,
  kCreateSplitKey = 0x28,
  kJoinSplitKey = 0x29,
  kImport = 0x2A,
  kExport = 0x2B,
  kLog = 0x2C,
  kLogin = 0x2D,
  kLogout = 0x2E,
  kDelegatedLogin = 0x2F,
  kAdjustAttribute = 0x30,
  kSetAttribute = 0x31,
  kSetEndpointRole = 0x32,
  kPkcs11 = 0x33,
  kInterop = 0x34,
  kReProvision = 0x35,
};

enum class ObjectType : uint32_t {
  kCertificate = 0x01,
  kSymmetricKey = 0x02,
  kPublicKey = 0x03,
  kPrivateKey = 0x04,
  kSplitKey = 0x05,
  kTemplate = 0x06,  // KMIP 1.x only
  kSecretData = 0x07,
  kOpaqueObject = 0x08,
  kPgpKey = 0x09,
  kCertificateRequest = 0x0A,
};

enum class ResultStatus : uint32_t {
  kSuccess = 0x00,
  kOperationFailed = 0x01,
  kOperationPending = 0x02,
  kOperationUndone = 0x03,
};

enum class ResultReason : uint32_t {
  kItemNotFound = 0x01,
  kResponseTooLarge = 0x02,
  kAuthenticationNotSuccessful = 0x03,
  kInvalidMessage = 0x04,
  kOperationNotSupported = 0x05,
  kMissingData = 0x06,
  kInvalidField = 0x07,
  kFeatureNotSupported = 0x08,
  kOperationCanceledByRequester = 0x09,
  kCryptographicFailure = 0x0A,
  kIllegalOperation = 0x0B,
  kPermissionDenied = 0x0C,
  kObjectArchived = 0x0D,
  kIndexOutOfBounds = 0x0E,
  kApplicationNamespaceNotSupported = 0x0F,
  kKeyFormatTypeNotSupported = 0x10,
  kKeyCompressionTypeNotSupported = 0x11,
  kEncodingOptionError = 0x12,
  kKeyValueNotPresent = 0x13,
  kAttestationRequired = 0x14,
  kAttestationFailed = 0x15,
  kSensitive = 0x16,
  kNotExtractable = 0x17,
  kObjectAlreadyExists = 0x18,
  kGeneralFailure = 0x100,
};

enum class State : uint32_t {
  kPreActive = 0x01,
  kActive = 0x02,
  kDeactivated = 0x03,
  kCompromised = 0x04,
  kDestroyed = 0x05,
  kDestroyedCompromised = 0x06,
};

enum class CryptographicAlgorithm : uint32_t {
  kDes = 0x01,
  kTripleDes = 0x02,
  kAes = 0x03,
  kRsa = 0x04,
  kDsa = 0x05,
  kEcdsa = 0x06,
  kHmacSha1 = 0x07,
  kHmacSha224 = 0x08,
  kHmacSha256 = 0x09,
  kHmacSha384 = 0x0A,
  kHmacSha512 = 0x0B,
  kHmacMd5 = 0x0C,
  kDh = 0x0D,
  kEcdh = 0x0E,
  kEcmqv = 0x0F,
  kEc = 0x1A,
  kChaCha20 = 0x1C,
};

enum class KeyFormatType : uint32_t {
  kRaw = 0x01,
  kOpaque = 0x02,
  kPkcs1 = 0x03,
  kPkcs8 = 0x04,
  kX509 = 0x05,
  kEcPrivateKey = 0x06,
  kTransparentSymmetricKey = 0x07,
  kTransparentDsaPrivateKey = 0x08,
  kTransparentDsaPublicKey = 0x09,
  kTransparentRsaPrivateKey = 0x0A,
  kTransparentRsaPublicKey = 0x0B,
  kTransparentDhPrivateKey = 0x0C,
  kTransparentDhPublicKey = 0x0D,
  kTransparentEcdsaPrivateKey = 0x0E,  // KMIP 1.x
  kTransparentEcdsaPublicKey = 0x0F,   // KMIP 1.x
  kTransparentEcdhPrivateKey = 0x10,   // KMIP 1.x
  kTransparentEcdhPublicKey = 0x11,    // KMIP 1.x
  kTransparentEcmqvPrivateKey = 0x12,  // KMIP 1.x
  kTransparentEcmqvPublicKey = 0x13,   // KMIP 1.x
  kTransparentEcPrivateKey = 0x14,
  kTransparentEcPublicKey = 0x15,
  kPkcs12 = 0x16,
};

enum class NameType : uint32_t {
  kUninterpretedTextString = 0x01,
  kUri = 0x02,
};

enum class RevocationReasonCode : uint32_t {
  kUnspecified = 0x01,
  kKeyCompromise = 0x02,
  kCaCompromise = 0x03,
  kAffiliationChanged = 0x04,
  kSuperseded = 0x05,
  kCessationOfOperation = 0x06,
  kPrivilegeWithdrawn = 0x07,
};

enum class QueryFunction : uint32_t {
  kQueryOperations = 0x01,
  kQueryObjects = 0x02,
  kQueryServerInformation = 0x03,
  kQueryApplicationNamespaces = 0x04,
  kQueryExtensionList = 0x05,
  kQueryExtensionMap = 0x06,
  kQueryAttestationTypes = 0x07,
  kQueryRngs = 0x08,
  kQueryValidations = 0x09,
  kQueryProfiles = 0x0A,
  kQueryCapabilities = 0x0B,
  kQueryClientRegistrationMethods = 0x0C,
  kQueryDefaultsInformation = 0x0D,
  kQueryStorageProtectionMasks = 0x0E,
};

// Cryptographic Usage Mask bits (KMIP 1.4 §9.1.3.3.1).
namespace usage {
inline constexpr int32_t kSign = 0x01;
inline constexpr int32_t kVerify = 0x02;
inline constexpr int32_t kEncrypt = 0x04;
inline constexpr int32_t kDecrypt = 0x08;
inline constexpr int32_t kWrapKey = 0x10;
inline constexpr int32_t kUnwrapKey = 0x20;
inline constexpr int32_t kExport = 0x40;
inline constexpr int32_t kMacGenerate = 0x80;
inline constexpr int32_t kMacVerify = 0x100;
inline constexpr int32_t kDeriveKey = 0x200;
}  // namespace usage

// The Status code that best matches a KMIP Result Reason (Item Not Found ->
// NOT_FOUND, Permission Denied -> PERMISSION_DENIED, ...; INTERNAL otherwise).
StatusCode StatusCodeFor(ResultReason reason);

// Spec-style names for messages: "Get Attributes", "Item Not Found"; empty
// when the dictionary has none.
std::string_view OperationName(Operation op);
std::string_view ResultReasonName(ResultReason reason);
std::string_view ObjectTypeName(ObjectType type);
std::string_view StateName(State state);

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_ENUMS_H_
