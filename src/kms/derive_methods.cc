// The Derive Key methods (see derive_methods.h).
#include "src/kms/derive_methods.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <vector>

#include "src/kms/crypto_params.h"
#include "src/kms/managed.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal::derive {

using kmip::CryptographicAlgorithm;
using kmip::ResultReason;

namespace {

// Tags that tags.h does not name (1.4 §9.1.3.1).
constexpr uint32_t kTagHashingAlgorithm = 0x420038;
constexpr uint32_t kTagInitializationVector = 0x42003A;
constexpr uint32_t kTagDerivationData = 0x420030;
constexpr uint32_t kTagSalt = 0x420084;
constexpr uint32_t kTagIterationCount = 0x42003C;
// Block Cipher Modes (1.4 §9.1.3.2.14) and Padding Methods (§9.1.3.2.15).
constexpr uint32_t kModeCbc = 0x01, kModeEcb = 0x02;
constexpr uint32_t kPaddingNone = 0x01, kPaddingPkcs5 = 0x03;
// A bound on the work a client can ask for.
constexpr int32_t kMaxIterations = 10'000'000;

std::optional<uint32_t> EnumOf(const std::optional<ttlv::Item>& s, uint32_t tag) {
  if (!s) return std::nullopt;
  const ttlv::Item* f = s->Find(tag);
  if (f == nullptr || f->type() != ttlv::ItemType::kEnumeration) return std::nullopt;
  return static_cast<uint32_t>(f->int_value());
}

Status CryptoError(const std::string& what) {
  return Fail(ResultReason::kCryptographicFailure, what + ": " + crypto::OpenSslErrorString());
}

Result<SecretBytes> RunKdf(const char* kdf, std::vector<OSSL_PARAM> params, size_t length) {
  params.push_back(OSSL_PARAM_construct_end());
  crypto::EvpKdfPtr k(EVP_KDF_fetch(nullptr, kdf, nullptr));
  crypto::EvpKdfCtxPtr ctx(k ? EVP_KDF_CTX_new(k.get()) : nullptr);
  if (!ctx) return CryptoError(std::string("no ") + kdf);
  SecretBytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params.data()) != 1) {
    return CryptoError(std::string(kdf) + " failed");
  }
  return out;
}

}  // namespace

Status Bad(const std::string& what) {
  return Fail(ResultReason::kInvalidField, "Derivation Parameters: " + what);
}

// 1.4 Tables 182-183, 2.1 Table 364; fields may come in any order.
Result<DerivationParameters> ParseDerivationParameters(const ttlv::Item& s) {
  DerivationParameters d;
  for (const ttlv::Item& f : s.children()) {
    switch (f.tag()) {
      case ttlv::tag::kCryptographicParameters:
        if (!f.is_structure()) return Bad("Cryptographic Parameters is not a structure");
        d.cryptographic_parameters = f;
        break;
      case kTagInitializationVector:
      case kTagDerivationData:
      case kTagSalt: {
        if (f.type() != ttlv::ItemType::kByteString) return Bad("a field is not a Byte String");
        auto& slot = f.tag() == kTagInitializationVector ? d.iv
                     : f.tag() == kTagDerivationData     ? d.data
                                                         : d.salt;
        if (slot) return Bad("a field is repeated");
        slot = f.bytes();
        break;
      }
      case kTagIterationCount:
        if (f.type() != ttlv::ItemType::kInteger) return Bad("Iteration Count is not an Integer");
        d.iterations = static_cast<int32_t>(f.int_value());
        break;
      default:
        return Bad("unknown field " + std::to_string(f.tag()));
    }
  }
  return d;
}

Result<std::string> DigestFor(const DerivationParameters& d, uint32_t base_algorithm,
                              const char* fallback) {
  if (auto h = EnumOf(d.cryptographic_parameters, kTagHashingAlgorithm)) {
    std::string name(HmacDigest(std::nullopt, *h));
    if (name.empty()) {
      return Fail(ResultReason::kFeatureNotSupported,
                  "Hashing Algorithm " + std::to_string(*h) +
                      " is not supported for Derive Key (SHA-1, SHA-224, SHA-256, SHA-384, "
                      "SHA-512)");
    }
    return name;
  }
  if (auto a = EnumOf(d.cryptographic_parameters, ttlv::tag::kCryptographicAlgorithm)) {
    if (std::string name(HmacDigest(*a, std::nullopt)); !name.empty()) return name;
  }
  if (std::string name(HmacDigest(base_algorithm, std::nullopt)); !name.empty()) return name;
  if (fallback == nullptr) {
    return Fail(ResultReason::kInvalidField,
                "no Hashing Algorithm in the Cryptographic Parameters and the base key is not "
                "an HMAC key");
  }
  return std::string(fallback);
}

Result<SecretBytes> Pbkdf2(const SecretBytes& password, const DerivationParameters& d,
                           uint32_t base_algorithm, size_t length) {
  if (!d.salt) return Fail(ResultReason::kMissingData, "PBKDF2 needs a Salt");
  if (!d.iterations) return Fail(ResultReason::kMissingData, "PBKDF2 needs an Iteration Count");
  if (*d.iterations < 1 || *d.iterations > kMaxIterations) {
    return Bad("Iteration Count must be 1.." + std::to_string(kMaxIterations));
  }
  ASSIGN_OR_RETURN(std::string md, DigestFor(d, base_algorithm, "SHA1"));
  ttlv::Bytes salt = *d.salt;
  int pkcs5 = 1;  // PKCS#5 semantics: no SP 800-132 minimums (those are policy)
  uint64_t iter = static_cast<uint64_t>(*d.iterations);
  return RunKdf(
      "PBKDF2",
      {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, md.data(), 0),
       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                         const_cast<uint8_t*>(password.data()), password.size()),
       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
       OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
       OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5)},
      length);
}

Result<SecretBytes> KbkdfCounter(const SecretBytes& key, const ttlv::Bytes& data,
                                 const std::string& md, size_t length) {
  std::string mode = "COUNTER";
  std::string mac = "HMAC";
  std::string digest = md;
  ttlv::Bytes label = data;
  int no = 0;
  return RunKdf("KBKDF",
                {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, mode.data(), 0),
                 OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MAC, mac.data(), 0),
                 OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
                 OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                   const_cast<uint8_t*>(key.data()), key.size()),
                 OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, label.data(), label.size()),
                 OSSL_PARAM_construct_int(OSSL_KDF_PARAM_KBKDF_USE_L, &no),
                 OSSL_PARAM_construct_int(OSSL_KDF_PARAM_KBKDF_USE_SEPARATOR, &no)},
                length);
}

Result<SecretBytes> Hkdf(const SecretBytes& key, const DerivationParameters& d,
                         const std::string& md, size_t length) {
  std::string digest = md;
  ttlv::Bytes salt = d.salt.value_or(ttlv::Bytes{});
  ttlv::Bytes info = d.data.value_or(ttlv::Bytes{});
  return RunKdf("HKDF",
                {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
                 OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                                   const_cast<uint8_t*>(key.data()), key.size()),
                 OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
                 OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size())},
                length);
}

Result<SecretBytes> Digest(const std::string& md, std::span<const uint8_t> in) {
  SecretBytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (EVP_Digest(in.data(), in.size(), out.data(), &n, EVP_get_digestbyname(md.c_str()), nullptr) !=
      1) {
    return CryptoError("hash failed");
  }
  SecretBytes r(out.span().first(n));
  return r;
}

Result<SecretBytes> Hmac(const std::string& md, const SecretBytes& key,
                         std::span<const uint8_t> in) {
  SecretBytes out(EVP_MAX_MD_SIZE);
  size_t n = 0;
  if (key.empty()) return Bad("the HMAC key is empty");
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, md.c_str(), nullptr, key.data(), key.size(), in.data(),
                in.size(), out.data(), out.size(), &n) == nullptr) {
    return CryptoError("HMAC failed");
  }
  return SecretBytes(out.span().first(n));
}

Result<SecretBytes> AesEncrypt(const SecretBytes& key, const DerivationParameters& d) {
  const auto mode = EnumOf(d.cryptographic_parameters, ttlv::tag::kBlockCipherMode);
  if (!mode)
    return Fail(ResultReason::kMissingData, "ENCRYPT derivation needs a Block Cipher Mode");
  if (*mode != kModeEcb && *mode != kModeCbc) {
    return Fail(ResultReason::kFeatureNotSupported,
                "ENCRYPT derivation supports Block Cipher Modes ECB and CBC");
  }
  const auto padding = EnumOf(d.cryptographic_parameters, ttlv::tag::kPaddingMethod);
  if (padding && *padding != kPaddingNone && *padding != kPaddingPkcs5) {
    return Fail(ResultReason::kFeatureNotSupported, "Padding Method must be None or PKCS5");
  }
  const bool cbc = *mode == kModeCbc;
  const size_t n = key.size();
  if (n != 16 && n != 24 && n != 32) return Bad("the base key is not an AES key");
  const EVP_CIPHER* c = cbc ? (n == 16   ? EVP_aes_128_cbc()
                               : n == 24 ? EVP_aes_192_cbc()
                                         : EVP_aes_256_cbc())
                            : (n == 16   ? EVP_aes_128_ecb()
                               : n == 24 ? EVP_aes_192_ecb()
                                         : EVP_aes_256_ecb());
  ttlv::Bytes iv = d.iv.value_or(ttlv::Bytes(cbc ? 16 : 0, 0));  // "empty IV is assumed"
  if (cbc && iv.size() != 16) return Bad("the Initialization Vector must be 16 bytes for CBC");
  const ttlv::Bytes& in = *d.data;
  const bool pad = padding == kPaddingPkcs5;
  if (!pad && in.size() % 16 != 0) {
    return Bad("with no padding the Derivation Data must be a multiple of 16 bytes");
  }
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  SecretBytes out(in.size() + 16);
  int a = 0, b = 0;
  if (!ctx ||
      EVP_EncryptInit_ex2(ctx.get(), c, key.data(), cbc ? iv.data() : nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), pad ? 1 : 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &a, in.data(), static_cast<int>(in.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + a, &b) != 1) {
    return CryptoError("AES failed");
  }
  return SecretBytes(out.span().first(static_cast<size_t>(a + b)));
}

}  // namespace vmcrypt::kms::internal::derive
