// Random bytes from OpenSSL's default DRBG.
//
// RAND_bytes draws from the library's public/private DRBG chain (NIST SP
// 800-90A CTR_DRBG with AES-256, seeded and periodically reseeded from the
// operating system: getrandom(2)). It is fork-safe in OpenSSL 3.
//
// Thread-safety: safe from any thread (OpenSSL 3 keeps per-thread DRBGs).
#ifndef VMCRYPT_CRYPTO_RANDOM_H_
#define VMCRYPT_CRYPTO_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::crypto {

// Fills `out` with random bytes. An empty span is OK.
// Errors: Internal if the DRBG fails (e.g. it could not be seeded); `out` is
// then wiped to zeros, never left partly random.
Status RandomBytes(std::span<uint8_t> out);

// Returns `n` random bytes as key material (n == 0 gives an empty secret).
// Errors: as RandomBytes.
Result<SecretBytes> RandomSecret(size_t n);

}  // namespace vmcrypt::crypto

#endif  // VMCRYPT_CRYPTO_RANDOM_H_
