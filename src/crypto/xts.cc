// XTS-AES-256 through OpenSSL's provider cipher "AES-256-XTS". OpenSSL
// processes one data unit per EVP_CipherUpdate call, with the IV (the tweak)
// set by the preceding EVP_CipherInit_ex2; the AES-NI/VAES code paths work on
// the whole data unit at once (never block-at-a-time from here).
//
// Cost (OpenSSL 3.0, bench/disk/disk-bench.sh): the per-sector tweak
// re-initialisation costs 10-14% of a 4 KiB sector inside EVP's init path
// (the same when EVP is called directly); EVP_CipherInit_ex with only the
// IV, EVP_CipherInit_ex2 and EVP_Cipher measured the same, and 3.0's
// AES-XTS ignores an "iv" context parameter, so there is no cheaper public
// path.
#include "vmcrypt/crypto/xts.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <string>

#include "src/crypto/internal.h"

namespace vmcrypt::crypto {
namespace {

Result<EvpCipherCtxPtr> NewContext(const EVP_CIPHER* cipher, const SecretBytes& key, bool encrypt) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return internal::OpenSslFailure("EVP_CIPHER_CTX_new");
  if (EVP_CipherInit_ex2(ctx.get(), cipher, key.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1) {
    return internal::OpenSslFailure("XTS-AES-256: key init");
  }
  return ctx;
}

}  // namespace

Result<XtsAes256> XtsAes256::Create(const SecretBytes& key, size_t sector_size) {
  if (key.size() != kXtsAes256KeySize) {
    return InvalidArgumentError("XTS-AES-256: key must be 64 bytes, got " +
                                std::to_string(key.size()));
  }
  // FIPS 140-3 IG C.I: Key1 and Key2 must differ (equal halves reduce XTS to
  // a weaker mode). Compared in constant time.
  if (CRYPTO_memcmp(key.data(), key.data() + 32, 32) == 0) {
    return InvalidArgumentError("XTS-AES-256: the two key halves are equal");
  }
  if (sector_size < 16 || sector_size % 16 != 0 || sector_size > kXtsMaxSectorSize) {
    return InvalidArgumentError("XTS-AES-256: sector size must be a multiple of 16 in [16, " +
                                std::to_string(kXtsMaxSectorSize) + "], got " +
                                std::to_string(sector_size));
  }
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr));
  if (cipher == nullptr) return internal::OpenSslFailure("fetch AES-256-XTS");
  ASSIGN_OR_RETURN(EvpCipherCtxPtr enc, NewContext(cipher.get(), key, /*encrypt=*/true));
  ASSIGN_OR_RETURN(EvpCipherCtxPtr dec, NewContext(cipher.get(), key, /*encrypt=*/false));
  return XtsAes256(sector_size, std::move(enc), std::move(dec));
}

Status XtsAes256::Encrypt(uint64_t first_sector, std::span<const uint8_t> in,
                          std::span<uint8_t> out) {
  return Run(enc_.get(), true, first_sector, in, out);
}

Status XtsAes256::Decrypt(uint64_t first_sector, std::span<const uint8_t> in,
                          std::span<uint8_t> out) {
  return Run(dec_.get(), false, first_sector, in, out);
}

Status XtsAes256::Run(EVP_CIPHER_CTX* ctx, bool encrypt, uint64_t first_sector,
                      std::span<const uint8_t> in, std::span<uint8_t> out) {
  if (in.size() != out.size()) {
    return InvalidArgumentError("XTS-AES-256: input and output sizes differ");
  }
  if (in.size() % sector_size_ != 0) {
    return InvalidArgumentError("XTS-AES-256: " + std::to_string(in.size()) +
                                " bytes is not a whole number of " + std::to_string(sector_size_) +
                                "-byte sectors");
  }
  const size_t sectors = in.size() / sector_size_;
  for (size_t i = 0; i < sectors; ++i) {
    // IEEE 1619 §5.1: the tweak is the data unit sequence number as a
    // 128-bit little-endian value. Sector numbers are 64-bit; the high half
    // stays zero.
    std::array<uint8_t, 16> tweak{};
    uint64_t n = first_sector + i;
    for (size_t b = 0; b < 8; ++b) tweak[b] = static_cast<uint8_t>(n >> (8 * b));
    if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, tweak.data(), encrypt ? 1 : 0, nullptr) != 1) {
      return internal::OpenSslFailure("XTS-AES-256: tweak init");
    }
    int written = 0;
    const size_t off = i * sector_size_;
    if (EVP_CipherUpdate(ctx, out.data() + off, &written, in.data() + off,
                         static_cast<int>(sector_size_)) != 1 ||
        static_cast<size_t>(written) != sector_size_) {
      return internal::OpenSslFailure("XTS-AES-256: update");
    }
  }
  return OkStatus();
}

}  // namespace vmcrypt::crypto
