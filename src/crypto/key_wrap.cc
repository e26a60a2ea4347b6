// AES-KW (RFC 3394) and AES-KWP (RFC 5649) through OpenSSL's provider
// ciphers "AES-{128,192,256}-WRAP" and "AES-{128,192,256}-WRAP-PAD", which
// implement SP 800-38F §6.2/§6.3 with the RFCs' default initial values.
#include "vmcrypt/crypto/key_wrap.h"

#include <openssl/evp.h>

#include <string>

#include "src/crypto/internal.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::crypto {
namespace {

enum class WrapMode { kKw, kKwp };

// Both modes work on 64-bit semiblocks (RFC 3394 §2, RFC 5649 §4.1).
constexpr size_t kSemiblock = 8;

// One message for every failed check, whatever OpenSSL found wrong (ICV,
// MLI or padding): an unwrap must not become an oracle (SP 800-38F §6.2/§6.3
// return only FAIL).
Status IntegrityFailure() { return DataLossError("key unwrap failed: integrity check"); }

Result<const char*> CipherName(size_t kek_size, WrapMode mode) {
  const bool pad = mode == WrapMode::kKwp;
  switch (kek_size) {
    case 16:
      return pad ? "AES-128-WRAP-PAD" : "AES-128-WRAP";
    case 24:
      return pad ? "AES-192-WRAP-PAD" : "AES-192-WRAP";
    case 32:
      return pad ? "AES-256-WRAP-PAD" : "AES-256-WRAP";
    default:
      return InvalidArgumentError("key wrap: KEK must be 16, 24 or 32 bytes, got " +
                                  std::to_string(kek_size));
  }
}

// Runs one whole wrap (encrypt) or unwrap over `in` into `out`, which the
// caller sized for the longest possible result. Returns the bytes written.
// An unwrap rejected by the cipher is the integrity failure; every other
// failure is an unexpected library error.
Result<size_t> RunWrapCipher(const SecretBytes& kek, WrapMode mode, bool encrypt,
                             std::span<const uint8_t> in, std::span<uint8_t> out) {
  ASSIGN_OR_RETURN(const char* name, CipherName(kek.size(), mode));
  const EVP_CIPHER* cipher = CachedCipher(name);
  if (cipher == nullptr) return internal::OpenSslFailure(std::string("fetch ") + name);
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr) return internal::OpenSslFailure("EVP_CIPHER_CTX_new");
  // Wrap modes are refused by the legacy EVP path unless this flag is set;
  // OpenSSL 3 provider ciphers do not need it, but setting it keeps the code
  // correct if a legacy (engine) implementation is ever picked up.
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  // A null IV selects the RFC default initial value (RFC 3394 §2.2.3.1,
  // RFC 5649 §3 "Alternative Initial Value").
  if (EVP_CipherInit_ex2(ctx.get(), cipher, kek.data(), nullptr, encrypt ? 1 : 0, nullptr) != 1) {
    return internal::OpenSslFailure("key wrap: cipher init");
  }
  // The wrap ciphers take the whole input in one update (the callers have
  // bounded it by kMaxWrappedKeyData, so it fits an int).
  int written = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &written, in.data(), static_cast<int>(in.size())) !=
          1 ||
      written < 0 || static_cast<size_t>(written) > out.size()) {
    if (encrypt) return internal::OpenSslFailure("key wrap failed");
    internal::ClearOpenSslErrors();
    return IntegrityFailure();
  }
  int final_written = 0;
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + written, &final_written) != 1 ||
      final_written != 0) {
    if (encrypt) return internal::OpenSslFailure("key wrap: final");
    internal::ClearOpenSslErrors();
    return IntegrityFailure();
  }
  return static_cast<size_t>(written);
}

Result<std::vector<uint8_t>> Wrap(const SecretBytes& kek, std::span<const uint8_t> key,
                                  WrapMode mode) {
  RETURN_IF_ERROR(CipherName(kek.size(), mode).status());
  if (key.size() > kMaxWrappedKeyData) {
    return InvalidArgumentError("key wrap: key data of " + std::to_string(key.size()) +
                                " bytes exceeds the limit");
  }
  size_t out_size = 0;
  if (mode == WrapMode::kKw) {
    // RFC 3394 §2: n >= 2 semiblocks of plaintext.
    if (key.size() < 2 * kSemiblock || key.size() % kSemiblock != 0) {
      return InvalidArgumentError(
          "AES key wrap (RFC 3394): key data must be a multiple of 8 bytes and at least 16, got " +
          std::to_string(key.size()));
    }
    out_size = key.size() + kSemiblock;
  } else {
    // RFC 5649 §4.1: 1 <= m octets; padded to a multiple of 8, plus the AIV.
    if (key.empty()) {
      return InvalidArgumentError("AES key wrap with padding (RFC 5649): key data is empty");
    }
    out_size = (key.size() + kSemiblock - 1) / kSemiblock * kSemiblock + kSemiblock;
  }
  std::vector<uint8_t> out(out_size);
  ASSIGN_OR_RETURN(size_t written, RunWrapCipher(kek, mode, /*encrypt=*/true, key, out));
  if (written != out_size) {
    return InternalError("key wrap: cipher wrote " + std::to_string(written) + " bytes, expected " +
                         std::to_string(out_size));
  }
  return out;
}

Result<SecretBytes> Unwrap(const SecretBytes& kek, std::span<const uint8_t> wrapped,
                           WrapMode mode) {
  RETURN_IF_ERROR(CipherName(kek.size(), mode).status());
  // The length of a wrapped blob is public: say what is wrong with it.
  // RFC 3394 §2.2.2: n >= 2 semiblocks plus the ICV; RFC 5649 §4.2: at least
  // the AIV block and one semiblock.
  const size_t min_size = mode == WrapMode::kKw ? 3 * kSemiblock : 2 * kSemiblock;
  if (wrapped.size() < min_size || wrapped.size() % kSemiblock != 0 ||
      wrapped.size() > kMaxWrappedKeyData + 2 * kSemiblock) {
    return DataLossError("key unwrap failed: wrapped length " + std::to_string(wrapped.size()) +
                         " is not a multiple of 8 in [" + std::to_string(min_size) + ", " +
                         std::to_string(kMaxWrappedKeyData + 2 * kSemiblock) + "]");
  }
  // Decrypted data goes straight into zeroising memory; on any failure it is
  // wiped when `buf` goes out of scope.
  SecretBytes buf(wrapped.size());
  ASSIGN_OR_RETURN(size_t written,
                   RunWrapCipher(kek, mode, /*encrypt=*/false, wrapped, buf.mutable_span()));
  const size_t max_plain = wrapped.size() - kSemiblock;
  if (written > max_plain || (mode == WrapMode::kKw && written != max_plain) || written == 0) {
    return IntegrityFailure();
  }
  return SecretBytes(buf.span().first(written));
}

}  // namespace

Result<std::vector<uint8_t>> AesKeyWrap(const SecretBytes& kek, std::span<const uint8_t> key) {
  return Wrap(kek, key, WrapMode::kKw);
}

Result<SecretBytes> AesKeyUnwrap(const SecretBytes& kek, std::span<const uint8_t> wrapped) {
  return Unwrap(kek, wrapped, WrapMode::kKw);
}

Result<std::vector<uint8_t>> AesKeyWrapPad(const SecretBytes& kek, std::span<const uint8_t> key) {
  return Wrap(kek, key, WrapMode::kKwp);
}

Result<SecretBytes> AesKeyUnwrapPad(const SecretBytes& kek, std::span<const uint8_t> wrapped) {
  return Unwrap(kek, wrapped, WrapMode::kKwp);
}

}  // namespace vmcrypt::crypto
