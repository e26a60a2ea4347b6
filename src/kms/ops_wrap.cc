// Get with a Key Wrapping Specification (KMIP 1.4 §2.1.5-§2.1.6, §4.11):
// the key is returned wrapped by another key the server holds. Wrapping
// Method Encrypt with an AES key: NIST key wrap (RFC 3394, the default) or
// AES key wrap with padding (RFC 5649); the wrapped bytes are the TTLV
// encoding of the Key Value structure (Encoding Option TTLV Encoding, the
// default) or the raw key material (No Encoding).
#include "src/kms/ops.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::ResultReason;

namespace {

constexpr uint32_t kTagWrappingMethod = 0x42009E;
constexpr uint32_t kTagEncryptionKeyInformation = 0x420036;
constexpr uint32_t kTagMacSignatureKeyInformation = 0x42004E;
constexpr uint32_t kTagEncodingOption = 0x4200A3;
constexpr uint32_t kTagKeyWrappingData = 0x420046;
constexpr uint32_t kTagBlockCipherMode = 0x420011;
constexpr uint32_t kTagCryptographicParameters = 0x42002B;
constexpr uint32_t kWrappingMethodEncrypt = 1;
constexpr uint32_t kNoEncoding = 1;
constexpr uint32_t kTtlvEncoding = 2;
constexpr uint32_t kAesKeyWrapPadding = 0x0C;
constexpr uint32_t kNistKeyWrap = 0x0D;

}  // namespace

Status Ops::WrapForGet(const ttlv::Item& spec, kmip::ManagedObject& object) {
  const ttlv::Item* method = spec.Find(kTagWrappingMethod);
  if (method == nullptr) return Fail(ResultReason::kMissingData, "Wrapping Method is missing");
  if (method->int_value() != kWrappingMethodEncrypt) {
    return Fail(
        ResultReason::kFeatureNotSupported,
        "only Wrapping Method Encrypt is supported, not " + std::to_string(method->int_value()));
  }
  if (spec.Find(kTagMacSignatureKeyInformation) != nullptr ||
      spec.Find(ttlv::tag::kAttributeName) != nullptr) {
    return Fail(ResultReason::kFeatureNotSupported,
                "MAC/Signature Key Information and wrapped Attribute Names are not supported");
  }
  const ttlv::Item* info = spec.Find(kTagEncryptionKeyInformation);
  const ttlv::Item* wrap_uid = info != nullptr ? info->Find(ttlv::tag::kUniqueIdentifier) : nullptr;
  if (wrap_uid == nullptr) {
    return Fail(ResultReason::kMissingData,
                "Encryption Key Information with the wrapping key's Unique Identifier is missing");
  }
  uint32_t mode = kNistKeyWrap;
  if (const ttlv::Item* params = info->Find(kTagCryptographicParameters)) {
    if (const ttlv::Item* m = params->Find(kTagBlockCipherMode)) {
      mode = static_cast<uint32_t>(m->int_value());
    }
  }
  if (mode != kNistKeyWrap && mode != kAesKeyWrapPadding) {
    return Fail(ResultReason::kFeatureNotSupported,
                "keys are wrapped with NISTKeyWrap or AESKeyWrapPadding, not Block Cipher Mode " +
                    std::to_string(mode));
  }
  const ttlv::Item* encoding_item = spec.Find(kTagEncodingOption);
  const uint32_t encoding =
      encoding_item != nullptr ? static_cast<uint32_t>(encoding_item->int_value()) : kTtlvEncoding;
  if (!object.key_block.has_value()) {
    return Fail(ResultReason::kIllegalOperation, "only objects with a Key Block can be wrapped");
  }
  kmip::KeyBlock& b = *object.key_block;

  // The wrapping key: Active, AES, with Wrap Key in its usage mask.
  std::string used_uid;
  ASSIGN_OR_RETURN(Managed wrapping,
                   LoadForUse(std::string(wrap_uid->text()), kmip::usage::kWrapKey, true,
                              kmip::Operation::kGet, &used_uid));
  ASSIGN_OR_RETURN(kmip::ManagedObject wrapping_material, Material(root_key_, wrapping));
  if (wrapping_material.type != kmip::ObjectType::kSymmetricKey ||
      !wrapping_material.key_block.has_value() ||
      wrapping_material.key_block->cryptographic_algorithm !=
          static_cast<uint32_t>(kmip::CryptographicAlgorithm::kAes) ||
      wrapping_material.key_block->key_material.empty()) {
    return Fail(ResultReason::kFeatureNotSupported,
                "the wrapping key " + used_uid + " must be a Raw AES key");
  }
  const SecretBytes& kek = wrapping_material.key_block->key_material;

  SecretBytes plain;
  if (encoding == kNoEncoding) {
    if (b.key_material.empty()) {
      return Fail(ResultReason::kEncodingOptionError,
                  "No Encoding needs a key whose Key Material is a byte string");
    }
    plain = b.key_material.Clone();
  } else if (encoding == kTtlvEncoding) {
    ASSIGN_OR_RETURN(ttlv::Item block, kmip::EncodeKeyBlock(b, v_));
    const ttlv::Item* value = block.Find(ttlv::tag::kKeyValue);
    if (value == nullptr) return Fail(ResultReason::kKeyValueNotPresent, "no Key Value to wrap");
    ASSIGN_OR_RETURN(ttlv::Bytes wire, ttlv::Encode(*value));
    plain = SecretBytes(std::span<const uint8_t>(wire.data(), wire.size()));
    vmcrypt::internal::SecureWipe(wire.data(), wire.size());
  } else {
    return Fail(ResultReason::kEncodingOptionError,
                "Encoding Option " + std::to_string(encoding) + " is not known");
  }
  auto wrapped = mode == kNistKeyWrap ? crypto::AesKeyWrap(kek, plain.span())
                                      : crypto::AesKeyWrapPad(kek, plain.span());
  if (!wrapped.ok()) {
    return Fail(ResultReason::kCryptographicFailure,
                "the key cannot be wrapped: " + wrapped.status().message());
  }
  b.key_material.Clear();
  b.key_material_structure.reset();
  b.key_value_attributes.clear();
  b.wrapped_key_value = SecretBytes(std::span<const uint8_t>(wrapped->data(), wrapped->size()));
  std::vector<ttlv::Item> data = {
      ttlv::Item::Enumeration(kTagWrappingMethod, kWrappingMethodEncrypt),
      info->WithTag(kTagEncryptionKeyInformation)};
  if (encoding_item != nullptr) data.push_back(*encoding_item);
  b.key_wrapping_data = ttlv::Item::Structure(kTagKeyWrappingData, std::move(data));
  return OkStatus();
}

}  // namespace vmcrypt::kms::internal
