// HKDF (RFC 5869) and PBKDF2 (RFC 8018 §5.2) through OpenSSL's EVP_KDF
// implementations "HKDF" and "PBKDF2". Inputs are handed over as OSSL_PARAMs;
// OpenSSL copies them into the KDF context and cleanses them when the
// context is freed.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <string>
#include <vector>

#include "src/crypto/internal.h"
#include "vmcrypt/crypto/kdf.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::crypto {
namespace {

constexpr size_t kSha256Size = 32;

// OSSL_PARAM takes non-const pointers although the KDFs only read inputs.
// Empty inputs still get a valid (never read) pointer.
OSSL_PARAM OctetParam(const char* key, std::span<const uint8_t> bytes) {
  static constexpr uint8_t kEmpty = 0;
  const uint8_t* p = bytes.empty() ? &kEmpty : bytes.data();
  return OSSL_PARAM_construct_octet_string(key, const_cast<uint8_t*>(p), bytes.size());
}

// Runs the KDF `name` with `params`, writing `length` bytes.
Result<SecretBytes> Derive(const char* name, const std::vector<OSSL_PARAM>& params, size_t length) {
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  if (kdf == nullptr) return internal::OpenSslFailure(std::string("fetch ") + name);
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (ctx == nullptr) return internal::OpenSslFailure("EVP_KDF_CTX_new");
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params.data()) != 1) {
    return internal::OpenSslFailure(std::string(name) + " derive");
  }
  return out;
}

}  // namespace

Result<SecretBytes> HkdfSha256(const SecretBytes& ikm, std::span<const uint8_t> salt,
                               std::span<const uint8_t> info, size_t length) {
  if (ikm.empty()) return InvalidArgumentError("HKDF: input key material is empty");
  // RFC 5869 §2.3: L <= 255 * HashLen.
  if (length == 0 || length > 255 * kSha256Size) {
    return InvalidArgumentError("HKDF-SHA256: output length must be 1 to 8160 bytes, got " +
                                std::to_string(length));
  }
  char digest[] = "SHA256";
  // Default mode is extract-then-expand (RFC 5869 §2.2 and §2.3). An absent
  // salt is HashLen zeros (§2.2), which as an HMAC key equals the empty key,
  // so leaving the parameter out is exact.
  std::vector<OSSL_PARAM> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OctetParam(OSSL_KDF_PARAM_KEY, ikm.span()),
  };
  if (!salt.empty()) params.push_back(OctetParam(OSSL_KDF_PARAM_SALT, salt));
  if (!info.empty()) params.push_back(OctetParam(OSSL_KDF_PARAM_INFO, info));
  params.push_back(OSSL_PARAM_construct_end());
  return Derive("HKDF", params, length);
}

Result<SecretBytes> Pbkdf2(HashAlgorithm hash, std::span<const uint8_t> password,
                           std::span<const uint8_t> salt, uint32_t iterations, size_t length) {
  ASSIGN_OR_RETURN(const char* digest, internal::DigestName(hash));
  if (iterations == 0) return InvalidArgumentError("PBKDF2: iteration count must be >= 1");
  if (length == 0 || length > kMaxPbkdf2Length) {
    return InvalidArgumentError("PBKDF2: output length must be 1 to " +
                                std::to_string(kMaxPbkdf2Length) + " bytes, got " +
                                std::to_string(length));
  }
  unsigned int iter = iterations;
  // "pkcs5" = 1 turns off the SP 800-132 lower bounds (salt >= 16 bytes,
  // iterations >= 1000, output >= 14 bytes) that a FIPS provider applies by
  // default: KMIP clients choose these parameters and the policy on them
  // belongs to the caller, not to the primitive.
  int pkcs5 = 1;
  std::vector<OSSL_PARAM> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OctetParam(OSSL_KDF_PARAM_PASSWORD, password),
      OctetParam(OSSL_KDF_PARAM_SALT, salt),
      OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5),
      OSSL_PARAM_construct_end(),
  };
  return Derive("PBKDF2", params, length);
}

}  // namespace vmcrypt::crypto
