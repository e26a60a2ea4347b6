// Helpers shared by the asymmetric-key operations: ops_asym.cc (Create Key
// Pair, LoadForUse), ops_sign.cc (Sign, Signature Verify) and
// ops_asym_cipher.cc (RSA Encrypt / Decrypt). Internal to kms.
//
// Thread-safety: constants and functions without shared state.
#ifndef VMCRYPT_SRC_KMS_ASYM_OPS_UTIL_H_
#define VMCRYPT_SRC_KMS_ASYM_OPS_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "src/kms/managed.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kms::internal::asym {

using kmip::ResultReason;

// Tags tags.h does not name (1.4 §9.1.3.1).
inline constexpr uint32_t kTagHashingAlgorithm = 0x420038;
inline constexpr uint32_t kTagDigitalSignatureAlgorithm = 0x4200AE;
inline constexpr uint32_t kTagSaltLength = 0x420100;
inline constexpr uint32_t kTagMaskGenerator = 0x420101;
inline constexpr uint32_t kTagMaskGeneratorHashingAlgorithm = 0x420102;
inline constexpr uint32_t kTagPSource = 0x420103;

// Padding Method values (1.4 §9.1.3.2.15) and Mask Generator MGF1 (§9.1.3.2.41).
inline constexpr uint32_t kPaddingOaep = 0x02;
inline constexpr uint32_t kPaddingPkcs1v15 = 0x08;
inline constexpr uint32_t kPaddingPss = 0x0A;
inline constexpr uint32_t kMgf1 = 0x01;

// KMIP 2.x Result Reasons (2.1 §11.47) for what 1.x calls Permission Denied,
// Invalid Field or Feature Not Supported; enums.h has the 1.x ones only.
inline constexpr auto kWrongKeyLifecycleState = static_cast<ResultReason>(0x43);
inline constexpr auto kIncompatibleUsageMask = static_cast<ResultReason>(0x29);
inline constexpr auto kBadCryptographicParameters = static_cast<ResultReason>(0x24);
inline constexpr auto kUnsupportedCryptographicParameters = static_cast<ResultReason>(0x3E);
inline constexpr auto kInvalidObjectType = static_cast<ResultReason>(0x30);

// The OpenSSL name of a KMIP Hashing Algorithm (1.4 §9.1.3.2.16); empty
// when not supported for signatures.
inline std::string HashName(uint32_t h) {
  switch (h) {
    case 0x04:
      return "SHA1";
    case 0x05:
      return "SHA224";
    case 0x06:
      return "SHA256";
    case 0x07:
      return "SHA384";
    case 0x08:
      return "SHA512";
    case 0x0F:
      return "SHA3-256";
    case 0x10:
      return "SHA3-384";
    case 0x11:
      return "SHA3-512";
    default:
      return {};
  }
}

// An Enumeration field of Cryptographic Parameters, absent or mistyped.
inline Result<std::optional<uint32_t>> EnumIn(const ttlv::Item& s, uint32_t tag, const char* name) {
  const ttlv::Item* f = s.Find(tag);
  if (f == nullptr) return std::optional<uint32_t>();
  if (f->type() != ttlv::ItemType::kEnumeration) {
    return Fail(ResultReason::kInvalidField,
                std::string("Cryptographic Parameters field ") + name + " has the wrong type");
  }
  return std::optional<uint32_t>(static_cast<uint32_t>(f->int_value()));
}

// A Cryptographic Failure with OpenSSL's error queue (which never holds key
// bytes).
inline Status CryptoError(const std::string& what) {
  return Fail(ResultReason::kCryptographicFailure, what + ": " + crypto::OpenSslErrorString());
}

// True for the parts of a multi-part call (1.4 §2.1.15-§2.1.17).
inline bool Streaming(const std::optional<ttlv::Bytes>& correlation,
                      const std::optional<bool>& init, const std::optional<bool>& final) {
  return correlation.has_value() || init.value_or(false) != final.value_or(false);
}

}  // namespace vmcrypt::kms::internal::asym

#endif  // VMCRYPT_SRC_KMS_ASYM_OPS_UTIL_H_
