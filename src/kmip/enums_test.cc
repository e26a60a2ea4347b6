// Checks every enumerator of enums.h against the dictionary generated from
// the specifications (KMIP 1.4 §9.1.3.2, 2.1 §11): by value and by name.
#include "vmcrypt/kmip/enums.h"

#include <gtest/gtest.h>

#include <utility>

#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/dictionary.h"

namespace vmcrypt::kmip {
namespace {

namespace dict = ttlv::dict;

template <typename E>
void ExpectEnum(std::string_view enum_id, E value, const char* name) {
  const uint32_t v = static_cast<uint32_t>(value);
  EXPECT_EQ(dict::EnumValue(enum_id, name), v) << enum_id << " " << name;
  // The 1.x and 2.x names may differ; one of them must be `name`.
  EXPECT_TRUE(dict::EnumName(enum_id, v, 1) == name || dict::EnumName(enum_id, v, 2) == name)
      << enum_id << " " << name;
}

TEST(EnumsTest, OperationMatchesTheDictionary) {
  const std::pair<Operation, const char*> kValues[] = {
      {Operation::kCreate, "Create"},
      {Operation::kCreateKeyPair, "CreateKeyPair"},
      {Operation::kRegister, "Register"},
      {Operation::kReKey, "ReKey"},
      {Operation::kDeriveKey, "DeriveKey"},
      {Operation::kCertify, "Certify"},
      {Operation::kReCertify, "ReCertify"},
      {Operation::kLocate, "Locate"},
      {Operation::kCheck, "Check"},
      {Operation::kGet, "Get"},
      {Operation::kGetAttributes, "GetAttributes"},
      {Operation::kGetAttributeList, "GetAttributeList"},
      {Operation::kAddAttribute, "AddAttribute"},
      {Operation::kModifyAttribute, "ModifyAttribute"},
      {Operation::kDeleteAttribute, "DeleteAttribute"},
      {Operation::kObtainLease, "ObtainLease"},
      {Operation::kGetUsageAllocation, "GetUsageAllocation"},
      {Operation::kActivate, "Activate"},
      {Operation::kRevoke, "Revoke"},
      {Operation::kDestroy, "Destroy"},
      {Operation::kArchive, "Archive"},
      {Operation::kRecover, "Recover"},
      {Operation::kValidate, "Validate"},
      {Operation::kQuery, "Query"},
      {Operation::kCancel, "Cancel"},
      {Operation::kPoll, "Poll"},
      {Operation::kNotify, "Notify"},
      {Operation::kPut, "Put"},
      {Operation::kReKeyKeyPair, "ReKeyKeyPair"},
      {Operation::kDiscoverVersions, "DiscoverVersions"},
      {Operation::kEncrypt, "Encrypt"},
      {Operation::kDecrypt, "Decrypt"},
      {Operation::kSign, "Sign"},
      {Operation::kSignatureVerify, "SignatureVerify"},
      {Operation::kMac, "MAC"},
      {Operation::kMacVerify, "MACVerify"},
      {Operation::kRngRetrieve, "RNGRetrieve"},
      {Operation::kRngSeed, "RNGSeed"},
      {Operation::kHash, "Hash"},
      {Operation::kCreateSplitKey, "CreateSplitKey"},
      {Operation::kJoinSplitKey, "JoinSplitKey"},
      {Operation::kImport, "Import"},
      {Operation::kExport, "Export"},
      {Operation::kLog, "Log"},
      {Operation::kLogin, "Login"},
      {Operation::kLogout, "Logout"},
      {Operation::kDelegatedLogin, "DelegatedLogin"},
      {Operation::kAdjustAttribute, "AdjustAttribute"},
      {Operation::kSetAttribute, "SetAttribute"},
      {Operation::kSetEndpointRole, "SetEndpointRole"},
      {Operation::kPkcs11, "PKCS_11"},
      {Operation::kInterop, "Interop"},
      {Operation::kReProvision, "ReProvision"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("Operation", value, name);
}

TEST(EnumsTest, ObjectTypeMatchesTheDictionary) {
  const std::pair<ObjectType, const char*> kValues[] = {
      {ObjectType::kCertificate, "Certificate"},
      {ObjectType::kSymmetricKey, "SymmetricKey"},
      {ObjectType::kPublicKey, "PublicKey"},
      {ObjectType::kPrivateKey, "PrivateKey"},
      {ObjectType::kSplitKey, "SplitKey"},
      {ObjectType::kTemplate, "Template"},
      {ObjectType::kSecretData, "SecretData"},
      {ObjectType::kOpaqueObject, "OpaqueObject"},
      {ObjectType::kPgpKey, "PGPKey"},
      {ObjectType::kCertificateRequest, "CertificateRequest"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("ObjectType", value, name);
}

TEST(EnumsTest, ResultStatusMatchesTheDictionary) {
  const std::pair<ResultStatus, const char*> kValues[] = {
      {ResultStatus::kSuccess, "Success"},
      {ResultStatus::kOperationFailed, "OperationFailed"},
      {ResultStatus::kOperationPending, "OperationPending"},
      {ResultStatus::kOperationUndone, "OperationUndone"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("ResultStatus", value, name);
}

TEST(EnumsTest, ResultReasonMatchesTheDictionary) {
  const std::pair<ResultReason, const char*> kValues[] = {
      {ResultReason::kItemNotFound, "ItemNotFound"},
      {ResultReason::kResponseTooLarge, "ResponseTooLarge"},
      {ResultReason::kAuthenticationNotSuccessful, "AuthenticationNotSuccessful"},
      {ResultReason::kInvalidMessage, "InvalidMessage"},
      {ResultReason::kOperationNotSupported, "OperationNotSupported"},
      {ResultReason::kMissingData, "MissingData"},
      {ResultReason::kInvalidField, "InvalidField"},
      {ResultReason::kFeatureNotSupported, "FeatureNotSupported"},
      {ResultReason::kOperationCanceledByRequester, "OperationCanceledByRequester"},
      {ResultReason::kCryptographicFailure, "CryptographicFailure"},
      {ResultReason::kIllegalOperation, "IllegalOperation"},
      {ResultReason::kPermissionDenied, "PermissionDenied"},
      {ResultReason::kObjectArchived, "ObjectArchived"},
      {ResultReason::kIndexOutOfBounds, "IndexOutOfBounds"},
      {ResultReason::kApplicationNamespaceNotSupported, "ApplicationNamespaceNotSupported"},
      {ResultReason::kKeyFormatTypeNotSupported, "KeyFormatTypeNotSupported"},
      {ResultReason::kKeyCompressionTypeNotSupported, "KeyCompressionTypeNotSupported"},
      {ResultReason::kEncodingOptionError, "EncodingOptionError"},
      {ResultReason::kKeyValueNotPresent, "KeyValueNotPresent"},
      {ResultReason::kAttestationRequired, "AttestationRequired"},
      {ResultReason::kAttestationFailed, "AttestationFailed"},
      {ResultReason::kSensitive, "Sensitive"},
      {ResultReason::kNotExtractable, "NotExtractable"},
      {ResultReason::kObjectAlreadyExists, "ObjectAlreadyExists"},
      {ResultReason::kGeneralFailure, "GeneralFailure"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("ResultReason", value, name);
}

TEST(EnumsTest, StateMatchesTheDictionary) {
  const std::pair<State, const char*> kValues[] = {
      {State::kPreActive, "PreActive"},     {State::kActive, "Active"},
      {State::kDeactivated, "Deactivated"}, {State::kCompromised, "Compromised"},
      {State::kDestroyed, "Destroyed"},     {State::kDestroyedCompromised, "DestroyedCompromised"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("State", value, name);
}

TEST(EnumsTest, CryptographicAlgorithmMatchesTheDictionary) {
  const std::pair<CryptographicAlgorithm, const char*> kValues[] = {
      {CryptographicAlgorithm::kDes, "DES"},
      {CryptographicAlgorithm::kTripleDes, "DES3"},
      {CryptographicAlgorithm::kAes, "AES"},
      {CryptographicAlgorithm::kRsa, "RSA"},
      {CryptographicAlgorithm::kDsa, "DSA"},
      {CryptographicAlgorithm::kEcdsa, "ECDSA"},
      {CryptographicAlgorithm::kHmacSha1, "HMAC_SHA1"},
      {CryptographicAlgorithm::kHmacSha224, "HMAC_SHA224"},
      {CryptographicAlgorithm::kHmacSha256, "HMAC_SHA256"},
      {CryptographicAlgorithm::kHmacSha384, "HMAC_SHA384"},
      {CryptographicAlgorithm::kHmacSha512, "HMAC_SHA512"},
      {CryptographicAlgorithm::kHmacMd5, "HMAC_MD5"},
      {CryptographicAlgorithm::kDh, "DH"},
      {CryptographicAlgorithm::kEcdh, "ECDH"},
      {CryptographicAlgorithm::kEcmqv, "ECMQV"},
      {CryptographicAlgorithm::kEc, "EC"},
      {CryptographicAlgorithm::kChaCha20, "ChaCha20"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("CryptographicAlgorithm", value, name);
}

TEST(EnumsTest, KeyFormatTypeMatchesTheDictionary) {
  const std::pair<KeyFormatType, const char*> kValues[] = {
      {KeyFormatType::kRaw, "Raw"},
      {KeyFormatType::kOpaque, "Opaque"},
      {KeyFormatType::kPkcs1, "PKCS_1"},
      {KeyFormatType::kPkcs8, "PKCS_8"},
      {KeyFormatType::kX509, "X_509"},
      {KeyFormatType::kEcPrivateKey, "ECPrivateKey"},
      {KeyFormatType::kTransparentSymmetricKey, "TransparentSymmetricKey"},
      {KeyFormatType::kTransparentDsaPrivateKey, "TransparentDSAPrivateKey"},
      {KeyFormatType::kTransparentDsaPublicKey, "TransparentDSAPublicKey"},
      {KeyFormatType::kTransparentRsaPrivateKey, "TransparentRSAPrivateKey"},
      {KeyFormatType::kTransparentRsaPublicKey, "TransparentRSAPublicKey"},
      {KeyFormatType::kTransparentDhPrivateKey, "TransparentDHPrivateKey"},
      {KeyFormatType::kTransparentDhPublicKey, "TransparentDHPublicKey"},
      {KeyFormatType::kTransparentEcdsaPrivateKey, "TransparentECDSAPrivateKey"},
      {KeyFormatType::kTransparentEcdsaPublicKey, "TransparentECDSAPublicKey"},
      {KeyFormatType::kTransparentEcdhPrivateKey, "TransparentECDHPrivateKey"},
      {KeyFormatType::kTransparentEcdhPublicKey, "TransparentECDHPublicKey"},
      {KeyFormatType::kTransparentEcmqvPrivateKey, "TransparentECMQVPrivateKey"},
      {KeyFormatType::kTransparentEcmqvPublicKey, "TransparentECMQVPublicKey"},
      {KeyFormatType::kTransparentEcPrivateKey, "TransparentECPrivateKey"},
      {KeyFormatType::kTransparentEcPublicKey, "TransparentECPublicKey"},
      {KeyFormatType::kPkcs12, "PKCS_12"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("KeyFormatType", value, name);
}

TEST(EnumsTest, NameTypeMatchesTheDictionary) {
  const std::pair<NameType, const char*> kValues[] = {
      {NameType::kUninterpretedTextString, "UninterpretedTextString"},
      {NameType::kUri, "URI"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("NameType", value, name);
}

TEST(EnumsTest, RevocationReasonCodeMatchesTheDictionary) {
  const std::pair<RevocationReasonCode, const char*> kValues[] = {
      {RevocationReasonCode::kUnspecified, "Unspecified"},
      {RevocationReasonCode::kKeyCompromise, "KeyCompromise"},
      {RevocationReasonCode::kCaCompromise, "CACompromise"},
      {RevocationReasonCode::kAffiliationChanged, "AffiliationChanged"},
      {RevocationReasonCode::kSuperseded, "Superseded"},
      {RevocationReasonCode::kCessationOfOperation, "CessationOfOperation"},
      {RevocationReasonCode::kPrivilegeWithdrawn, "PrivilegeWithdrawn"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("RevocationReasonCode", value, name);
}

TEST(EnumsTest, QueryFunctionMatchesTheDictionary) {
  const std::pair<QueryFunction, const char*> kValues[] = {
      {QueryFunction::kQueryOperations, "QueryOperations"},
      {QueryFunction::kQueryObjects, "QueryObjects"},
      {QueryFunction::kQueryServerInformation, "QueryServerInformation"},
      {QueryFunction::kQueryApplicationNamespaces, "QueryApplicationNamespaces"},
      {QueryFunction::kQueryExtensionList, "QueryExtensionList"},
      {QueryFunction::kQueryExtensionMap, "QueryExtensionMap"},
      {QueryFunction::kQueryAttestationTypes, "QueryAttestationTypes"},
      {QueryFunction::kQueryRngs, "QueryRNGs"},
      {QueryFunction::kQueryValidations, "QueryValidations"},
      {QueryFunction::kQueryProfiles, "QueryProfiles"},
      {QueryFunction::kQueryCapabilities, "QueryCapabilities"},
      {QueryFunction::kQueryClientRegistrationMethods, "QueryClientRegistrationMethods"},
      {QueryFunction::kQueryDefaultsInformation, "QueryDefaultsInformation"},
      {QueryFunction::kQueryStorageProtectionMasks, "QueryStorageProtectionMasks"},
  };
  for (const auto& [value, name] : kValues) ExpectEnum("QueryFunction", value, name);
}

TEST(EnumsTest, UsageMaskBitsMatchTheDictionary) {
  const std::pair<int32_t, const char*> kBits[] = {
      {usage::kSign, "Sign"},           {usage::kVerify, "Verify"},
      {usage::kEncrypt, "Encrypt"},     {usage::kDecrypt, "Decrypt"},
      {usage::kWrapKey, "WrapKey"},     {usage::kUnwrapKey, "UnwrapKey"},
      {usage::kExport, "Export"},       {usage::kMacGenerate, "MACGenerate"},
      {usage::kMacVerify, "MACVerify"}, {usage::kDeriveKey, "DeriveKey"},
  };
  for (const auto& [bit, name] : kBits) {
    EXPECT_EQ(dict::MaskBit("CryptographicUsageMask", name), static_cast<uint32_t>(bit)) << name;
    EXPECT_EQ(dict::MaskBitName("CryptographicUsageMask", static_cast<uint32_t>(bit)), name);
  }
}

TEST(EnumsTest, SpecNamesForMessages) {
  EXPECT_EQ(OperationName(Operation::kGetAttributes), "Get Attributes");
  EXPECT_EQ(ResultReasonName(ResultReason::kItemNotFound), "Item Not Found");
  EXPECT_EQ(ObjectTypeName(ObjectType::kSymmetricKey), "Symmetric Key");
  EXPECT_EQ(StateName(State::kPreActive), "Pre-Active");
  EXPECT_EQ(OperationName(static_cast<Operation>(0x7777)), "");
}

TEST(EnumsTest, ParseProtocolVersion) {
  ProtocolVersion v;
  ASSERT_TRUE(ParseProtocolVersion("2.1", &v));
  EXPECT_EQ(v, kKmip21);
  EXPECT_FALSE(ParseProtocolVersion("2", &v));
  EXPECT_FALSE(ParseProtocolVersion("2.x", &v));
  EXPECT_FALSE(ParseProtocolVersion(".1", &v));
  EXPECT_EQ(kKmip14.ToString(), "1.4");
  EXPECT_TRUE(kKmip20.is_v2());
  EXPECT_FALSE(kKmip14.is_v2());
}

}  // namespace
}  // namespace vmcrypt::kmip
