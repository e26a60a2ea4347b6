// XTS-AES-256 (IEEE Std 1619-2007; NIST SP 800-38E) over data units
// ("sectors") of a fixed size, through OpenSSL's "AES-256-XTS" EVP cipher.
//
// The 64-byte key is Key1 || Key2 (IEEE 1619 §5.1: Key1 encrypts the data,
// Key2 the tweak). The tweak of sector number i is i as a 16-byte
// little-endian integer (IEEE 1619 §5.1 "data unit sequence number"). Sizes
// are whole numbers of 16-byte blocks, so no ciphertext stealing occurs.
//
// An XtsAes256 holds one keyed encryption context and one keyed decryption
// context; each Encrypt/Decrypt call reuses them for its whole run of
// sectors, re-initialising only the tweak per sector (AES key schedules are
// computed once, at Create). The contexts are freed (and their key schedules
// cleansed by OpenSSL) with the object.
//
// Errors: a key that is not 64 bytes, or whose halves are equal (refused as
// the FIPS 140-3 IG C.I rule for XTS requires; OpenSSL's FIPS provider does
// the same), is InvalidArgument; a sector size that is not a multiple of 16
// in [16, kXtsMaxSectorSize], or a buffer that is not a whole number of
// sectors, is InvalidArgument. An OpenSSL failure is Internal. No message
// contains key or data bytes.
//
// Thread-safety: one thread at a time per object (the contexts are mutable);
// distinct objects, even with the same key, may be used concurrently.
#ifndef VMCRYPT_CRYPTO_XTS_H_
#define VMCRYPT_CRYPTO_XTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::crypto {

inline constexpr size_t kXtsAes256KeySize = 64;
// The sector size of vmcrypt disks.
inline constexpr size_t kXtsSectorSize = 4096;
// IEEE 1619 §5.1: a data unit has at most 2^20 blocks of 16 bytes.
inline constexpr size_t kXtsMaxSectorSize = size_t{16} << 20;

class XtsAes256 {
 public:
  // Keys a cipher for sectors of `sector_size` bytes (IEEE 1619 vectors use
  // 512-byte data units; vmcrypt disks use kXtsSectorSize).
  static Result<XtsAes256> Create(const SecretBytes& key, size_t sector_size = kXtsSectorSize);

  XtsAes256(XtsAes256&&) noexcept = default;
  XtsAes256& operator=(XtsAes256&&) noexcept = default;

  size_t sector_size() const { return sector_size_; }

  // Encrypts in.size() / sector_size() consecutive sectors, the first being
  // sector number `first_sector`, into `out` (same size; `out` may be the same
  // memory as `in`, not partly overlapping it). Errors as in the file comment.
  Status Encrypt(uint64_t first_sector, std::span<const uint8_t> in, std::span<uint8_t> out);
  // The inverse of Encrypt.
  Status Decrypt(uint64_t first_sector, std::span<const uint8_t> in, std::span<uint8_t> out);

 private:
  XtsAes256(size_t sector_size, EvpCipherCtxPtr enc, EvpCipherCtxPtr dec)
      : sector_size_(sector_size), enc_(std::move(enc)), dec_(std::move(dec)) {}
  Status Run(EVP_CIPHER_CTX* ctx, bool encrypt, uint64_t first_sector, std::span<const uint8_t> in,
             std::span<uint8_t> out);

  size_t sector_size_;
  EvpCipherCtxPtr enc_;
  EvpCipherCtxPtr dec_;
};

}  // namespace vmcrypt::crypto

#endif  // VMCRYPT_CRYPTO_XTS_H_
