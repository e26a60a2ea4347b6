// Public and Private Key objects <-> OpenSSL keys (see asym_keys.h).
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/param_build.h>

#include <memory>
#include <vector>

#include "src/kms/asym_keys.h"
#include "src/kms/managed.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::CryptographicAlgorithm;
using kmip::KeyFormatType;
using kmip::ObjectType;
using kmip::ResultReason;

namespace {

// Transparent RSA key fields (1.4 §2.1.7.4, §2.1.7.5; tags §9.1.3.1).
constexpr uint32_t kTagModulus = 0x420052;
constexpr uint32_t kTagPrivateExponent = 0x420063;
constexpr uint32_t kTagPublicExponent = 0x42006C;
constexpr uint32_t kTagP = 0x42005E;
constexpr uint32_t kTagQ = 0x420071;
constexpr uint32_t kTagPrimeExponentP = 0x420060;
constexpr uint32_t kTagPrimeExponentQ = 0x420061;
constexpr uint32_t kTagCrtCoefficient = 0x420027;

using DecoderCtxPtr =
    std::unique_ptr<OSSL_DECODER_CTX, crypto::OpenSslDeleter<OSSL_DECODER_CTX_free>>;
using EncoderCtxPtr =
    std::unique_ptr<OSSL_ENCODER_CTX, crypto::OpenSslDeleter<OSSL_ENCODER_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, crypto::OpenSslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, crypto::OpenSslDeleter<OSSL_PARAM_free>>;
// Private RSA components are cleared before they are freed.
using SecretBnPtr = std::unique_ptr<BIGNUM, crypto::OpenSslDeleter<BN_clear_free>>;

uint32_t F(KeyFormatType f) { return static_cast<uint32_t>(f); }

Status NotSupported(uint32_t format, const std::string& what) {
  return Fail(ResultReason::kKeyFormatTypeNotSupported,
              "Key Format Type " + std::to_string(format) + " is not supported for " + what);
}

// The OpenSSL decoder structure for a byte-string Key Format Type.
const char* Structure(uint32_t format, bool is_private) {
  switch (static_cast<KeyFormatType>(format)) {
    case KeyFormatType::kPkcs1:
    case KeyFormatType::kEcPrivateKey:
      return "type-specific";
    case KeyFormatType::kPkcs8:
      return is_private ? "PrivateKeyInfo" : nullptr;
    case KeyFormatType::kX509:
      return is_private ? nullptr : "SubjectPublicKeyInfo";
    default:
      return nullptr;
  }
}

Result<crypto::EvpPkeyPtr> DecodeDer(std::span<const uint8_t> der, const char* structure,
                                     const char* key_type, bool is_private) {
  EVP_PKEY* raw = nullptr;
  DecoderCtxPtr ctx(OSSL_DECODER_CTX_new_for_pkey(
      &raw, "DER", structure, key_type, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
      nullptr, nullptr));
  if (!ctx) {
    return Fail(ResultReason::kCryptographicFailure,
                "cannot make a key decoder: " + crypto::OpenSslErrorString());
  }
  const unsigned char* p = der.data();
  size_t len = der.size();
  const int ok = OSSL_DECODER_from_data(ctx.get(), &p, &len);
  crypto::EvpPkeyPtr pkey(raw);
  if (ok != 1 || !pkey || len != 0) {
    (void)crypto::OpenSslErrorString();  // drain; the text may quote offsets only
    return Fail(ResultReason::kInvalidField, std::string("the Key Material is not a valid ") +
                                                 (is_private ? "private" : "public") +
                                                 " key in its Key Format Type");
  }
  return pkey;
}

Result<SecretBytes> EncodeDer(EVP_PKEY* pkey, const char* structure, bool is_private) {
  EncoderCtxPtr ctx(OSSL_ENCODER_CTX_new_for_pkey(
      pkey, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, "DER", structure, nullptr));
  if (!ctx || OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) == 0) {
    return Fail(ResultReason::kKeyFormatTypeNotSupported,
                std::string("no encoder for ") + structure + " keys of this type");
  }
  unsigned char* data = nullptr;
  size_t len = 0;
  if (OSSL_ENCODER_to_data(ctx.get(), &data, &len) != 1) {
    return Fail(ResultReason::kCryptographicFailure,
                "cannot encode the key: " + crypto::OpenSslErrorString());
  }
  SecretBytes out(std::span<const uint8_t>(data, len));
  OPENSSL_clear_free(data, len);
  return out;
}

// KMIP Big Integer (1.4 §9.1.1.4 item type 0x04): big-endian two's
// complement, padded to a multiple of 8 bytes. Only non-negative values here.
ttlv::Item BigIntegerItem(uint32_t tag, const BIGNUM* bn) {
  const int n = BN_num_bytes(bn);
  std::vector<uint8_t> mag(static_cast<size_t>(n));
  BN_bn2bin(bn, mag.data());
  size_t total = mag.size() + ((mag.empty() || (mag[0] & 0x80) != 0) ? 1 : 0);
  total = (total + 7) / 8 * 8;
  std::vector<uint8_t> out(total - mag.size(), 0);
  out.insert(out.end(), mag.begin(), mag.end());
  ttlv::Item item = ttlv::Item::BigInteger(tag, out);
  OPENSSL_cleanse(mag.data(), mag.size());
  OPENSSL_cleanse(out.data(), out.size());
  return item;
}

Result<SecretBnPtr> BigNumberOf(const ttlv::Item& s, uint32_t tag, const char* name) {
  const ttlv::Item* f = s.Find(tag);
  if (f == nullptr || f->type() != ttlv::ItemType::kBigInteger) {
    return Fail(ResultReason::kInvalidField,
                std::string("Transparent RSA key: missing or mistyped ") + name);
  }
  const auto& b = f->bytes();
  if (!b.empty() && (b[0] & 0x80) != 0) {
    return Fail(ResultReason::kInvalidField,
                std::string("Transparent RSA key: ") + name + " is negative");
  }
  SecretBnPtr bn(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr));
  if (!bn) return Fail(ResultReason::kCryptographicFailure, "out of memory");
  return bn;
}

Result<crypto::EvpPkeyPtr> FromTransparentRsa(const ttlv::Item& s, bool is_private) {
  struct Field {
    uint32_t tag;
    const char* name;
    const char* param;
  };
  static constexpr Field kPublic[] = {
      {kTagModulus, "Modulus", OSSL_PKEY_PARAM_RSA_N},
      {kTagPublicExponent, "Public Exponent", OSSL_PKEY_PARAM_RSA_E}};
  static constexpr Field kPrivate[] = {
      {kTagPrivateExponent, "Private Exponent", OSSL_PKEY_PARAM_RSA_D},
      {kTagP, "P", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {kTagQ, "Q", OSSL_PKEY_PARAM_RSA_FACTOR2},
      {kTagPrimeExponentP, "Prime Exponent P", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {kTagPrimeExponentQ, "Prime Exponent Q", OSSL_PKEY_PARAM_RSA_EXPONENT2},
      {kTagCrtCoefficient, "CRT Coefficient", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld) return Fail(ResultReason::kCryptographicFailure, "out of memory");
  std::vector<SecretBnPtr> held;
  auto push = [&](const Field& f) -> Status {
    ASSIGN_OR_RETURN(SecretBnPtr bn, BigNumberOf(s, f.tag, f.name));
    if (OSSL_PARAM_BLD_push_BN(bld.get(), f.param, bn.get()) != 1) {
      return Fail(ResultReason::kCryptographicFailure, "cannot build the RSA key");
    }
    held.push_back(std::move(bn));
    return OkStatus();
  };
  for (const Field& f : kPublic) RETURN_IF_ERROR(push(f));
  // The private exponent is required; the CRT values come all or none (1.4
  // §2.1.7.4 lists them as optional).
  if (is_private) {
    RETURN_IF_ERROR(push(kPrivate[0]));
    if (s.Find(kTagP) != nullptr) {
      for (size_t i = 1; i < std::size(kPrivate); ++i) RETURN_IF_ERROR(push(kPrivate[i]));
    }
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    (void)crypto::OpenSslErrorString();
    return Fail(ResultReason::kInvalidField, "the Transparent RSA key is not a valid RSA key");
  }
  return crypto::EvpPkeyPtr(raw);
}

Result<ttlv::Item> ToTransparentRsa(EVP_PKEY* pkey, bool is_private) {
  struct Field {
    uint32_t tag;
    const char* param;
  };
  static constexpr Field kFields[] = {{kTagModulus, OSSL_PKEY_PARAM_RSA_N},
                                      {kTagPrivateExponent, OSSL_PKEY_PARAM_RSA_D},
                                      {kTagPublicExponent, OSSL_PKEY_PARAM_RSA_E},
                                      {kTagP, OSSL_PKEY_PARAM_RSA_FACTOR1},
                                      {kTagQ, OSSL_PKEY_PARAM_RSA_FACTOR2},
                                      {kTagPrimeExponentP, OSSL_PKEY_PARAM_RSA_EXPONENT1},
                                      {kTagPrimeExponentQ, OSSL_PKEY_PARAM_RSA_EXPONENT2},
                                      {kTagCrtCoefficient, OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
  ttlv::Item s = ttlv::Item::Structure(ttlv::tag::kKeyMaterial);
  for (const Field& f : kFields) {
    const bool public_field = f.tag == kTagModulus || f.tag == kTagPublicExponent;
    if (!is_private && !public_field) continue;
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, f.param, &raw) != 1) {
      BN_clear_free(raw);
      // A private key without CRT values has only n, e and d.
      if (f.tag == kTagModulus || f.tag == kTagPublicExponent || f.tag == kTagPrivateExponent) {
        return Fail(ResultReason::kCryptographicFailure, "cannot read the RSA key");
      }
      continue;
    }
    SecretBnPtr bn(raw);
    s.Add(BigIntegerItem(f.tag, bn.get()));
  }
  return s;
}

bool IsRsa(EVP_PKEY* pkey) { return EVP_PKEY_is_a(pkey, "RSA") == 1; }
bool IsEc(EVP_PKEY* pkey) { return EVP_PKEY_is_a(pkey, "EC") == 1; }

}  // namespace

bool IsAsymmetricKey(ObjectType type) {
  return type == ObjectType::kPublicKey || type == ObjectType::kPrivateKey;
}

bool IsEcAlgorithm(uint32_t algorithm) {
  switch (static_cast<CryptographicAlgorithm>(algorithm)) {
    case CryptographicAlgorithm::kEc:
    case CryptographicAlgorithm::kEcdsa:
    case CryptographicAlgorithm::kEcdh:
    case CryptographicAlgorithm::kEcmqv:
      return true;
    default:
      return false;
  }
}

Result<crypto::EvpPkeyPtr> ParseKey(const kmip::ManagedObject& object) {
  if (!object.key_block.has_value()) {
    return Fail(ResultReason::kKeyValueNotPresent, "the object has no Key Block");
  }
  const kmip::KeyBlock& b = *object.key_block;
  if (b.wrapped_key_value.has_value() || b.key_wrapping_data.has_value()) {
    return Fail(ResultReason::kKeyFormatTypeNotSupported,
                "the key is wrapped; this server uses only unwrapped asymmetric keys");
  }
  const bool is_private = object.type == ObjectType::kPrivateKey;
  const uint32_t f = b.key_format_type;
  if (f == F(KeyFormatType::kTransparentRsaPrivateKey) ||
      f == F(KeyFormatType::kTransparentRsaPublicKey)) {
    const bool private_format = f == F(KeyFormatType::kTransparentRsaPrivateKey);
    if (private_format != is_private || !b.key_material_structure.has_value()) {
      return Fail(ResultReason::kInvalidField,
                  "the Transparent RSA Key Format Type does not fit the object");
    }
    return FromTransparentRsa(*b.key_material_structure, is_private);
  }
  const char* structure = Structure(f, is_private);
  if (structure == nullptr) return NotSupported(f, is_private ? "private keys" : "public keys");
  if (b.key_material.empty()) {
    return Fail(ResultReason::kInvalidField, "the Key Material is not a byte string");
  }
  // PKCS#1 is RSA only, EC Private Key is EC only (RFC 8017 A.1, RFC 5915).
  const char* key_type = nullptr;
  if (f == F(KeyFormatType::kPkcs1)) key_type = "RSA";
  if (f == F(KeyFormatType::kEcPrivateKey)) {
    if (!is_private) return NotSupported(f, "public keys");
    key_type = "EC";
  }
  return DecodeDer(b.key_material.span(), structure, key_type, is_private);
}

uint32_t DefaultFormat(EVP_PKEY* pkey, ObjectType type) {
  if (IsRsa(pkey)) return F(KeyFormatType::kPkcs1);
  return type == ObjectType::kPrivateKey ? F(KeyFormatType::kPkcs8) : F(KeyFormatType::kX509);
}

Result<kmip::ManagedObject> EncodeKey(EVP_PKEY* pkey, ObjectType type, uint32_t format,
                                      uint32_t algorithm) {
  const bool is_private = type == ObjectType::kPrivateKey;
  const bool rsa = IsRsa(pkey);
  const bool ec = IsEc(pkey);
  bool fits = false;
  switch (static_cast<KeyFormatType>(format)) {
    case KeyFormatType::kPkcs1:
      fits = rsa;
      break;
    case KeyFormatType::kPkcs8:
      fits = is_private && (rsa || ec);
      break;
    case KeyFormatType::kX509:
      fits = !is_private && (rsa || ec);
      break;
    case KeyFormatType::kEcPrivateKey:
      fits = is_private && ec;
      break;
    case KeyFormatType::kTransparentRsaPrivateKey:
      fits = is_private && rsa;
      break;
    case KeyFormatType::kTransparentRsaPublicKey:
      fits = !is_private && rsa;
      break;
    default:
      break;
  }
  if (!fits) {
    return NotSupported(format, std::string(rsa  ? "RSA "
                                            : ec ? "EC "
                                                 : "") +
                                    (is_private ? "private keys" : "public keys"));
  }
  kmip::ManagedObject out;
  out.type = type;
  kmip::KeyBlock b;
  b.key_format_type = format;
  b.cryptographic_algorithm = algorithm;
  b.cryptographic_length = EVP_PKEY_get_bits(pkey);
  if (format == F(KeyFormatType::kTransparentRsaPrivateKey) ||
      format == F(KeyFormatType::kTransparentRsaPublicKey)) {
    ASSIGN_OR_RETURN(b.key_material_structure, ToTransparentRsa(pkey, is_private));
  } else {
    ASSIGN_OR_RETURN(b.key_material, EncodeDer(pkey, Structure(format, is_private), is_private));
  }
  out.key_block = std::move(b);
  return out;
}

Status CheckRegisteredKey(kmip::ManagedObject& object, kmip::AttributeList& attrs) {
  if (!object.key_block.has_value()) {
    return Fail(ResultReason::kInvalidField, "a Public or Private Key needs a Key Block");
  }
  kmip::KeyBlock& b = *object.key_block;
  if (b.wrapped_key_value.has_value() || b.key_wrapping_data.has_value()) return OkStatus();
  ASSIGN_OR_RETURN(crypto::EvpPkeyPtr pkey, ParseKey(object));
  const bool rsa = IsRsa(pkey.get());
  const uint32_t rsa_alg = static_cast<uint32_t>(CryptographicAlgorithm::kRsa);
  const kmip::Attribute* given = kmip::FindAttribute(attrs, "Cryptographic Algorithm");
  std::optional<uint32_t> stated = b.cryptographic_algorithm;
  if (!stated && given != nullptr && given->value.type() == ttlv::ItemType::kEnumeration) {
    stated = static_cast<uint32_t>(given->value.int_value());
  }
  if (stated && (rsa ? *stated != rsa_alg : !IsEcAlgorithm(*stated))) {
    return Fail(ResultReason::kInvalidField, "the key is " + std::string(rsa ? "an RSA" : "an EC") +
                                                 " key but its Cryptographic Algorithm says " +
                                                 std::to_string(*stated));
  }
  const uint32_t algorithm =
      stated.value_or(rsa ? rsa_alg : static_cast<uint32_t>(CryptographicAlgorithm::kEc));
  if (given == nullptr)
    attrs.push_back(kmip::Attribute::Enum("Cryptographic Algorithm", algorithm));
  if (!b.cryptographic_algorithm) b.cryptographic_algorithm = algorithm;
  if (!b.cryptographic_length) b.cryptographic_length = EVP_PKEY_get_bits(pkey.get());
  if (kmip::FindAttribute(attrs, "Cryptographic Length") == nullptr) {
    attrs.push_back(
        kmip::Attribute::Integer("Cryptographic Length", EVP_PKEY_get_bits(pkey.get())));
  }
  return OkStatus();
}

Status ConvertKeyFormat(kmip::ManagedObject& object, uint32_t format) {
  if (!object.key_block.has_value()) {
    return Fail(ResultReason::kKeyValueNotPresent, "the object has no Key Block");
  }
  if (object.key_block->key_format_type == format) return OkStatus();
  ASSIGN_OR_RETURN(crypto::EvpPkeyPtr pkey, ParseKey(object));
  const uint32_t algorithm =
      object.key_block->cryptographic_algorithm.value_or(static_cast<uint32_t>(
          IsRsa(pkey.get()) ? CryptographicAlgorithm::kRsa : CryptographicAlgorithm::kEc));
  ASSIGN_OR_RETURN(kmip::ManagedObject converted,
                   EncodeKey(pkey.get(), object.type, format, algorithm));
  // Keep the Key Block's own Cryptographic Length as stated when registered.
  if (object.key_block->cryptographic_length) {
    converted.key_block->cryptographic_length = object.key_block->cryptographic_length;
  }
  converted.key_block->key_value_attributes = object.key_block->key_value_attributes;
  object.key_block = std::move(converted.key_block);
  return OkStatus();
}

}  // namespace vmcrypt::kms::internal
