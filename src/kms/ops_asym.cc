// Create Key Pair (KMIP 1.4 §4.2), and LoadForUse: the usage checks the
// cryptographic operations share (state and dates §3.22-§3.27, usage mask
// §3.19).
//
// Create Key Pair makes RSA (1024..4096 bits) and EC (P-256, P-384, P-521)
// key pairs. The private key is stored like any key material: sealed by the
// root key (managed.cc).
#include <openssl/evp.h>

#include "src/kms/asym_keys.h"
#include "src/kms/asym_ops_util.h"
#include "src/kms/ops.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using asym::CryptoError;
using asym::EnumIn;
using kmip::Attribute;
using kmip::CryptographicAlgorithm;
using kmip::ObjectType;
using kmip::Operation;
using kmip::ResultReason;
using kmip::State;

namespace {

// Tags tags.h does not name (1.4 §9.1.3.1).
constexpr uint32_t kTagRecommendedCurve = 0x420075;

constexpr int64_t kMinRsaBits = 1024;
constexpr int64_t kMaxRsaBits = 4096;

std::optional<int64_t> NumberAttr(const kmip::AttributeList& attrs, std::string_view name) {
  const Attribute* a = kmip::FindAttribute(attrs, name);
  if (a == nullptr || a->value.is_structure() || a->value.is_placeholder()) return std::nullopt;
  return a->value.int_value();
}

// Attributes for one key of the pair: the common ones, with the key's own
// replacing those of the same name (1.4 §4.2: they "take precedence").
kmip::AttributeList Merge(const std::optional<kmip::AttributeList>& common,
                          const std::optional<kmip::AttributeList>& own) {
  kmip::AttributeList out = common.value_or(kmip::AttributeList{});
  if (!own) return out;
  for (const Attribute& a : *own) {
    std::erase_if(out, [&](const Attribute& c) { return c.name == a.name; });
  }
  for (const Attribute& a : *own) out.push_back(a);
  return out;
}

// The OpenSSL curve of a Recommended Curve, or of an EC key length.
std::string CurveName(uint32_t curve) {
  switch (curve) {
    case kCurveP256:
      return "P-256";
    case kCurveP384:
      return "P-384";
    case kCurveP521:
      return "P-521";
    default:
      return {};
  }
}

std::optional<uint32_t> CurveForLength(int64_t bits) {
  if (bits == 256) return kCurveP256;
  if (bits == 384) return kCurveP384;
  if (bits == 521) return kCurveP521;
  return std::nullopt;
}

}  // namespace

Result<Managed> Ops::LoadForUse(const std::optional<std::string>& req_uid, int32_t usage,
                                bool protect, Operation op, std::string* out_uid) {
  ASSIGN_OR_RETURN(*out_uid, Target(req_uid));
  ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *out_uid));
  const std::string name(kmip::OperationName(op));
  const int64_t now = clock_();
  auto date = [&](std::string_view attr) -> std::optional<int64_t> {
    const Attribute* a = m.Find(attr);
    if (a == nullptr || a->value.type() != ttlv::ItemType::kDateTime) return std::nullopt;
    return a->value.int_value();
  };
  const ResultReason state_reason =
      v_.is_v2() ? asym::kWrongKeyLifecycleState : ResultReason::kPermissionDenied;
  // The state in effect now: the Activation and Deactivation Dates move the
  // object on when they pass (1.4 §3.22 transitions 4 and 6).
  State s = m.state();
  if (s == State::kPreActive && date("Activation Date").value_or(now + 1) <= now) {
    s = State::kActive;
  }
  if (s == State::kActive && date("Deactivation Date").value_or(now + 1) <= now) {
    s = State::kDeactivated;
  }
  // Protection needs Active; processing is also allowed with Deactivated and
  // Compromised objects (1.4 §3.22 states 3 and 4).
  const bool allowed =
      s == State::kActive || (!protect && (s == State::kDeactivated || s == State::kCompromised));
  if (!allowed) {
    return Fail(state_reason, "object " + m.record.uid + " is " + std::string(kmip::StateName(s)) +
                                  "; it cannot be used for " + name);
  }
  if (protect) {
    if (auto stop = date("Protect Stop Date"); stop && *stop <= now) {
      return Fail(state_reason, "object " + m.record.uid +
                                    " is past its Protect Stop Date (1.4 §3.27); it cannot be "
                                    "used for " +
                                    name);
    }
  } else if (auto start = date("Process Start Date"); start && *start > now) {
    return Fail(state_reason, "object " + m.record.uid +
                                  " is before its Process Start Date (1.4 §3.26); it cannot be "
                                  "used for " +
                                  name);
  }
  const Attribute* mask = m.Find("Cryptographic Usage Mask");
  if (mask == nullptr || mask->value.type() != ttlv::ItemType::kInteger ||
      (mask->value.int_value() & usage) == 0) {
    return Fail(
        v_.is_v2() ? asym::kIncompatibleUsageMask : ResultReason::kPermissionDenied,
        "object " + m.record.uid + " does not allow " + name + " in its Cryptographic Usage Mask");
  }
  return m;
}

Result<ttlv::Item> Ops::CreateKeyPair(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::CreateKeyPairRequest, p);
  kmip::AttributeList priv = Merge(req.common_attributes, req.private_key_attributes);
  kmip::AttributeList pub = Merge(req.common_attributes, req.public_key_attributes);
  for (const Attribute& a : priv) RETURN_IF_ERROR(CheckClientSettable(a, true));
  for (const Attribute& a : pub) RETURN_IF_ERROR(CheckClientSettable(a, true));
  // The key's parameters may be given for one half only; they hold for both.
  for (const char* name :
       {"Cryptographic Algorithm", "Cryptographic Length", "Cryptographic Domain Parameters"}) {
    const Attribute* a = kmip::FindAttribute(priv, name);
    const Attribute* b = kmip::FindAttribute(pub, name);
    if (a != nullptr && b == nullptr) pub.push_back(*a);
    if (b != nullptr && a == nullptr) priv.push_back(*b);
  }
  auto algorithm = NumberAttr(priv, "Cryptographic Algorithm");
  if (!algorithm) {
    return Fail(ResultReason::kMissingData, "Create Key Pair needs a Cryptographic Algorithm");
  }
  if (NumberAttr(pub, "Cryptographic Algorithm") != algorithm) {
    return Fail(ResultReason::kInvalidField,
                "the private and public keys name different Cryptographic Algorithms");
  }
  auto length = NumberAttr(priv, "Cryptographic Length");
  if (auto pub_length = NumberAttr(pub, "Cryptographic Length");
      pub_length && length && pub_length != length) {
    return Fail(ResultReason::kInvalidField,
                "the private and public keys name different Cryptographic Lengths");
  }
  EVP_PKEY* raw = nullptr;
  const uint32_t alg = static_cast<uint32_t>(*algorithm);
  if (static_cast<CryptographicAlgorithm>(alg) == CryptographicAlgorithm::kRsa) {
    if (!length) {
      return Fail(ResultReason::kMissingData, "an RSA key pair needs a Cryptographic Length");
    }
    if (*length < kMinRsaBits || *length > kMaxRsaBits || *length % 8 != 0) {
      return Fail(ResultReason::kInvalidField,
                  "RSA Cryptographic Length " + std::to_string(*length) +
                      " is not supported (1024..4096 bits, whole bytes)");
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(*length));
  } else if (IsEcAlgorithm(alg)) {
    // The curve: Cryptographic Domain Parameters' Recommended Curve (1.4
    // §3.7), else the one of that Cryptographic Length.
    std::optional<uint32_t> curve;
    const Attribute* dp = kmip::FindAttribute(priv, "Cryptographic Domain Parameters");
    if (dp != nullptr && dp->value.is_structure()) {
      ASSIGN_OR_RETURN(curve, EnumIn(dp->value, kTagRecommendedCurve, "Recommended Curve"));
    }
    if (curve && length && CurveForLength(*length) != curve) {
      return Fail(ResultReason::kInvalidField,
                  "the Cryptographic Length does not match the Recommended Curve");
    }
    if (!curve && length) curve = CurveForLength(*length);
    if (!curve) {
      return Fail(ResultReason::kMissingData,
                  "an EC key pair needs a Recommended Curve (P-256, P-384, P-521) or a "
                  "Cryptographic Length of 256, 384 or 521");
    }
    const std::string name = CurveName(*curve);
    if (name.empty()) {
      return Fail(ResultReason::kFeatureNotSupported,
                  "Recommended Curve " + std::to_string(*curve) +
                      " is not supported (P-256, P-384, P-521)");
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", name.c_str());
  } else {
    return Fail(ResultReason::kFeatureNotSupported,
                "Create Key Pair makes RSA and EC keys; Cryptographic Algorithm " +
                    std::to_string(alg) + " is not supported");
  }
  crypto::EvpPkeyPtr pkey(raw);
  if (!pkey) return CryptoError("key pair generation failed");
  ASSIGN_OR_RETURN(kmip::ManagedObject private_key,
                   EncodeKey(pkey.get(), ObjectType::kPrivateKey,
                             DefaultFormat(pkey.get(), ObjectType::kPrivateKey), alg));
  ASSIGN_OR_RETURN(kmip::ManagedObject public_key,
                   EncodeKey(pkey.get(), ObjectType::kPublicKey,
                             DefaultFormat(pkey.get(), ObjectType::kPublicKey), alg));
  const int32_t bits = EVP_PKEY_get_bits(pkey.get());
  for (kmip::AttributeList* attrs : {&priv, &pub}) {
    if (kmip::FindAttribute(*attrs, "Cryptographic Length") == nullptr) {
      attrs->push_back(Attribute::Integer("Cryptographic Length", bits));
    }
  }
  Managed mpriv = NewObject(ObjectType::kPrivateKey, priv);
  Managed mpub = NewObject(ObjectType::kPublicKey, pub);
  // Server-set attributes of generated key material (1.4 §3.17, §3.44),
  // as Create sets them (managed.h).
  for (auto [m, material] : {std::pair{&mpriv, &private_key}, std::pair{&mpub, &public_key}}) {
    if (std::optional<Attribute> digest = DigestOf(*material)) m->Set(std::move(*digest));
    m->Set(RandomNumberGeneratorAttribute());
    // Mandatory for generated objects, equal to the Initial Date (1.4 §3.43).
    m->Set(Attribute::DateTime("Original Creation Date", m->record.created));
  }
  // Each key links to the other (1.4 §4.2, §3.35).
  mpriv.mutable_attributes().push_back(LinkAttribute(kPublicKeyLink, mpub.record.uid));
  mpub.mutable_attributes().push_back(LinkAttribute(kPrivateKeyLink, mpriv.record.uid));
  // Both halves in one transaction: never one without the other, even
  // after a crash.
  const std::pair<Managed*, const kmip::ManagedObject*> pair[] = {{&mpub, &public_key},
                                                                  {&mpriv, &private_key}};
  RETURN_IF_ERROR(InsertAll(store_, root_key_, pair));
  // The ID Placeholder becomes the private key's identifier (1.4 §4.2).
  *uid = mpriv.record.uid;
  kmip::CreateKeyPairResponse resp;
  resp.private_key_uid = mpriv.record.uid;
  resp.public_key_uid = mpub.record.uid;
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
