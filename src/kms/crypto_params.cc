#include "src/kms/crypto_params.h"

#include <string>
#include <string_view>

#include "src/kms/managed.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::CryptographicAlgorithm;
using kmip::ResultReason;

namespace {
// Hashing Algorithm values (1.4 §9.1.3.2.16).
enum class Hash : uint32_t {
  kSha1 = 0x04,
  kSha224 = 0x05,
  kSha256 = 0x06,
  kSha384 = 0x07,
  kSha512 = 0x08,
};

}  // namespace

namespace {

// Fields of Cryptographic Parameters that tags.h does not name (1.4 §9.1.3.1).
constexpr uint32_t kTagHashingAlgorithm = 0x420038;
constexpr uint32_t kTagRandomIv = 0x4200C5;
constexpr uint32_t kTagIvLength = 0x4200CD;
constexpr uint32_t kTagTagLength = 0x4200CE;

Status WrongType(std::string_view field) {
  return Fail(ResultReason::kInvalidField,
              "Cryptographic Parameters field " + std::string(field) + " has the wrong type");
}

Result<std::optional<uint32_t>> EnumField(const ttlv::Item& s, uint32_t tag,
                                          std::string_view name) {
  const ttlv::Item* f = s.Find(tag);
  if (f == nullptr) return std::optional<uint32_t>();
  if (f->type() != ttlv::ItemType::kEnumeration) return WrongType(name);
  return std::optional<uint32_t>(static_cast<uint32_t>(f->int_value()));
}

Result<std::optional<int64_t>> IntField(const ttlv::Item& s, uint32_t tag, std::string_view name) {
  const ttlv::Item* f = s.Find(tag);
  if (f == nullptr) return std::optional<int64_t>();
  if (f->type() != ttlv::ItemType::kInteger) return WrongType(name);
  return std::optional<int64_t>(f->int_value());
}

}  // namespace

Result<CryptoParams> ParseCryptoParams(const ttlv::Item* s) {
  CryptoParams p;
  if (s == nullptr) return p;
  if (!s->is_structure()) {
    return Fail(ResultReason::kInvalidField, "Cryptographic Parameters is not a structure");
  }
  ASSIGN_OR_RETURN(p.mode, EnumField(*s, ttlv::tag::kBlockCipherMode, "Block Cipher Mode"));
  ASSIGN_OR_RETURN(p.padding, EnumField(*s, ttlv::tag::kPaddingMethod, "Padding Method"));
  ASSIGN_OR_RETURN(p.hashing, EnumField(*s, kTagHashingAlgorithm, "Hashing Algorithm"));
  ASSIGN_OR_RETURN(p.algorithm,
                   EnumField(*s, ttlv::tag::kCryptographicAlgorithm, "Cryptographic Algorithm"));
  ASSIGN_OR_RETURN(p.iv_length_bits, IntField(*s, kTagIvLength, "IV Length"));
  ASSIGN_OR_RETURN(p.tag_length, IntField(*s, kTagTagLength, "Tag Length"));
  if (const ttlv::Item* f = s->Find(kTagRandomIv); f != nullptr) {
    if (f->type() != ttlv::ItemType::kBoolean) return WrongType("Random IV");
    p.random_iv = f->int_value() != 0;
  }
  return p;
}

std::string_view HmacDigest(std::optional<uint32_t> hmac_algorithm,
                            std::optional<uint32_t> hashing) {
  if (hashing.has_value()) {
    switch (static_cast<Hash>(*hashing)) {
      case Hash::kSha1:
        return "SHA1";
      case Hash::kSha224:
        return "SHA224";
      case Hash::kSha256:
        return "SHA256";
      case Hash::kSha384:
        return "SHA384";
      case Hash::kSha512:
        return "SHA512";
      default:
        return {};
    }
  }
  if (!hmac_algorithm.has_value()) return {};
  switch (static_cast<CryptographicAlgorithm>(*hmac_algorithm)) {
    case CryptographicAlgorithm::kHmacSha1:
      return "SHA1";
    case CryptographicAlgorithm::kHmacSha224:
      return "SHA224";
    case CryptographicAlgorithm::kHmacSha256:
      return "SHA256";
    case CryptographicAlgorithm::kHmacSha384:
      return "SHA384";
    case CryptographicAlgorithm::kHmacSha512:
      return "SHA512";
    default:
      return {};
  }
}

Result<SecretBytes> SymmetricKeyBytes(const kmip::ManagedObject& object) {
  if (!object.key_block.has_value()) {
    return Fail(ResultReason::kKeyValueNotPresent, "the object has no Key Block");
  }
  const kmip::KeyBlock& b = *object.key_block;
  if (!b.key_material.empty()) return b.key_material.Clone();
  if (b.key_material_structure.has_value()) {
    const ttlv::Item* k = b.key_material_structure->Find(ttlv::tag::kKey);
    if (k != nullptr && k->type() == ttlv::ItemType::kByteString) {
      return SecretBytes(std::span<const uint8_t>(k->bytes().data(), k->bytes().size()));
    }
  }
  return Fail(ResultReason::kKeyFormatTypeNotSupported,
              "the key is not held as Raw or Transparent Symmetric Key bytes");
}

}  // namespace vmcrypt::kms::internal
