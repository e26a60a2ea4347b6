// Create (KMIP 1.4 §4.1), Register (§4.3) and Get (§4.11).
#include "src/kms/asym_keys.h"
#include "src/kms/attribute_rules.h"
#include "src/kms/ops.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::Attribute;
using kmip::CryptographicAlgorithm;
using kmip::KeyFormatType;
using kmip::ObjectType;
using kmip::ResultReason;

namespace {

std::optional<int64_t> NumberAttr(const kmip::AttributeList& attrs, std::string_view name) {
  const Attribute* a = kmip::FindAttribute(attrs, name);
  if (a == nullptr || a->value.is_structure() || a->value.is_placeholder()) return std::nullopt;
  return a->value.int_value();
}

// Key lengths this server generates (bits), per algorithm (FIPS 197; SP
// 800-67 for Triple DES; HMAC keys of any whole number of bytes).
Status CheckGenerable(uint32_t algorithm, int64_t bits) {
  switch (static_cast<CryptographicAlgorithm>(algorithm)) {
    case CryptographicAlgorithm::kAes:
      if (bits == 128 || bits == 192 || bits == 256) return OkStatus();
      break;
    case CryptographicAlgorithm::kTripleDes:
      if (bits == 168 || bits == 192) return OkStatus();
      break;
    case CryptographicAlgorithm::kHmacSha1:
    case CryptographicAlgorithm::kHmacSha224:
    case CryptographicAlgorithm::kHmacSha256:
    case CryptographicAlgorithm::kHmacSha384:
    case CryptographicAlgorithm::kHmacSha512:
      if (bits >= 112 && bits <= 4096 && bits % 8 == 0) return OkStatus();
      break;
    default:
      return Fail(ResultReason::kFeatureNotSupported,
                  "this server cannot generate keys of Cryptographic Algorithm " +
                      std::to_string(algorithm));
  }
  return Fail(ResultReason::kInvalidField,
              "Cryptographic Length " + std::to_string(bits) + " is not valid for the algorithm");
}

}  // namespace

Result<kmip::ManagedObject> GenerateSymmetricKey(uint32_t algorithm, int64_t length) {
  RETURN_IF_ERROR(CheckGenerable(algorithm, length));
  // Triple DES keys carry a parity bit per byte: 168 key bits are 24 bytes
  // (SP 800-67 §3.3.1), each of odd parity.
  const bool des3 =
      static_cast<CryptographicAlgorithm>(algorithm) == CryptographicAlgorithm::kTripleDes;
  const size_t key_bytes = des3 ? 24 : static_cast<size_t>((length + 7) / 8);
  ASSIGN_OR_RETURN(SecretBytes key, crypto::RandomSecret(key_bytes));
  if (des3) {
    for (size_t i = 0; i < key.size(); ++i) {
      uint8_t b = key.data()[i] & 0xFE;
      key.data()[i] = static_cast<uint8_t>(b | ((__builtin_popcount(b) % 2 == 0) ? 1 : 0));
    }
  }
  kmip::ManagedObject material = kmip::ManagedObject::SymmetricKey(algorithm, key);
  material.key_block->cryptographic_length = static_cast<int32_t>(length);
  return material;
}

Result<ttlv::Item> Ops::Create(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::CreateRequest, p);
  if (req.object_type != ObjectType::kSymmetricKey) {
    return Fail(ResultReason::kFeatureNotSupported,
                "Create makes symmetric keys; use Create Key Pair or Register for other objects");
  }
  for (const Attribute& a : req.attributes) RETURN_IF_ERROR(CheckClientSettable(a, true));
  auto algorithm = NumberAttr(req.attributes, "Cryptographic Algorithm");
  auto length = NumberAttr(req.attributes, "Cryptographic Length");
  if (!algorithm || !length) {
    return Fail(ResultReason::kMissingData,
                "Create needs Cryptographic Algorithm and Cryptographic Length");
  }
  ASSIGN_OR_RETURN(kmip::ManagedObject material,
                   GenerateSymmetricKey(static_cast<uint32_t>(*algorithm), *length));

  Managed m = NewObject(ObjectType::kSymmetricKey, req.attributes);
  // Server-set attributes of generated key material (1.4 §3.17, §3.44).
  if (std::optional<Attribute> digest = DigestOf(material)) m.Set(std::move(*digest));
  m.Set(RandomNumberGeneratorAttribute());
  RETURN_IF_ERROR(Insert(store_, root_key_, m, &material));
  *uid = m.record.uid;
  kmip::CreateResponse resp;
  resp.object_type = ObjectType::kSymmetricKey;
  resp.uid = m.record.uid;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Register(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::RegisterRequest, p);
  for (const Attribute& a : req.attributes) RETURN_IF_ERROR(CheckClientSettable(a, true));
  kmip::AttributeList attrs = req.attributes;
  // A registered key's algorithm and length come with its Key Block (1.4 §3.4, §3.5).
  if (req.object.key_block.has_value()) {
    const kmip::KeyBlock& b = *req.object.key_block;
    if (b.cryptographic_algorithm && !kmip::FindAttribute(attrs, "Cryptographic Algorithm")) {
      attrs.push_back(Attribute::Enum("Cryptographic Algorithm", *b.cryptographic_algorithm));
    }
    if (b.cryptographic_length && !kmip::FindAttribute(attrs, "Cryptographic Length")) {
      attrs.push_back(Attribute::Integer("Cryptographic Length", *b.cryptographic_length));
    }
  }
  // Public and Private Keys must parse; their algorithm and length are
  // filled in from the key itself (ops_asym_keys.cc).
  if (IsAsymmetricKey(req.object_type)) RETURN_IF_ERROR(CheckRegisteredKey(req.object, attrs));
  Managed m = NewObject(req.object_type, attrs, /*generated=*/false);
  if (std::optional<Attribute> digest = DigestOf(req.object)) m.Set(std::move(*digest));  // §3.17
  RETURN_IF_ERROR(Insert(store_, root_key_, m, &req.object));
  *uid = m.record.uid;
  kmip::RegisterResponse resp;
  resp.uid = m.record.uid;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Get(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::GetRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *uid));
  // Extractable, Sensitive (1.4 §3.48, §3.50): a Sensitive key leaves only
  // wrapped.
  RETURN_IF_ERROR(CheckGettable(m, v_, req.key_wrapping_specification.has_value()));
  ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, m));
  if (object.key_block.has_value()) {
    kmip::KeyBlock& b = *object.key_block;
    if (req.key_compression_type && b.key_compression_type != req.key_compression_type) {
      return Fail(ResultReason::kKeyCompressionTypeNotSupported,
                  "the key is not available in that Key Compression Type");
    }
    // Raw <-> Transparent Symmetric Key (1.4 §2.1.7.1: Key Material { Key }).
    const uint32_t raw = static_cast<uint32_t>(KeyFormatType::kRaw);
    const uint32_t transparent = static_cast<uint32_t>(KeyFormatType::kTransparentSymmetricKey);
    if (req.key_format_type && *req.key_format_type != b.key_format_type) {
      if (IsAsymmetricKey(object.type)) {
        // PKCS#1 <-> PKCS#8 / X.509 / Transparent RSA (ops_asym_keys.cc).
        RETURN_IF_ERROR(ConvertKeyFormat(object, *req.key_format_type));
      } else if (object.type == ObjectType::kSymmetricKey && b.key_format_type == raw &&
                 *req.key_format_type == transparent) {
        b.key_material_structure =
            ttlv::Item::Structure(ttlv::tag::kKeyMaterial,
                                  {ttlv::Item::ByteString(ttlv::tag::kKey, b.key_material.span())});
        b.key_material.Clear();
        b.key_format_type = transparent;
      } else if (object.type == ObjectType::kSymmetricKey && b.key_format_type == transparent &&
                 *req.key_format_type == raw && b.key_material_structure.has_value() &&
                 b.key_material_structure->Find(ttlv::tag::kKey) != nullptr) {
        const ttlv::Item* k = b.key_material_structure->Find(ttlv::tag::kKey);
        b.key_material =
            SecretBytes(std::span<const uint8_t>(k->bytes().data(), k->bytes().size()));
        b.key_material_structure.reset();
        b.key_format_type = raw;
      } else {
        return Fail(ResultReason::kKeyFormatTypeNotSupported,
                    "the object is not available in Key Format Type " +
                        std::to_string(*req.key_format_type));
      }
    }
  }
  if (req.key_wrapping_specification.has_value()) {
    RETURN_IF_ERROR(WrapForGet(*req.key_wrapping_specification, object));
  }
  // Served to a client: no longer Fresh (1.4 §3.34). Not served if that
  // cannot be recorded.
  if (const Attribute* fresh = m.Find("Fresh"); fresh != nullptr &&
                                                fresh->value.type() == ttlv::ItemType::kBoolean &&
                                                fresh->value.int_value() != 0) {
    RETURN_IF_ERROR(Modify(*uid, [](Managed& changed) {
                      changed.Set(Attribute::Boolean("Fresh", false));
                      return OkStatus();
                    }).status());
  }
  kmip::GetResponse resp;
  resp.object_type = object.type;
  resp.uid = *uid;
  resp.object = std::move(object);
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
