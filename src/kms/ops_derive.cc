// Derive Key (KMIP 1.4 §4.6; 2.1 §6.1.12); the methods are in derive_methods.cc.
//
// Derive Key methods (1.4 §9.1.3.2.21):
//   PBKDF2         PKCS#5 v2.1 / RFC 8018 §5.2 with HMAC-SHA-1/224/256/384/512
//                  (Hashing Algorithm, default SHA-1 as in PKCS#5); the base
//                  object's bytes are the password.
//   HASH           the hash of the base key or of the Derivation Data.
//   HMAC           HMAC(base key, Derivation Data), the hash from the base
//                  key's HMAC algorithm or the Hashing Algorithm.
//   ENCRYPT        AES-ECB/CBC(base key, IV, Derivation Data).
//   NIST800-108-C  SP 800-108 KDF in counter mode with HMAC (SHA-256 by
//                  default): K(i) = PRF(key, [i]_32 || Derivation Data), the
//                  Derivation Data being Label || 0x00 || Context as the client
//                  built it (1.4 §4.6), without an appended [L] (as PyKMIP).
//   HKDF           (KMIP 2.x) RFC 5869 with HMAC (SHA-256 by default): Salt
//                  as salt, Derivation Data as info.
// The derived bytes are the first Cryptographic Length bits of the output; a
// longer request is an error (§4.6). The result is a Symmetric Key or Secret
// Data (Seed) object, linked both ways to its base objects (§3.35 Derivation
// Base Object / Derived Key links).
#include <openssl/evp.h>

#include "src/kms/crypto_params.h"
#include "src/kms/derive_methods.h"
#include "src/kms/ops.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using derive::Bad;
using derive::DerivationParameters;
using derive::DigestFor;
using derive::Method;
using kmip::Attribute;
using kmip::CryptographicAlgorithm;
using kmip::ObjectType;
using kmip::Operation;
using kmip::ResultReason;

namespace {

// A tag tags.h does not name (1.4 §9.1.3.1) and the Secret Data Type of
// derived Secret Data (§9.1.3.2.9).
constexpr uint32_t kTagSecretDataType = 0x420086;
constexpr uint32_t kSecretDataSeed = 0x02;
// The longest derived object.
constexpr int64_t kMaxDerivedBits = 8 * 1024 * 8;  // 8 KiB

std::optional<int64_t> NumberAttr(const kmip::AttributeList& attrs, std::string_view name) {
  const Attribute* a = kmip::FindAttribute(attrs, name);
  if (a == nullptr || a->value.is_structure() || a->value.is_placeholder()) return std::nullopt;
  return a->value.int_value();
}

}  // namespace

Result<ttlv::Item> Ops::DeriveKey(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::DeriveKeyRequest, p);
  if (req.object_type != ObjectType::kSymmetricKey && req.object_type != ObjectType::kSecretData) {
    return Fail(ResultReason::kInvalidField, "Derive Key makes Symmetric Keys or Secret Data");
  }
  for (const Attribute& a : req.attributes) RETURN_IF_ERROR(CheckClientSettable(a, true));
  // The length always, and the algorithm for a key (1.4 §4.6).
  const auto bits = NumberAttr(req.attributes, "Cryptographic Length");
  const auto algorithm = NumberAttr(req.attributes, "Cryptographic Algorithm");
  if (!bits) return Fail(ResultReason::kMissingData, "Derive Key needs a Cryptographic Length");
  if (req.object_type == ObjectType::kSymmetricKey && !algorithm) {
    return Fail(ResultReason::kMissingData,
                "Derive Key needs a Cryptographic Algorithm for a Symmetric Key");
  }
  if (*bits <= 0 || *bits % 8 != 0 || *bits > kMaxDerivedBits) {
    return Fail(ResultReason::kInvalidField,
                "Cryptographic Length " + std::to_string(*bits) +
                    " is not supported for Derive Key (whole bytes up to 8 KiB)");
  }
  if (algorithm &&
      static_cast<CryptographicAlgorithm>(*algorithm) == CryptographicAlgorithm::kAes &&
      *bits != 128 && *bits != 192 && *bits != 256) {
    return Fail(ResultReason::kInvalidField, "an AES key is 128, 192 or 256 bits");
  }
  const size_t length = static_cast<size_t>(*bits / 8);
  ASSIGN_OR_RETURN(DerivationParameters d,
                   derive::ParseDerivationParameters(req.derivation_parameters));

  // The base objects: each must allow Derive Key and be usable now (1.4 §4.6,
  // §3.19). The first is the derivation key; a further Secret Data object
  // may supply the Derivation Data.
  SecretBytes key;
  uint32_t base_algorithm = 0;
  std::optional<ttlv::Bytes> implicit_data;
  for (size_t i = 0; i < req.uids.size(); ++i) {
    std::string base;
    ASSIGN_OR_RETURN(Managed m, LoadForUse(req.uids[i], kmip::usage::kDeriveKey, true,
                                           Operation::kDeriveKey, &base));
    const auto type = static_cast<ObjectType>(m.record.object_type);
    if (type != ObjectType::kSymmetricKey && type != ObjectType::kSecretData) {
      return Fail(ResultReason::kInvalidField,
                  "Derive Key uses Symmetric Keys and Secret Data; object " + base + " is a " +
                      std::string(kmip::ObjectTypeName(type)));
    }
    ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, m));
    ASSIGN_OR_RETURN(SecretBytes bytes, SymmetricKeyBytes(object));
    if (i == 0) {
      key = std::move(bytes);
      if (const Attribute* a = m.Find("Cryptographic Algorithm");
          a != nullptr && a->value.type() == ttlv::ItemType::kEnumeration) {
        base_algorithm = static_cast<uint32_t>(a->value.int_value());
      }
    } else if (type == ObjectType::kSecretData && !implicit_data) {
      implicit_data = ttlv::Bytes(bytes.span().begin(), bytes.span().end());
    } else {
      return Fail(ResultReason::kInvalidField,
                  "object " + base +
                      ": only one further Secret Data object may supply the "
                      "Derivation Data");
    }
  }
  if (implicit_data) {
    if (d.data) {
      return Bad("Derivation Data given both in the request and as a Secret Data object");
    }
    d.data = std::move(implicit_data);
  }

  const auto method = static_cast<Method>(req.derivation_method);
  const bool needs_data =
      method != Method::kPbkdf2 && method != Method::kHash && method != Method::kHkdf;
  if (needs_data && !d.data) {
    return Fail(ResultReason::kMissingData, "this Derivation Method needs Derivation Data");
  }
  SecretBytes out;
  switch (method) {
    case Method::kPbkdf2: {
      if (length > 1024) return Bad("PBKDF2 output is limited to 1024 bytes here");
      ASSIGN_OR_RETURN(out, derive::Pbkdf2(key, d, base_algorithm, length));
      break;
    }
    case Method::kHash: {
      ASSIGN_OR_RETURN(std::string md, DigestFor(d, 0, nullptr));
      if (d.data) {
        ASSIGN_OR_RETURN(out, derive::Digest(md, *d.data));
      } else {
        ASSIGN_OR_RETURN(out, derive::Digest(md, key.span()));
      }
      break;
    }
    case Method::kHmac: {
      ASSIGN_OR_RETURN(std::string md, DigestFor(d, base_algorithm, "SHA256"));
      ASSIGN_OR_RETURN(out, derive::Hmac(md, key, *d.data));
      break;
    }
    case Method::kEncrypt: {
      ASSIGN_OR_RETURN(out, derive::AesEncrypt(key, d));
      break;
    }
    case Method::kNist800108Counter: {
      ASSIGN_OR_RETURN(std::string md, DigestFor(d, base_algorithm, "SHA256"));
      if (key.empty()) return Bad("the base key is empty");
      ASSIGN_OR_RETURN(out, derive::KbkdfCounter(key, *d.data, md, length));
      break;
    }
    case Method::kHkdf: {
      if (!v_.is_v2()) {
        return Fail(ResultReason::kFeatureNotSupported, "HKDF is a KMIP 2.x Derivation Method");
      }
      ASSIGN_OR_RETURN(std::string md, DigestFor(d, base_algorithm, "SHA256"));
      if (key.empty()) return Bad("the base key is empty");
      // RFC 5869 §2.3: at most 255 blocks.
      if (length > 255 * static_cast<size_t>(EVP_MD_get_size(EVP_get_digestbyname(md.c_str())))) {
        return Bad("HKDF output is limited to 255 hash blocks");
      }
      ASSIGN_OR_RETURN(out, derive::Hkdf(key, d, md, length));
      break;
    }
    default:
      return Fail(ResultReason::kFeatureNotSupported,
                  "Derivation Method " + std::to_string(req.derivation_method) +
                      " is not supported (PBKDF2, HASH, HMAC, ENCRYPT, NIST800-108-C, and HKDF "
                      "in 2.x)");
  }
  if (out.size() < length) {
    return Fail(ResultReason::kInvalidField, "Cryptographic Length " + std::to_string(*bits) +
                                                 " exceeds the " + std::to_string(out.size() * 8) +
                                                 " bits this Derivation Method gives");
  }
  SecretBytes derived(out.span().first(length));

  kmip::ManagedObject material;
  if (req.object_type == ObjectType::kSymmetricKey) {
    material = kmip::ManagedObject::SymmetricKey(static_cast<uint32_t>(*algorithm), derived);
    material.key_block->cryptographic_length = static_cast<int32_t>(*bits);
  } else {
    material.type = ObjectType::kSecretData;
    material.fields.push_back(ttlv::Item::Enumeration(kTagSecretDataType, kSecretDataSeed));
    kmip::KeyBlock b;
    b.key_format_type = static_cast<uint32_t>(kmip::KeyFormatType::kOpaque);
    b.key_material = std::move(derived);
    material.key_block = std::move(b);
  }
  Managed m = NewObject(req.object_type, req.attributes);
  if (std::optional<Attribute> digest = DigestOf(material)) m.Set(std::move(*digest));  // §3.17
  // Mandatory for derived objects, equal to the Initial Date (1.4 §3.43).
  m.Set(Attribute::DateTime("Original Creation Date", m.record.created));
  for (const std::string& base : req.uids) {
    m.mutable_attributes().push_back(LinkAttribute(kDerivationBaseObjectLink, base));
  }
  RETURN_IF_ERROR(Insert(store_, root_key_, m, &material));
  for (const std::string& base : req.uids) {
    ASSIGN_OR_RETURN(
        Managed b, Modify(base, [&](Managed& b) -> Status {
          b.mutable_attributes().push_back(LinkAttribute(kDerivedKeyLink, m.record.uid));
          return OkStatus();
        }));
    (void)b;
  }
  *uid = m.record.uid;
  kmip::DeriveKeyResponse resp;
  resp.uid = m.record.uid;
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
