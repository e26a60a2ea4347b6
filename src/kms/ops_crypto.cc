// The cryptographic services' common part: loading a key for use (KMIP 1.4
// §3.19 Cryptographic Usage Mask, §3.21 Usage Limits, §3.22-§3.27 state and
// dates), MAC (§4.33) and RNG Retrieve (§4.35). Encrypt and Decrypt are in
// ops_cipher.cc.
//
// Cryptographic Parameters (§2.1.5) come from the request, or else from the
// key's own attribute.
#include <openssl/evp.h>

#include "src/kms/crypto_params.h"
#include "src/kms/ops.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::CryptographicAlgorithm;
using kmip::Operation;
using kmip::ResultReason;

namespace {

// Usage Limits fields (1.4 §3.21, §9.1.3.1) and units (§9.1.3.2.31).
constexpr uint32_t kTagUsageLimitsCount = 0x420096;
constexpr uint32_t kTagUsageLimitsTotal = 0x420097;
constexpr uint32_t kTagUsageLimitsUnit = 0x420098;
constexpr uint32_t kUnitByte = 0x01;
constexpr uint32_t kUnitObject = 0x02;

// Largest RNG Retrieve answer; far beyond any key, well within a message.
constexpr int32_t kMaxRngBytes = 1 << 20;

bool IsHmac(uint32_t algorithm) { return !HmacDigest(algorithm, std::nullopt).empty(); }

}  // namespace

Status Ops::ChargeUsage(const std::string& uid, size_t bytes, bool new_object) {
  ASSIGN_OR_RETURN(Managed current, Load(store_, client_.tenant, uid));
  if (current.Find("Usage Limits") == nullptr) return OkStatus();
  auto charge = [&](Managed& m) -> Status {
    const kmip::Attribute* limits = m.Find("Usage Limits");
    if (limits == nullptr || !limits->value.is_structure()) return OkStatus();
    const ttlv::Item* total = limits->value.Find(kTagUsageLimitsTotal);
    const ttlv::Item* count = limits->value.Find(kTagUsageLimitsCount);
    const ttlv::Item* unit = limits->value.Find(kTagUsageLimitsUnit);
    if (total == nullptr || unit == nullptr) return OkStatus();
    // The Count is what remains; the server set it to the Total when the
    // object was made (§3.21).
    const int64_t remaining = count != nullptr ? count->int_value() : total->int_value();
    int64_t need = 0;
    if (static_cast<uint32_t>(unit->int_value()) == kUnitByte) {
      need = static_cast<int64_t>(bytes);
    } else if (static_cast<uint32_t>(unit->int_value()) == kUnitObject) {
      need = new_object ? 1 : 0;
    }
    if (need > remaining) {
      return Fail(ResultReason::kPermissionDenied,
                  "object " + uid + " has " + std::to_string(remaining) +
                      " units left of its Usage Limits; this call needs " + std::to_string(need));
    }
    ttlv::Item updated = ttlv::Item::Structure(
        limits->value.tag(),
        {ttlv::Item::LongInteger(kTagUsageLimitsTotal, total->int_value()),
         ttlv::Item::LongInteger(kTagUsageLimitsCount, remaining - need),
         ttlv::Item::Enumeration(kTagUsageLimitsUnit, static_cast<uint32_t>(unit->int_value()))});
    m.Set(kmip::Attribute{"Usage Limits", std::nullopt, std::move(updated)});
    return OkStatus();
  };
  ASSIGN_OR_RETURN(Managed ignored, Modify(uid, charge));
  (void)ignored;
  return OkStatus();
}

Result<Ops::UsableKey> Ops::LoadUsableKey(const kmip::CryptoRequest& req, int32_t usage,
                                          std::string* uid) {
  const std::string op(kmip::OperationName(req.operation));
  // Decrypt processes protected data; Encrypt and MAC apply protection.
  const bool protect = usage != kmip::usage::kDecrypt;
  ASSIGN_OR_RETURN(Managed m, LoadForUse(req.uid, usage, protect, req.operation, uid));
  if (static_cast<kmip::ObjectType>(m.record.object_type) != kmip::ObjectType::kSymmetricKey) {
    return Fail(
        ResultReason::kFeatureNotSupported,
        op + " is supported with Symmetric Keys only; object " + *uid + " is a " +
            std::string(kmip::ObjectTypeName(static_cast<kmip::ObjectType>(m.record.object_type))));
  }
  UsableKey k;
  const kmip::Attribute* algorithm = m.Find("Cryptographic Algorithm");
  if (algorithm == nullptr || algorithm->value.type() != ttlv::ItemType::kEnumeration) {
    return Fail(ResultReason::kFeatureNotSupported,
                "object " + m.record.uid + " has no Cryptographic Algorithm");
  }
  k.algorithm = static_cast<uint32_t>(algorithm->value.int_value());
  // Request parameters replace the key's own (1.4 §4.29: "if omitted, the
  // server uses the Cryptographic Parameters attribute of the key").
  const kmip::Attribute* own = m.Find("Cryptographic Parameters");
  const ttlv::Item* params = req.cryptographic_parameters.has_value()
                                 ? &*req.cryptographic_parameters
                             : own != nullptr ? &own->value
                                              : nullptr;
  if (params != nullptr) k.params = *params;
  ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, m));
  ASSIGN_OR_RETURN(k.key, SymmetricKeyBytes(object));
  if (protect) RETURN_IF_ERROR(ChargeUsage(*uid, req.data.size(), true));
  return k;
}

Result<ttlv::Item> Ops::Mac(const ttlv::Item& p, std::string* uid) {
  auto decoded = kmip::CryptoRequest::Decode(p, v_, Operation::kMac);
  if (!decoded.ok()) return Fail(ResultReason::kInvalidMessage, decoded.status().message());
  const kmip::CryptoRequest& req = *decoded;
  if (req.correlation_value || req.init_indicator.value_or(false) ||
      req.final_indicator.value_or(false)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "multi-part MAC is not supported; send the data in one request");
  }
  ASSIGN_OR_RETURN(UsableKey k, LoadUsableKey(req, kmip::usage::kMacGenerate, uid));
  if (!IsHmac(k.algorithm)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "MAC supports HMAC keys only; the key's Cryptographic Algorithm is " +
                    std::to_string(k.algorithm));
  }
  ASSIGN_OR_RETURN(CryptoParams params, ParseCryptoParams(k.params ? &*k.params : nullptr));
  if (params.algorithm && !IsHmac(*params.algorithm)) {
    return Fail(ResultReason::kInvalidField,
                "Cryptographic Parameters name Cryptographic Algorithm " +
                    std::to_string(*params.algorithm) + ", which is not an HMAC");
  }
  // The digest: the request's Hashing Algorithm, else its HMAC algorithm,
  // else the key's.
  std::string digest(HmacDigest(params.algorithm.value_or(k.algorithm), params.hashing));
  if (digest.empty()) {
    return Fail(ResultReason::kFeatureNotSupported,
                "Hashing Algorithm " + std::to_string(params.hashing.value_or(0)) +
                    " is not supported for MAC (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512)");
  }
  if (k.key.empty()) return Fail(ResultReason::kInvalidField, "the HMAC key is empty");
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest.c_str(), nullptr, k.key.data(), k.key.size(),
                req.data.data(), req.data.size(), mac, sizeof(mac), &mac_len) == nullptr) {
    return Fail(ResultReason::kCryptographicFailure,
                "HMAC failed: " + crypto::OpenSslErrorString());
  }
  kmip::CryptoResponse resp;
  resp.operation = Operation::kMac;
  resp.uid = *uid;
  resp.data.assign(mac, mac + mac_len);
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::RngRetrieve(const ttlv::Item& p) {
  VMCRYPT_DECODE(req, kmip::RngRetrieveRequest, p);
  if (req.data_length <= 0 || req.data_length > kMaxRngBytes) {
    return Fail(ResultReason::kInvalidField, "Data Length " + std::to_string(req.data_length) +
                                                 " is out of range (1.." +
                                                 std::to_string(kMaxRngBytes) + ")");
  }
  kmip::RngRetrieveResponse resp;
  resp.data.resize(static_cast<size_t>(req.data_length));
  RETURN_IF_ERROR(crypto::RandomBytes(resp.data));
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
