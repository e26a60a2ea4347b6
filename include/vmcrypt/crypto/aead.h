// AES-GCM authenticated encryption (NIST SP 800-38D) with 128- or 256-bit
// keys, and a self-describing "sealed box" for keeping secrets at rest.
//
// Seal/Open take the IV from the caller. GCM's security rests on never
// repeating an IV under one key: callers either use a counter they persist,
// or use SealWithRandomIv, whose 96-bit random IVs are safe for up to 2^32
// messages per key (SP 800-38D §8.3).
//
// Sealed box layout (SealWithRandomIv / OpenSealed):
//   offset 0   12 bytes  IV (random, from the DRBG)
//   offset 12  n bytes   ciphertext (n = plaintext size)
//   offset 12+n 16 bytes tag
// The associated data is not stored; the opener must present the same bytes
// (bind the box to its context, e.g. an object id and a purpose string).
//
// Errors: a key that is not 16 or 32 bytes, an empty or overlong IV, or an
// unsupported tag length is InvalidArgument. Any authentication failure
// (wrong key, IV, AAD, ciphertext or tag) is DataLoss "authentication
// failed", decided by OpenSSL's constant-time tag comparison; no plaintext is
// released in that case. Messages never contain key or plaintext bytes.
//
// Thread-safety: free functions without shared state.
#ifndef VMCRYPT_CRYPTO_AEAD_H_
#define VMCRYPT_CRYPTO_AEAD_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::crypto {

inline constexpr size_t kGcmIvSize = 12;      // the recommended 96-bit IV
inline constexpr size_t kGcmMaxIvSize = 128;  // longer IVs are GHASHed; cap them
inline constexpr size_t kGcmTagSize = 16;     // default and sealed-box tag
inline constexpr size_t kGcmMinTagSize = 12;  // SP 800-38D §5.2.1.2; 4 and 8 refused
inline constexpr size_t kSealedBoxOverhead = kGcmIvSize + kGcmTagSize;

// Encrypts `plaintext` under `key` and `iv`, authenticating `aad` too.
// Returns ciphertext || tag (plaintext.size() + tag_len bytes).
// `iv`: 1..kGcmMaxIvSize bytes (12 recommended). `tag_len`: 12..16.
Result<std::vector<uint8_t>> AesGcmSeal(const SecretBytes& key, std::span<const uint8_t> iv,
                                        std::span<const uint8_t> aad,
                                        std::span<const uint8_t> plaintext,
                                        size_t tag_len = kGcmTagSize);

// Verifies and decrypts `sealed` = ciphertext || tag (tag of `tag_len` bytes).
// Errors: as AesGcmSeal for parameters; DataLoss "authentication failed" if
// the tag does not verify or `sealed` is shorter than the tag.
Result<SecretBytes> AesGcmOpen(const SecretBytes& key, std::span<const uint8_t> iv,
                               std::span<const uint8_t> aad, std::span<const uint8_t> sealed,
                               size_t tag_len = kGcmTagSize);

// Seals `plaintext` into a sealed box (layout above) with a fresh random IV.
// Errors: as AesGcmSeal; Internal if the DRBG fails.
Result<std::vector<uint8_t>> SealWithRandomIv(const SecretBytes& key, std::span<const uint8_t> aad,
                                              std::span<const uint8_t> plaintext);

// Opens a sealed box. Errors: InvalidArgument for a bad key size; DataLoss
// if the box is shorter than kSealedBoxOverhead ("sealed box truncated") or
// does not authenticate ("authentication failed").
Result<SecretBytes> OpenSealed(const SecretBytes& key, std::span<const uint8_t> aad,
                               std::span<const uint8_t> box);

}  // namespace vmcrypt::crypto

#endif  // VMCRYPT_CRYPTO_AEAD_H_
