// The Derive Key methods (KMIP 1.4 §4.6, §9.1.3.2.21; 2.1 §6.1.12) as pure
// functions of the base key and the Derivation Parameters; ops_derive.cc
// makes the object. Internal to kms.
//
// Errors are KMIP failures (Fail): Invalid Field for bad parameters, Missing
// Data for absent ones, Feature Not Supported for unsupported hashes or
// modes, Cryptographic Failure for OpenSSL errors. Messages never hold key or
// derived bytes.
//
// Thread-safety: functions without shared state.
#ifndef VMCRYPT_SRC_KMS_DERIVE_METHODS_H_
#define VMCRYPT_SRC_KMS_DERIVE_METHODS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kms::internal::derive {

enum class Method : uint32_t {
  kPbkdf2 = 1,
  kHash = 2,
  kHmac = 3,
  kEncrypt = 4,
  kNist800108Counter = 5,
  kHkdf = 0x0A,  // KMIP 2.0 (2.1 §11.16)
};

// The Derivation Parameters structure (1.4 Tables 182-183, 2.1 Table 364).
struct DerivationParameters {
  std::optional<ttlv::Item> cryptographic_parameters;
  std::optional<ttlv::Bytes> iv;
  std::optional<ttlv::Bytes> data;
  std::optional<ttlv::Bytes> salt;
  std::optional<int32_t> iterations;
};

// Parses the structure; fields may come in any order. Invalid Field for
// unknown, repeated or mistyped fields.
Result<DerivationParameters> ParseDerivationParameters(const ttlv::Item& s);

// An Invalid Field failure about the Derivation Parameters.
Status Bad(const std::string& what);

// The OpenSSL digest for a method: the Cryptographic Parameters' Hashing
// Algorithm, else their HMAC Cryptographic Algorithm, else the base key's
// HMAC algorithm (`base_algorithm`), else `fallback` (an error when null).
Result<std::string> DigestFor(const DerivationParameters& d, uint32_t base_algorithm,
                              const char* fallback);

// PBKDF2 (RFC 8018 §5.2) of `password` with the parameters' Salt and
// Iteration Count (1..10^7), PRF HMAC-SHA-1 unless the parameters say
// otherwise; `length` bytes.
Result<SecretBytes> Pbkdf2(const SecretBytes& password, const DerivationParameters& d,
                           uint32_t base_algorithm, size_t length);
// SP 800-108 counter mode with HMAC-`md`: [i]_32 || `data`, no [L].
Result<SecretBytes> KbkdfCounter(const SecretBytes& key, const ttlv::Bytes& data,
                                 const std::string& md, size_t length);
// RFC 5869 HKDF with HMAC-`md`: Salt as salt, Derivation Data as info.
Result<SecretBytes> Hkdf(const SecretBytes& key, const DerivationParameters& d,
                         const std::string& md, size_t length);
// The `md` hash of `in`.
Result<SecretBytes> Digest(const std::string& md, std::span<const uint8_t> in);
// HMAC-`md`(key, in).
Result<SecretBytes> Hmac(const std::string& md, const SecretBytes& key,
                         std::span<const uint8_t> in);
// AES-ECB or -CBC (the parameters' Block Cipher Mode, Padding Method None or
// PKCS5, Initialization Vector) of the Derivation Data under `key`.
Result<SecretBytes> AesEncrypt(const SecretBytes& key, const DerivationParameters& d);

}  // namespace vmcrypt::kms::internal::derive

#endif  // VMCRYPT_SRC_KMS_DERIVE_METHODS_H_
