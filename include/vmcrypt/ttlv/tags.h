// Tag values the code refers to by name (KMIP 1.4 §9.1.3.1, KMIP 2.1 §11.56).
// The full dictionary is in dictionary.h; tags_test.cc checks every constant
// here against it.
#ifndef VMCRYPT_TTLV_TAGS_H_
#define VMCRYPT_TTLV_TAGS_H_

#include <cstdint>

namespace vmcrypt::ttlv::tag {

inline constexpr uint32_t kActivationDate = 0x420001;
inline constexpr uint32_t kAsynchronousIndicator = 0x420007;
inline constexpr uint32_t kAttribute = 0x420008;
inline constexpr uint32_t kAttributeIndex = 0x420009;
inline constexpr uint32_t kAttributeName = 0x42000A;
inline constexpr uint32_t kAttributeValue = 0x42000B;
inline constexpr uint32_t kAuthentication = 0x42000C;
inline constexpr uint32_t kBatchCount = 0x42000D;
inline constexpr uint32_t kBatchErrorContinuationOption = 0x42000E;
inline constexpr uint32_t kBatchItem = 0x42000F;
inline constexpr uint32_t kBatchOrderOption = 0x420010;
inline constexpr uint32_t kBlockCipherMode = 0x420011;
inline constexpr uint32_t kCertificate = 0x420013;
inline constexpr uint32_t kCertificateType = 0x42001D;
inline constexpr uint32_t kCertificateValue = 0x42001E;
inline constexpr uint32_t kCompromiseOccurrenceDate = 0x420021;
inline constexpr uint32_t kCredential = 0x420023;
inline constexpr uint32_t kCredentialType = 0x420024;
inline constexpr uint32_t kCredentialValue = 0x420025;
inline constexpr uint32_t kCryptographicAlgorithm = 0x420028;
inline constexpr uint32_t kCryptographicLength = 0x42002A;
inline constexpr uint32_t kCryptographicParameters = 0x42002B;
inline constexpr uint32_t kCryptographicUsageMask = 0x42002C;
inline constexpr uint32_t kDeactivationDate = 0x42002F;
inline constexpr uint32_t kDestroyDate = 0x420033;
inline constexpr uint32_t kEncryptionKeyInformation = 0x420036;
inline constexpr uint32_t kInitialDate = 0x420039;
inline constexpr uint32_t kIvCounterNonce = 0x42003D;
inline constexpr uint32_t kKeyBlock = 0x420040;
inline constexpr uint32_t kKeyCompressionType = 0x420041;
inline constexpr uint32_t kKeyFormatType = 0x420042;
inline constexpr uint32_t kKeyMaterial = 0x420043;
inline constexpr uint32_t kKeyValue = 0x420045;
inline constexpr uint32_t kKeyWrappingData = 0x420046;
inline constexpr uint32_t kKeyWrappingSpecification = 0x420047;
inline constexpr uint32_t kLastChangeDate = 0x420048;
inline constexpr uint32_t kLink = 0x42004A;
inline constexpr uint32_t kMacSignature = 0x42004D;
inline constexpr uint32_t kMaximumItems = 0x42004F;
inline constexpr uint32_t kMaximumResponseSize = 0x420050;
inline constexpr uint32_t kName = 0x420053;
inline constexpr uint32_t kNameType = 0x420054;
inline constexpr uint32_t kNameValue = 0x420055;
inline constexpr uint32_t kObjectGroup = 0x420056;
inline constexpr uint32_t kObjectType = 0x420057;
inline constexpr uint32_t kOpaqueDataType = 0x420059;
inline constexpr uint32_t kOpaqueDataValue = 0x42005A;
inline constexpr uint32_t kOpaqueObject = 0x42005B;
inline constexpr uint32_t kOperation = 0x42005C;
inline constexpr uint32_t kPaddingMethod = 0x42005F;
inline constexpr uint32_t kPrivateKey = 0x420064;
inline constexpr uint32_t kPrivateKeyTemplateAttribute = 0x420065;
inline constexpr uint32_t kPrivateKeyUniqueIdentifier = 0x420066;
inline constexpr uint32_t kProtocolVersion = 0x420069;
inline constexpr uint32_t kProtocolVersionMajor = 0x42006A;
inline constexpr uint32_t kProtocolVersionMinor = 0x42006B;
inline constexpr uint32_t kPublicKey = 0x42006D;
inline constexpr uint32_t kPublicKeyTemplateAttribute = 0x42006E;
inline constexpr uint32_t kPublicKeyUniqueIdentifier = 0x42006F;
inline constexpr uint32_t kQueryFunction = 0x420074;
inline constexpr uint32_t kRequestHeader = 0x420077;
inline constexpr uint32_t kRequestMessage = 0x420078;
inline constexpr uint32_t kRequestPayload = 0x420079;
inline constexpr uint32_t kResponseHeader = 0x42007A;
inline constexpr uint32_t kResponseMessage = 0x42007B;
inline constexpr uint32_t kResponsePayload = 0x42007C;
inline constexpr uint32_t kResultMessage = 0x42007D;
inline constexpr uint32_t kResultReason = 0x42007E;
inline constexpr uint32_t kResultStatus = 0x42007F;
inline constexpr uint32_t kRevocationMessage = 0x420080;
inline constexpr uint32_t kRevocationReason = 0x420081;
inline constexpr uint32_t kRevocationReasonCode = 0x420082;
inline constexpr uint32_t kSecretData = 0x420085;
inline constexpr uint32_t kSecretDataType = 0x420086;
inline constexpr uint32_t kServerInformation = 0x420088;
inline constexpr uint32_t kState = 0x42008D;
inline constexpr uint32_t kStorageStatusMask = 0x42008E;
inline constexpr uint32_t kSymmetricKey = 0x42008F;
inline constexpr uint32_t kTemplateAttribute = 0x420091;
inline constexpr uint32_t kTimeStamp = 0x420092;
inline constexpr uint32_t kUniqueBatchItemId = 0x420093;
inline constexpr uint32_t kUniqueIdentifier = 0x420094;
inline constexpr uint32_t kVendorIdentification = 0x42009D;
inline constexpr uint32_t kWrappingMethod = 0x42009E;
inline constexpr uint32_t kObjectGroupMember = 0x4200AC;
inline constexpr uint32_t kData = 0x4200C2;
inline constexpr uint32_t kDataLength = 0x4200C4;
inline constexpr uint32_t kOffsetItems = 0x4200D4;
inline constexpr uint32_t kAttributes = 0x420125;
inline constexpr uint32_t kCommonAttributes = 0x420126;
inline constexpr uint32_t kPrivateKeyAttributes = 0x420127;
inline constexpr uint32_t kPublicKeyAttributes = 0x420128;
inline constexpr uint32_t kAttributeReference = 0x42013B;

}  // namespace vmcrypt::ttlv::tag

#endif  // VMCRYPT_TTLV_TAGS_H_
