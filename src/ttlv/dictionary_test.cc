#include "vmcrypt/ttlv/dictionary.h"

#include <gtest/gtest.h>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::ttlv::dict {
namespace {

TEST(DictionaryTest, TagConstantsMatchTheSpecification) {
  const std::pair<uint32_t, const char*> kTags[] = {
      {tag::kActivationDate, "ActivationDate"},
      {tag::kAttribute, "Attribute"},
      {tag::kAttributeName, "AttributeName"},
      {tag::kAttributeValue, "AttributeValue"},
      {tag::kBatchCount, "BatchCount"},
      {tag::kBatchItem, "BatchItem"},
      {tag::kCryptographicAlgorithm, "CryptographicAlgorithm"},
      {tag::kCryptographicLength, "CryptographicLength"},
      {tag::kCryptographicUsageMask, "CryptographicUsageMask"},
      {tag::kKey, "Key"},
      {tag::kKeyBlock, "KeyBlock"},
      {tag::kKeyFormatType, "KeyFormatType"},
      {tag::kKeyMaterial, "KeyMaterial"},
      {tag::kKeyValue, "KeyValue"},
      {tag::kName, "Name"},
      {tag::kNameType, "NameType"},
      {tag::kNameValue, "NameValue"},
      {tag::kObjectType, "ObjectType"},
      {tag::kOperation, "Operation"},
      {tag::kProtocolVersion, "ProtocolVersion"},
      {tag::kProtocolVersionMajor, "ProtocolVersionMajor"},
      {tag::kProtocolVersionMinor, "ProtocolVersionMinor"},
      {tag::kRequestHeader, "RequestHeader"},
      {tag::kRequestMessage, "RequestMessage"},
      {tag::kRequestPayload, "RequestPayload"},
      {tag::kResponseHeader, "ResponseHeader"},
      {tag::kResponseMessage, "ResponseMessage"},
      {tag::kResponsePayload, "ResponsePayload"},
      {tag::kResultMessage, "ResultMessage"},
      {tag::kResultReason, "ResultReason"},
      {tag::kResultStatus, "ResultStatus"},
      {tag::kRevocationReason, "RevocationReason"},
      {tag::kRevocationReasonCode, "RevocationReasonCode"},
      {tag::kState, "State"},
      {tag::kSymmetricKey, "SymmetricKey"},
      {tag::kTemplateAttribute, "TemplateAttribute"},
      {tag::kTimeStamp, "TimeStamp"},
      {tag::kUniqueBatchItemId, "UniqueBatchItemID"},
      {tag::kUniqueIdentifier, "UniqueIdentifier"},
      {tag::kAttributes, "Attributes"},
      {tag::kAttributeReference, "AttributeReference"},
      {tag::kQueryFunction, "QueryFunction"},
      {tag::kVendorIdentification, "VendorIdentification"},
      {tag::kServerInformation, "ServerInformation"},
      {tag::kMaximumItems, "MaximumItems"},
      {tag::kOffsetItems, "OffsetItems"},
      {tag::kPrivateKeyUniqueIdentifier, "PrivateKeyUniqueIdentifier"},
      {tag::kPublicKeyUniqueIdentifier, "PublicKeyUniqueIdentifier"},
      {tag::kData, "Data"},
      {tag::kIvCounterNonce, "IVCounterNonce"},
      {tag::kCryptographicParameters, "CryptographicParameters"},
      {tag::kApplicationNamespace, "ApplicationNamespace"},
      {tag::kCertificateRequest, "CertificateRequest"},
      {tag::kCertificateRequestType, "CertificateRequestType"},
      {tag::kCertificateRequestValue, "CertificateRequestValue"},
      {tag::kKeyPartIdentifier, "KeyPartIdentifier"},
      {tag::kLeaseTime, "LeaseTime"},
      {tag::kOffset, "Offset"},
      {tag::kPrimeFieldSize, "PrimeFieldSize"},
      {tag::kSplitKey, "SplitKey"},
      {tag::kSplitKeyMethod, "SplitKeyMethod"},
      {tag::kSplitKeyParts, "SplitKeyParts"},
      {tag::kSplitKeyThreshold, "SplitKeyThreshold"},
      {tag::kTemplate, "Template"},
      {tag::kUsageLimitsCount, "UsageLimitsCount"},
      {tag::kExtensionInformation, "ExtensionInformation"},
      {tag::kPgpKey, "PGPKey"},
      {tag::kPgpKeyVersion, "PGPKeyVersion"},
      {tag::kMacData, "MACData"},
      {tag::kLocatedItems, "LocatedItems"},
      {tag::kCorrelationValue, "CorrelationValue"},
      {tag::kInitIndicator, "InitIndicator"},
      {tag::kFinalIndicator, "FinalIndicator"},
      {tag::kRngParameters, "RNGParameters"},
      {tag::kValidationInformation, "ValidationInformation"},
      {tag::kProfileInformation, "ProfileInformation"},
      {tag::kClientRegistrationMethod, "ClientRegistrationMethod"},
      {tag::kCapabilityInformation, "CapabilityInformation"},
      {tag::kKeyWrapType, "KeyWrapType"},
      {tag::kAuthenticatedEncryptionAdditionalData, "AuthenticatedEncryptionAdditionalData"},
      {tag::kAuthenticatedEncryptionTag, "AuthenticatedEncryptionTag"},
      {tag::kDefaultsInformation, "DefaultsInformation"},
      {tag::kProtectionStorageMask, "ProtectionStorageMask"},
      {tag::kProtectionStorageMasks, "ProtectionStorageMasks"},
      {tag::kCommonProtectionStorageMasks, "CommonProtectionStorageMasks"},
      {tag::kPrivateProtectionStorageMasks, "PrivateProtectionStorageMasks"},
      {tag::kPublicProtectionStorageMasks, "PublicProtectionStorageMasks"},
      {tag::kObjectGroups, "ObjectGroups"},
      {tag::kCommonTemplateAttribute, "CommonTemplateAttribute"},
      {tag::kPrivateKeyTemplateAttribute, "PrivateKeyTemplateAttribute"},
      {tag::kPublicKeyTemplateAttribute, "PublicKeyTemplateAttribute"},
      {tag::kCommonAttributes, "CommonAttributes"},
      {tag::kPrivateKeyAttributes, "PrivateKeyAttributes"},
      {tag::kPublicKeyAttributes, "PublicKeyAttributes"},
      {tag::kCurrentAttribute, "CurrentAttribute"},
      {tag::kNewAttribute, "NewAttribute"},
      {tag::kDataLength, "DataLength"},
      {tag::kRevocationMessage, "RevocationMessage"},
      {tag::kCompromiseOccurrenceDate, "CompromiseOccurrenceDate"},
      {tag::kSecretDataType, "SecretDataType"},
      {tag::kOpaqueDataType, "OpaqueDataType"},
      {tag::kOpaqueDataValue, "OpaqueDataValue"},
      {tag::kOpaqueObject, "OpaqueObject"},
      {tag::kCertificate, "Certificate"},
      {tag::kCertificateType, "CertificateType"},
      {tag::kCertificateValue, "CertificateValue"},
      {tag::kPrivateKey, "PrivateKey"},
      {tag::kPublicKey, "PublicKey"},
      {tag::kSecretData, "SecretData"},
      {tag::kKeyCompressionType, "KeyCompressionType"},
      {tag::kKeyWrappingData, "KeyWrappingData"},
      {tag::kKeyWrappingSpecification, "KeyWrappingSpecification"},
      {tag::kStorageStatusMask, "StorageStatusMask"},
      {tag::kObjectGroupMember, "ObjectGroupMember"},
      {tag::kAttributeIndex, "AttributeIndex"},
  };
  for (const auto& [value, name] : kTags) {
    const TagInfo* t = FindTag(value);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->name, name);
    EXPECT_EQ(FindTagByName(name), t);
  }
}

TEST(DictionaryTest, SizesAreThoseOfTheSpecifications) {
  EXPECT_GT(TagCount(), 300u);
  EXPECT_GT(EnumValueCount(), 500u);
}

TEST(DictionaryTest, EnumerationsAndMasks) {
  EXPECT_EQ(EnumerationForTag(tag::kObjectType), "ObjectType");
  EXPECT_EQ(EnumValue("ObjectType", "SymmetricKey"), 2u);
  EXPECT_EQ(EnumName("ObjectType", 2), "SymmetricKey");
  EXPECT_EQ(EnumSpecName("ObjectType", 2), "Symmetric Key");
  EXPECT_EQ(EnumValue("CryptographicAlgorithm", "AES"), 3u);
  EXPECT_EQ(EnumValue("HashingAlgorithm", "SHA_256"), 6u);
  EXPECT_EQ(EnumValue("Operation", "DiscoverVersions"), 0x1Eu);
  EXPECT_EQ(EnumValue("ResultReason", "ItemNotFound"), 1u);
  EXPECT_FALSE(EnumValue("ObjectType", "Nope").has_value());
  EXPECT_EQ(EnumerationForTag(tag::kAttributeReference), kTagEnumeration);
  EXPECT_EQ(EnumValue(kTagEnumeration, "State"), tag::kState);
  EXPECT_EQ(MaskForTag(tag::kCryptographicUsageMask), "CryptographicUsageMask");
  EXPECT_EQ(MaskBit("CryptographicUsageMask", "Encrypt"), 4u);
  EXPECT_EQ(MaskBit("CryptographicUsageMask", "MACGenerate"), 0x80u);
  EXPECT_EQ(MaskBitName("CryptographicUsageMask", 8), "Decrypt");
  EXPECT_EQ(FindTagBySpecName("Cryptographic Algorithm")->tag, tag::kCryptographicAlgorithm);
}

TEST(DictionaryTest, NormalizeNameFollowsTheEncodingRules) {
  EXPECT_EQ(NormalizeName("Symmetric Key"), "SymmetricKey");
  EXPECT_EQ(NormalizeName("SHA-256"), "SHA_256");
  EXPECT_EQ(NormalizeName("PKCS#1"), "PKCS_1");
  EXPECT_EQ(NormalizeName("X.509"), "X_509");
  EXPECT_EQ(NormalizeName("HMAC-SHA256"), "HMAC_SHA256");
  EXPECT_EQ(NormalizeName("MAC Generate"), "MACGenerate");
  EXPECT_EQ(NormalizeName("Template-Attribute"), "TemplateAttribute");
  EXPECT_EQ(NormalizeName("IV/Counter/Nonce"), "IVCounterNonce");
  EXPECT_EQ(NormalizeName("C_Initialize"), "C_Initialize");
  EXPECT_EQ(NormalizeName("3DES"), "DES3");
  EXPECT_EQ(NormalizeName("MAC/sign"), "MACSign");
  EXPECT_EQ(NormalizeName("RSASSA-PSS (PKCS#1 v2.1)"), "RSASSA_PSSPKCS_1V2_1");
}

}  // namespace
}  // namespace vmcrypt::ttlv::dict
