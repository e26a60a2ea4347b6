#include "src/kms/cipher_stream.h"

#include <limits>
#include <string>
#include <utility>

#include "src/kms/managed.h"

namespace vmcrypt::kms::internal {

using kmip::ResultReason;

namespace {

Status CipherError(std::string_view what) {
  return Fail(ResultReason::kCryptographicFailure,
              std::string(what) + ": " + crypto::OpenSslErrorString());
}

// EVP takes int lengths.
Status CheckLength(size_t n) {
  if (n > static_cast<size_t>(std::numeric_limits<int>::max() - EVP_MAX_BLOCK_LENGTH)) {
    return Fail(ResultReason::kInvalidField, "the data is too long for one call");
  }
  return OkStatus();
}

}  // namespace

Result<CipherStream> CipherStream::Start(const CipherSpec& spec, const SecretBytes& key,
                                         std::span<const uint8_t> iv,
                                         std::span<const uint8_t> aad) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || spec.cipher == nullptr) return CipherError("cannot make a cipher context");
  const int enc = spec.encrypt ? 1 : 0;
  if (EVP_CipherInit_ex2(ctx.get(), spec.cipher, nullptr, nullptr, enc, nullptr) != 1) {
    return CipherError("cipher set-up failed");
  }
  if (static_cast<size_t>(EVP_CIPHER_CTX_get_key_length(ctx.get())) != key.size()) {
    return Fail(ResultReason::kInvalidField, "the key length does not fit the cipher");
  }
  // AEAD nonces may differ from the default length (GCM: 1..128 bytes,
  // SP 800-38D §5.2.1.1); the other ciphers take exactly their IV length.
  const int iv_len = EVP_CIPHER_CTX_get_iv_length(ctx.get());
  if (spec.aead && !iv.empty() && static_cast<int>(iv.size()) != iv_len &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(iv.size()),
                          nullptr) != 1) {
    return CipherError("the cipher does not take an IV of that length");
  }
  if (!spec.aead && iv_len > 0 && static_cast<int>(iv.size()) != iv_len) {
    return Fail(ResultReason::kInvalidField, "IV/Counter/Nonce of " + std::to_string(iv.size()) +
                                                 " bytes; the cipher needs " +
                                                 std::to_string(iv_len));
  }
  if (EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), iv.empty() ? nullptr : iv.data(), enc,
                         nullptr) != 1) {
    return CipherError("cipher set-up failed");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), spec.pad ? 1 : 0);
  if (spec.aead && !aad.empty()) {
    RETURN_IF_ERROR(CheckLength(aad.size()));
    int n = 0;
    if (EVP_CipherUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) {
      return CipherError("the cipher failed on the additional data");
    }
  }
  return CipherStream(spec, std::move(ctx));
}

Result<ttlv::Bytes> CipherStream::Update(std::span<const uint8_t> in) {
  RETURN_IF_ERROR(CheckLength(in.size()));
  ttlv::Bytes out(in.size() + EVP_MAX_BLOCK_LENGTH);
  int n = 0;
  if (!in.empty() &&
      EVP_CipherUpdate(ctx_.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1) {
    return CipherError("cipher failed");
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<CipherStream::Final> CipherStream::Finish(std::span<const uint8_t> tag) {
  if (spec_.aead && !spec_.encrypt) {
    ttlv::Bytes expected(tag.begin(), tag.end());
    if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(expected.size()),
                            expected.data()) != 1) {
      return Fail(ResultReason::kCryptographicFailure,
                  "the Authenticated Encryption Tag has a length the cipher cannot check");
    }
  }
  Final f;
  f.data.resize(EVP_MAX_BLOCK_LENGTH);
  int n = 0;
  if (EVP_CipherFinal_ex(ctx_.get(), f.data.data(), &n) != 1) {
    // The data-dependent failures: bad PKCS#5 padding, a tag that does not verify.
    if (spec_.encrypt) return CipherError("cipher failed");
    return Fail(ResultReason::kCryptographicFailure,
                spec_.aead ? "decryption failed: the Authenticated Encryption Tag does not verify"
                           : "decryption failed: bad padding");
  }
  f.data.resize(static_cast<size_t>(n));
  if (spec_.aead && spec_.encrypt) {
    f.tag.resize(spec_.tag_len);
    if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(spec_.tag_len),
                            f.tag.data()) != 1) {
      return CipherError("cannot make the tag");
    }
  }
  return f;
}

}  // namespace vmcrypt::kms::internal
