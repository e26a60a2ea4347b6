// Key derivation and message authentication: HKDF-SHA256, HMAC, PBKDF2, and
// a constant-time comparison for MACs and tags.
//
// Errors: parameters outside a function's documented range are
// InvalidArgument; an unexpected OpenSSL failure is Internal (with the
// OpenSSL error queue, which never holds key bytes). Messages never contain
// key, password or derived bytes.
//
// Thread-safety: free functions without shared state.
#ifndef VMCRYPT_CRYPTO_KDF_H_
#define VMCRYPT_CRYPTO_KDF_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::crypto {

// The hash functions offered for HMAC and PBKDF2 (FIPS 180-4).
enum class HashAlgorithm {
  kSha256,
  kSha384,
  kSha512,
};

// Digest size in bytes (32, 48, 64).
size_t HashSize(HashAlgorithm hash);

// HKDF with HMAC-SHA256, extract then expand (RFC 5869 §2.2, §2.3).
// `ikm` must be non-empty (a derivation from nothing is public). An empty
// `salt` means "not provided" (RFC 5869 §2.2: HashLen zero bytes); `info` may
// be empty. 1 <= length <= 255 * 32 (RFC 5869 §2.3).
Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::span<const uint8_t> salt,
                               std::span<const uint8_t> info, size_t length);

// HMAC (RFC 2104, FIPS 198-1) of `data` under `key`; returns HashSize(hash)
// bytes. `key` must be non-empty; keys longer than the hash block are hashed
// first (RFC 2104 §2). Compare the result with ConstantTimeEquals.
Result<std::vector<uint8_t>> Hmac(HashAlgorithm hash, const SecretBytes& key,
                                  std::span<const uint8_t> data);

// PBKDF2 with HMAC-`hash` as PRF (RFC 8018 §5.2, formerly RFC 2898; the KMIP
// 1.4 §4.6 "PBKDF2" derivation method). `password` and `salt` may be empty;
// iterations >= 1; 1 <= length <= kMaxPbkdf2Length. The work grows linearly
// with `iterations`: callers that take it from a peer must bound it first.
// No SP 800-132 minimums are enforced here (that is policy for the caller).
inline constexpr size_t kMaxPbkdf2Length = 1024;
Result<SecretBytes> Pbkdf2(HashAlgorithm hash, std::span<const uint8_t> password,
                           std::span<const uint8_t> salt, uint32_t iterations, size_t length);

// True iff `a` and `b` hold the same bytes. The time taken depends on the
// sizes (which are not secret) but not on the contents (CRYPTO_memcmp).
bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace vmcrypt::crypto

#endif  // VMCRYPT_CRYPTO_KDF_H_
