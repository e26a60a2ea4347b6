// AES-GCM (NIST SP 800-38D) through OpenSSL's "AES-{128,256}-GCM" provider
// ciphers. The tag check in EVP_DecryptFinal_ex uses CRYPTO_memcmp.
#include "vmcrypt/crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <string>

#include "src/crypto/internal.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::crypto {
namespace {

Status AuthenticationFailure() { return DataLossError("authentication failed"); }

// Checks key, IV and tag sizes; returns the cipher name for the key size.
Result<const char*> CheckGcmParams(const SecretBytes& key, std::span<const uint8_t> iv,
                                   size_t tag_len) {
  const char* name = nullptr;
  switch (key.size()) {
    case 16:
      name = "AES-128-GCM";
      break;
    case 32:
      name = "AES-256-GCM";
      break;
    default:
      return InvalidArgumentError("AES-GCM: key must be 16 or 32 bytes, got " +
                                  std::to_string(key.size()));
  }
  // SP 800-38D §5.2.1.1: IV length >= 1 bit; 96 bits is the efficient case.
  if (iv.empty() || iv.size() > kGcmMaxIvSize) {
    return InvalidArgumentError("AES-GCM: IV must be 1 to " + std::to_string(kGcmMaxIvSize) +
                                " bytes, got " + std::to_string(iv.size()));
  }
  // SP 800-38D §5.2.1.2: 128, 120, 112, 104 or 96 bits (32 and 64 only with
  // the Appendix C limits, which we do not track, so they are refused).
  if (tag_len < kGcmMinTagSize || tag_len > kGcmTagSize) {
    return InvalidArgumentError("AES-GCM: tag length must be 12 to 16 bytes, got " +
                                std::to_string(tag_len));
  }
  return name;
}

// Creates a context keyed with `key` and `iv` for encryption or decryption.
Result<EvpCipherCtxPtr> NewGcmContext(const char* name, const SecretBytes& key,
                                      std::span<const uint8_t> iv, bool encrypt) {
  const EVP_CIPHER* cipher = CachedCipher(name);
  if (cipher == nullptr) return internal::OpenSslFailure(std::string("fetch ") + name);
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return internal::OpenSslFailure("EVP_CIPHER_CTX_new");
  const int enc = encrypt ? 1 : 0;
  // The IV length must be set before the IV itself, so initialise in two
  // steps: cipher, then IV length, then key and IV.
  if (EVP_CipherInit_ex2(ctx.get(), cipher, nullptr, nullptr, enc, nullptr) != 1) {
    return internal::OpenSslFailure("AES-GCM: cipher init");
  }
  size_t iv_len = iv.size();
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &iv_len),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_set_params(ctx.get(), params) != 1) {
    return internal::OpenSslFailure("AES-GCM: set IV length");
  }
  if (EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), iv.data(), enc, nullptr) != 1) {
    return internal::OpenSslFailure("AES-GCM: key/IV init");
  }
  return ctx;
}

// Feeds `in` through EVP_CipherUpdate in int-sized chunks. With `out` null
// the input is associated data. GCM output tracks input byte for byte.
Status Update(EVP_CIPHER_CTX* ctx, uint8_t* out, std::span<const uint8_t> in) {
  for (size_t done = 0; done < in.size();) {
    const size_t n = std::min(in.size() - done, internal::kMaxOpenSslChunk);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out == nullptr ? nullptr : out + done, &written, in.data() + done,
                         static_cast<int>(n)) != 1 ||
        static_cast<size_t>(written) != n) {
      return internal::OpenSslFailure("AES-GCM: update");
    }
    done += n;
  }
  return OkStatus();
}

// Seals into `out`, which holds exactly plaintext.size() + tag_len bytes.
Status SealInto(const SecretBytes& key, std::span<const uint8_t> iv, std::span<const uint8_t> aad,
                std::span<const uint8_t> plaintext, size_t tag_len, std::span<uint8_t> out) {
  ASSIGN_OR_RETURN(const char* name, CheckGcmParams(key, iv, tag_len));
  ASSIGN_OR_RETURN(EvpCipherCtxPtr ctx, NewGcmContext(name, key, iv, /*encrypt=*/true));
  RETURN_IF_ERROR(Update(ctx.get(), nullptr, aad));
  RETURN_IF_ERROR(Update(ctx.get(), out.data(), plaintext));
  int final_written = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + plaintext.size(), &final_written) != 1 ||
      final_written != 0) {
    return internal::OpenSslFailure("AES-GCM: final");
  }
  // The tag is the leftmost tag_len bytes of the full tag (SP 800-38D §7.1
  // step 6, MSB_t).
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out.data() + plaintext.size(),
                                        tag_len),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_get_params(ctx.get(), params) != 1) {
    return internal::OpenSslFailure("AES-GCM: get tag");
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<uint8_t>> AesGcmSeal(const SecretBytes& key, std::span<const uint8_t> iv,
                                        std::span<const uint8_t> aad,
                                        std::span<const uint8_t> plaintext, size_t tag_len) {
  RETURN_IF_ERROR(CheckGcmParams(key, iv, tag_len).status());
  std::vector<uint8_t> out(plaintext.size() + tag_len);
  RETURN_IF_ERROR(SealInto(key, iv, aad, plaintext, tag_len, out));
  return out;
}

Result<SecretBytes> AesGcmOpen(const SecretBytes& key, std::span<const uint8_t> iv,
                               std::span<const uint8_t> aad, std::span<const uint8_t> sealed,
                               size_t tag_len) {
  ASSIGN_OR_RETURN(const char* name, CheckGcmParams(key, iv, tag_len));
  if (sealed.size() < tag_len) return AuthenticationFailure();
  const std::span<const uint8_t> ciphertext = sealed.first(sealed.size() - tag_len);
  // OSSL_PARAM wants a mutable pointer; give it a copy of the (public) tag.
  std::array<uint8_t, kGcmTagSize> tag{};
  std::copy_n(sealed.data() + ciphertext.size(), tag_len, tag.begin());

  ASSIGN_OR_RETURN(EvpCipherCtxPtr ctx, NewGcmContext(name, key, iv, /*encrypt=*/false));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag.data(), tag_len),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_set_params(ctx.get(), params) != 1) {
    return internal::OpenSslFailure("AES-GCM: set tag");
  }
  // Plaintext is decrypted into zeroising memory and released only after the
  // tag verifies (SP 800-38D §7.2 step 8); on failure `plaintext` is wiped as
  // it goes out of scope.
  SecretBytes plaintext(ciphertext.size());
  RETURN_IF_ERROR(Update(ctx.get(), nullptr, aad));
  RETURN_IF_ERROR(Update(ctx.get(), plaintext.data(), ciphertext));
  int final_written = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + plaintext.size(), &final_written) != 1 ||
      final_written != 0) {
    internal::ClearOpenSslErrors();
    return AuthenticationFailure();
  }
  return plaintext;
}

Result<std::vector<uint8_t>> SealWithRandomIv(const SecretBytes& key, std::span<const uint8_t> aad,
                                              std::span<const uint8_t> plaintext) {
  std::vector<uint8_t> box(kGcmIvSize + plaintext.size() + kGcmTagSize);
  const std::span<uint8_t> iv = std::span(box).first(kGcmIvSize);
  RETURN_IF_ERROR(CheckGcmParams(key, iv, kGcmTagSize).status());
  RETURN_IF_ERROR(RandomBytes(iv));
  RETURN_IF_ERROR(
      SealInto(key, iv, aad, plaintext, kGcmTagSize, std::span(box).subspan(kGcmIvSize)));
  return box;
}

Result<SecretBytes> OpenSealed(const SecretBytes& key, std::span<const uint8_t> aad,
                               std::span<const uint8_t> box) {
  if (key.size() != 16 && key.size() != 32) {
    return InvalidArgumentError("AES-GCM: key must be 16 or 32 bytes, got " +
                                std::to_string(key.size()));
  }
  if (box.size() < kSealedBoxOverhead) {
    return DataLossError("sealed box truncated: " + std::to_string(box.size()) +
                         " bytes, need at least " + std::to_string(kSealedBoxOverhead));
  }
  return AesGcmOpen(key, box.first(kGcmIvSize), aad, box.subspan(kGcmIvSize), kGcmTagSize);
}

}  // namespace vmcrypt::crypto
