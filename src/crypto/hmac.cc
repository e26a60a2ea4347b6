// HMAC (RFC 2104, FIPS 198-1) through OpenSSL's EVP_MAC "HMAC", and the
// constant-time comparison used to check MACs.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <string>

#include "src/crypto/internal.h"
#include "vmcrypt/crypto/kdf.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::crypto {

namespace internal {

Result<const char*> DigestName(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return "SHA256";
    case HashAlgorithm::kSha384:
      return "SHA384";
    case HashAlgorithm::kSha512:
      return "SHA512";
    default:
      return InvalidArgumentError("unknown hash algorithm " +
                                  std::to_string(static_cast<int>(hash)));
  }
}

}  // namespace internal

size_t HashSize(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha384:
      return 48;
    case HashAlgorithm::kSha512:
      return 64;
    default:
      return 0;
  }
}

Result<std::vector<uint8_t>> Hmac(HashAlgorithm hash, const SecretBytes& key,
                                  std::span<const uint8_t> data) {
  ASSIGN_OR_RETURN(const char* digest, internal::DigestName(hash));
  // An empty key is legal in RFC 2104 but authenticates nothing; it is
  // always a caller bug here. (EVP_MAC_init also reads a null key as "keep
  // the previous key".)
  if (key.empty()) return InvalidArgumentError("HMAC: key is empty");
  EVP_MAC* mac = const_cast<EVP_MAC*>(CachedMac("HMAC"));  // EVP_MAC_CTX_new takes non-const
  if (mac == nullptr) return internal::OpenSslFailure("fetch HMAC");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac));
  if (ctx == nullptr) return internal::OpenSslFailure("EVP_MAC_CTX_new");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) {
    return internal::OpenSslFailure("HMAC init");
  }
  if (!data.empty() && EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1) {
    return internal::OpenSslFailure("HMAC update");
  }
  std::vector<uint8_t> out(HashSize(hash));
  size_t written = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &written, out.size()) != 1 || written != out.size()) {
    return internal::OpenSslFailure("HMAC final");
  }
  return out;
}

bool ConstantTimeEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vmcrypt::crypto
