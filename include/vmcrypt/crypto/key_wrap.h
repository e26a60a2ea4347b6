// AES key wrapping with a key-encryption key (KEK) of 128, 192 or 256 bits.
//
// - AesKeyWrap/AesKeyUnwrap: AES Key Wrap, RFC 3394 (NIST SP 800-38F §6.2
//   "KW", OID id-aes{128,192,256}-wrap; KMIP 1.4 §9.1.3.2.14 Block Cipher
//   Mode "NISTKeyWrap"). The key data is a multiple of 8 bytes, at least 16.
//   Output is 8 bytes longer than the input.
// - AesKeyWrapPad/AesKeyUnwrapPad: AES Key Wrap with Padding, RFC 5649 (SP
//   800-38F §6.3 "KWP", OID id-aes{128,192,256}-wrap-pad; KMIP Block Cipher
//   Mode "AESKeyWrapPadding"). Any key data length from 1 byte up; output is
//   the length rounded up to a multiple of 8, plus 8.
//
// Both use the default initial values of their RFC (A6A6A6A6A6A6A6A6 and
// A65959A6 || 32-bit length). Wrapping is deterministic: the same KEK and key
// give the same output (these are key-wrap modes, not general encryption).
//
// Errors: a KEK that is not 16, 24 or 32 bytes, or key data of a length the
// mode cannot wrap, is InvalidArgument. Every unwrap failure of a wrapped blob
// (bad length, failed integrity check, bad padding) is DataLoss; an integrity
// failure says only "key unwrap failed: integrity check" so that the error
// cannot serve as an oracle. Messages never contain key bytes.
//
// Thread-safety: free functions without shared state.
#ifndef VMCRYPT_CRYPTO_KEY_WRAP_H_
#define VMCRYPT_CRYPTO_KEY_WRAP_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::crypto {

// Largest key data accepted by the wrap functions (far above any key; keeps
// lengths within OpenSSL's int-sized lengths and RFC 5649's 32-bit MLI).
inline constexpr size_t kMaxWrappedKeyData = 1 << 20;

// RFC 3394 wrap. `key` must be a multiple of 8 bytes, 16 <= size <=
// kMaxWrappedKeyData. Returns key.size() + 8 bytes.
Result<std::vector<uint8_t>> AesKeyWrap(const SecretBytes& kek, std::span<const uint8_t> key);

// RFC 3394 unwrap. `wrapped` must be a multiple of 8 bytes and at least 24.
// Returns wrapped.size() - 8 bytes of key data.
Result<SecretBytes> AesKeyUnwrap(const SecretBytes& kek, std::span<const uint8_t> wrapped);

// RFC 5649 wrap. 1 <= key.size() <= kMaxWrappedKeyData.
Result<std::vector<uint8_t>> AesKeyWrapPad(const SecretBytes& kek, std::span<const uint8_t> key);

// RFC 5649 unwrap. `wrapped` must be a multiple of 8 bytes and at least 16.
// Returns the key data, with the padding checked (must be zeros) and removed.
Result<SecretBytes> AesKeyUnwrapPad(const SecretBytes& kek, std::span<const uint8_t> wrapped);

}  // namespace vmcrypt::crypto

#endif  // VMCRYPT_CRYPTO_KEY_WRAP_H_
