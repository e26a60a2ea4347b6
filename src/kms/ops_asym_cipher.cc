// Encrypt (KMIP 1.4 §4.29) and Decrypt (§4.30) with RSA keys: RSAES-OAEP
// and RSAES-PKCS1-v1_5 (RFC 8017 §7), single-part. The symmetric path
// (ops_cipher.cc) refuses Public and Private Keys; Ops::Run then hands the
// request here (AsymmetricFallback). Encrypt uses the Public Key, Decrypt
// the Private Key.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "src/kms/asym_keys.h"
#include "src/kms/asym_ops_util.h"
#include "src/kms/ops.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using asym::CryptoError;
using asym::EnumIn;
using asym::HashName;
using asym::kMgf1;
using asym::kPaddingOaep;
using asym::kPaddingPkcs1v15;
using asym::kTagHashingAlgorithm;
using asym::kTagMaskGenerator;
using asym::kTagMaskGeneratorHashingAlgorithm;
using asym::kTagPSource;
using asym::Streaming;
using kmip::Attribute;
using kmip::CryptographicAlgorithm;
using kmip::ObjectType;
using kmip::Operation;
using kmip::ResultReason;

namespace {

// RSA encryption parameters (1.4 §3.6): Padding Method OAEP (default) or
// PKCS1 v1.5; for OAEP the Hashing Algorithm and the Mask Generator Hashing
// Algorithm (both SHA-1 when absent, RFC 8017 §A.2.1 and 1.4 §3.6) and the
// P Source label.
struct RsaCipherScheme {
  int padding = RSA_PKCS1_OAEP_PADDING;
  std::string md = "SHA1";
  std::string mgf1_md = "SHA1";
  ttlv::Bytes label;
};

Result<RsaCipherScheme> RsaCipherSchemeFor(const ttlv::Item* params, bool v2) {
  const ResultReason bad = v2 ? asym::kBadCryptographicParameters : ResultReason::kInvalidField;
  const ResultReason unsupported =
      v2 ? asym::kUnsupportedCryptographicParameters : ResultReason::kFeatureNotSupported;
  RsaCipherScheme s;
  if (params == nullptr) return s;
  if (!params->is_structure()) return Fail(bad, "Cryptographic Parameters is not a structure");
  ASSIGN_OR_RETURN(auto alg,
                   EnumIn(*params, ttlv::tag::kCryptographicAlgorithm, "Cryptographic Algorithm"));
  ASSIGN_OR_RETURN(auto padding, EnumIn(*params, ttlv::tag::kPaddingMethod, "Padding Method"));
  ASSIGN_OR_RETURN(auto hash, EnumIn(*params, kTagHashingAlgorithm, "Hashing Algorithm"));
  ASSIGN_OR_RETURN(auto mgf, EnumIn(*params, kTagMaskGenerator, "Mask Generator"));
  ASSIGN_OR_RETURN(auto mgf_hash, EnumIn(*params, kTagMaskGeneratorHashingAlgorithm,
                                         "Mask Generator Hashing Algorithm"));
  if (alg && static_cast<CryptographicAlgorithm>(*alg) != CryptographicAlgorithm::kRsa) {
    return Fail(bad, "Cryptographic Parameters name Cryptographic Algorithm " +
                         std::to_string(*alg) + " for an RSA key");
  }
  if (padding && *padding == kPaddingPkcs1v15) {
    s.padding = RSA_PKCS1_PADDING;
    return s;
  }
  if (padding && *padding != kPaddingOaep) {
    return Fail(unsupported, "Padding Method " + std::to_string(*padding) +
                                 " is not supported for RSA encryption (OAEP, PKCS1 v1.5)");
  }
  if (mgf && *mgf != kMgf1) {
    return Fail(unsupported, "Mask Generator " + std::to_string(*mgf) + " is not supported (MGF1)");
  }
  if (hash) s.md = HashName(*hash);
  if (mgf_hash) s.mgf1_md = HashName(*mgf_hash);
  if (s.md.empty() || s.mgf1_md.empty()) {
    return Fail(unsupported, "the OAEP hash is not supported (SHA-1, SHA-2, SHA-3)");
  }
  if (const ttlv::Item* label = params->Find(kTagPSource); label != nullptr) {
    if (label->type() != ttlv::ItemType::kByteString) {
      return Fail(bad, "P Source must be a Byte String");
    }
    s.label = label->bytes();
  }
  return s;
}

// One RSA encryption or decryption (RFC 8017 §7). A ciphertext that does
// not decrypt is a Cryptographic Failure, whatever the cause.
Result<ttlv::Bytes> RsaCipher(EVP_PKEY* pkey, const RsaCipherScheme& s, bool encrypt,
                              const ttlv::Bytes& in) {
  crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx ||
      (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), s.padding) <= 0) {
    return CryptoError("RSA set-up failed");
  }
  if (s.padding == RSA_PKCS1_OAEP_PADDING) {
    if (EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), s.md.c_str(), nullptr) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), s.mgf1_md.c_str(), nullptr) <= 0) {
      return CryptoError("RSA OAEP set-up failed");
    }
    if (!s.label.empty()) {
      // OpenSSL takes ownership of the label buffer.
      void* label = OPENSSL_memdup(s.label.data(), s.label.size());
      if (label == nullptr || EVP_PKEY_CTX_set0_rsa_oaep_label(
                                  ctx.get(), label, static_cast<int>(s.label.size())) <= 0) {
        OPENSSL_free(label);
        return CryptoError("RSA OAEP label");
      }
    }
  }
  size_t len = 0;
  auto run = [&](uint8_t* out) {
    return encrypt ? EVP_PKEY_encrypt(ctx.get(), out, &len, in.data(), in.size())
                   : EVP_PKEY_decrypt(ctx.get(), out, &len, in.data(), in.size());
  };
  if (run(nullptr) != 1)
    return CryptoError(encrypt ? "RSA encryption failed" : "RSA decryption failed");
  ttlv::Bytes out(len);
  if (run(out.data()) != 1) {
    (void)crypto::OpenSslErrorString();
    return Fail(ResultReason::kCryptographicFailure,
                encrypt ? "RSA encryption failed: the data is too long for the key and padding"
                        : "RSA decryption failed");
  }
  out.resize(len);
  return out;
}

}  // namespace

Result<ttlv::Item> Ops::AsymmetricFallback(Result<ttlv::Item> symmetric, const ttlv::Item& p,
                                           Operation op, std::string* uid) {
  if (symmetric.ok() || ReasonOf(symmetric.status()) != ResultReason::kFeatureNotSupported ||
      uid->empty()) {
    return symmetric;
  }
  auto m = Load(store_, client_.tenant, *uid);
  if (!m.ok() || !IsAsymmetricKey(static_cast<ObjectType>(m->record.object_type))) {
    return symmetric;
  }
  auto decoded = kmip::CryptoRequest::Decode(p, v_, op);
  if (!decoded.ok()) return Fail(ResultReason::kInvalidMessage, decoded.status().message());
  const kmip::CryptoRequest& req = *decoded;
  const bool encrypt = op == Operation::kEncrypt;
  const std::string name(kmip::OperationName(op));
  if (Streaming(req.correlation_value, req.init_indicator, req.final_indicator)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "multi-part " + name + " is not supported with RSA keys");
  }
  if (req.iv_counter_nonce || req.authenticated_encryption_additional_data ||
      req.authenticated_encryption_tag) {
    return Fail(ResultReason::kInvalidField, name + " with an RSA key takes no IV or tag");
  }
  ASSIGN_OR_RETURN(Managed key,
                   LoadForUse(req.uid, encrypt ? kmip::usage::kEncrypt : kmip::usage::kDecrypt,
                              encrypt, op, uid));
  const auto want = encrypt ? ObjectType::kPublicKey : ObjectType::kPrivateKey;
  if (static_cast<ObjectType>(key.record.object_type) != want) {
    return Fail(
        v_.is_v2() ? asym::kInvalidObjectType : ResultReason::kIllegalOperation,
        name + " needs a " + std::string(kmip::ObjectTypeName(want)) + "; object " + *uid +
            " is a " +
            std::string(kmip::ObjectTypeName(static_cast<ObjectType>(key.record.object_type))));
  }
  ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, key));
  ASSIGN_OR_RETURN(crypto::EvpPkeyPtr pkey, ParseKey(object));
  if (EVP_PKEY_is_a(pkey.get(), "RSA") != 1) {
    return Fail(ResultReason::kFeatureNotSupported,
                name + " with asymmetric keys is supported for RSA keys only");
  }
  const Attribute* own = key.Find("Cryptographic Parameters");
  const ttlv::Item* params = req.cryptographic_parameters ? &*req.cryptographic_parameters
                             : own != nullptr             ? &own->value
                                                          : nullptr;
  ASSIGN_OR_RETURN(RsaCipherScheme scheme, RsaCipherSchemeFor(params, v_.is_v2()));
  if (encrypt) RETURN_IF_ERROR(ChargeUsage(*uid, req.data.size(), true));
  kmip::CryptoResponse resp;
  resp.operation = op;
  resp.uid = *uid;
  ASSIGN_OR_RETURN(resp.data, RsaCipher(pkey.get(), scheme, encrypt, req.data));
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
