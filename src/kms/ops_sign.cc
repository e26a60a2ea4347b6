// Sign (KMIP 1.4 §4.31) and Signature Verify (§4.32), single-part.
//
// Signatures are RSA PKCS#1 v1.5, RSASSA-PSS and ECDSA (DER-encoded, X9.62)
// over SHA-1/SHA-2/SHA-3, chosen by the request's Cryptographic Parameters
// or else the key's own (§4.31: "If omitted then the Cryptographic
// Parameters associated with the Managed Cryptographic Object with the
// lowest Attribute Index SHALL be used"). Refusals use the 1.x Result
// Reasons in 1.x and the 2.x ones (2.1 §6.1.55.1) in 2.x.
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
using asym::kPaddingPkcs1v15;
using asym::kPaddingPss;
using asym::kTagDigitalSignatureAlgorithm;
using asym::kTagHashingAlgorithm;
using asym::kTagMaskGenerator;
using asym::kTagMaskGeneratorHashingAlgorithm;
using asym::kTagSaltLength;
using asym::Streaming;
using kmip::Attribute;
using kmip::CryptographicAlgorithm;
using kmip::ObjectType;
using kmip::Operation;
using kmip::ResultReason;

namespace {

// A signature scheme: OpenSSL digest name, RSA padding (0 for ECDSA), PSS
// salt length and MGF1 digest.
struct Scheme {
  std::string md;
  int padding = 0;
  std::optional<int> salt_length;
  std::string mgf1_md;
};

// Applies the RSA padding, PSS salt and MGF1 digest of `s` to `pctx`.
Status Configure(EVP_PKEY_CTX* pctx, const Scheme& s, bool verify) {
  if (s.padding == 0) return OkStatus();
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, s.padding) <= 0) return CryptoError("RSA padding");
  if (s.padding != RSA_PKCS1_PSS_PADDING) return OkStatus();
  // Without a Salt Length: sign with a salt as long as the digest (RFC 8017
  // §9.1 typical choice), accept any salt when verifying.
  const int salt = s.salt_length.value_or(verify ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST);
  if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, s.mgf1_md.c_str(), nullptr) <= 0) {
    return Fail(ResultReason::kInvalidField, "the PSS Salt Length or mask hash is not valid");
  }
  return OkStatus();
}

// One signature over `data`, or over the digest `digested` (1.4 §4.31
// Digested Data).
Result<ttlv::Bytes> DoSign(EVP_PKEY* pkey, const Scheme& s, const ttlv::Bytes* data,
                           const ttlv::Bytes* digested) {
  size_t len = 0;
  ttlv::Bytes sig;
  if (data != nullptr) {
    crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, s.md.c_str(), nullptr, nullptr, pkey,
                                      nullptr) != 1) {
      return CryptoError("signature set-up failed");
    }
    RETURN_IF_ERROR(Configure(pctx, s, false));
    if (EVP_DigestSign(ctx.get(), nullptr, &len, data->data(), data->size()) != 1) {
      return CryptoError("signing failed");
    }
    sig.resize(len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &len, data->data(), data->size()) != 1) {
      return CryptoError("signing failed");
    }
  } else {
    crypto::EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, s.md.c_str(), nullptr));
    if (!pctx || !md || EVP_PKEY_sign_init(pctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(pctx.get(), md.get()) <= 0) {
      return CryptoError("signature set-up failed");
    }
    if (digested->size() != static_cast<size_t>(EVP_MD_get_size(md.get()))) {
      return Fail(ResultReason::kInvalidField,
                  "Digested Data is " + std::to_string(digested->size()) + " bytes; " + s.md +
                      " digests are " + std::to_string(EVP_MD_get_size(md.get())));
    }
    RETURN_IF_ERROR(Configure(pctx.get(), s, false));
    if (EVP_PKEY_sign(pctx.get(), nullptr, &len, digested->data(), digested->size()) != 1) {
      return CryptoError("signing failed");
    }
    sig.resize(len);
    if (EVP_PKEY_sign(pctx.get(), sig.data(), &len, digested->data(), digested->size()) != 1) {
      return CryptoError("signing failed");
    }
  }
  sig.resize(len);
  return sig;
}

// True iff `sig` verifies. Set-up failures are errors; a signature that does
// not verify (including a malformed one) is false.
Result<bool> DoVerify(EVP_PKEY* pkey, const Scheme& s, const ttlv::Bytes* data,
                      const ttlv::Bytes* digested, const ttlv::Bytes& sig) {
  int rc = 0;
  if (data != nullptr) {
    crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, s.md.c_str(), nullptr, nullptr, pkey,
                                        nullptr) != 1) {
      return CryptoError("verification set-up failed");
    }
    RETURN_IF_ERROR(Configure(pctx, s, true));
    rc = EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data->data(), data->size());
  } else {
    crypto::EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, s.md.c_str(), nullptr));
    if (!pctx || !md || EVP_PKEY_verify_init(pctx.get()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(pctx.get(), md.get()) <= 0) {
      return CryptoError("verification set-up failed");
    }
    RETURN_IF_ERROR(Configure(pctx.get(), s, true));
    rc = EVP_PKEY_verify(pctx.get(), sig.data(), sig.size(), digested->data(), digested->size());
  }
  (void)crypto::OpenSslErrorString();  // a failed verification leaves errors queued
  return rc == 1;
}

// The data to sign or verify: exactly one of Data and Digested Data.
Status OneInput(const std::optional<ttlv::Bytes>& data, const std::optional<ttlv::Bytes>& digested,
                const std::string& op) {
  if (data && digested) {
    return Fail(ResultReason::kInvalidField, op + " takes Data or Digested Data, not both");
  }
  if (!data && !digested) return Fail(ResultReason::kMissingData, op + " needs Data");
  return OkStatus();
}

// The signature scheme from Cryptographic Parameters `params` (may be null)
// for `pkey` (1.4 §3.6: Digital Signature Algorithm, or Cryptographic
// Algorithm + Hashing Algorithm + Padding Method, Salt Length, Mask Generator).
Result<Scheme> SchemeFor(EVP_PKEY* pkey, const ttlv::Item* params, bool v2) {
  const bool rsa = EVP_PKEY_is_a(pkey, "RSA") == 1;
  const ResultReason bad = v2 ? asym::kBadCryptographicParameters : ResultReason::kInvalidField;
  const ResultReason unsupported =
      v2 ? asym::kUnsupportedCryptographicParameters : ResultReason::kFeatureNotSupported;
  if (params == nullptr || !params->is_structure()) {
    return Fail(bad,
                "no Cryptographic Parameters in the request or on the key: a signature needs a "
                "Digital Signature Algorithm or a Hashing Algorithm");
  }
  ASSIGN_OR_RETURN(auto dsa,
                   EnumIn(*params, kTagDigitalSignatureAlgorithm, "Digital Signature Algorithm"));
  ASSIGN_OR_RETURN(auto alg,
                   EnumIn(*params, ttlv::tag::kCryptographicAlgorithm, "Cryptographic Algorithm"));
  ASSIGN_OR_RETURN(auto hash, EnumIn(*params, kTagHashingAlgorithm, "Hashing Algorithm"));
  ASSIGN_OR_RETURN(auto padding, EnumIn(*params, ttlv::tag::kPaddingMethod, "Padding Method"));
  ASSIGN_OR_RETURN(auto mgf, EnumIn(*params, kTagMaskGenerator, "Mask Generator"));
  ASSIGN_OR_RETURN(auto mgf_hash, EnumIn(*params, kTagMaskGeneratorHashingAlgorithm,
                                         "Mask Generator Hashing Algorithm"));
  Scheme s;
  if (const ttlv::Item* salt = params->Find(kTagSaltLength); salt != nullptr) {
    if (salt->type() != ttlv::ItemType::kInteger || salt->int_value() < 0) {
      return Fail(bad, "Salt Length must be a non-negative Integer");
    }
    s.salt_length = static_cast<int>(salt->int_value());
  }
  if (alg) {
    const bool fits =
        rsa ? static_cast<CryptographicAlgorithm>(*alg) == CryptographicAlgorithm::kRsa
            : IsEcAlgorithm(*alg);
    if (!fits) {
      return Fail(bad, "Cryptographic Parameters name Cryptographic Algorithm " +
                           std::to_string(*alg) + ", which does not fit this " +
                           (rsa ? "RSA" : "EC") + " key");
    }
  }
  // Digital Signature Algorithm (1.4 §9.1.3.2.7): 3-7 and 0x11-0x13 are
  // RSA PKCS#1 v1.5, 8 RSASSA-PSS (hash from Hashing Algorithm), 0x0C-0x10
  // ECDSA.
  if (dsa) {
    static constexpr uint32_t kHashOfDsa[] = {0, 0, 0,    0x04, 0x05, 0x06, 0x07, 0x08, 0,    0,
                                              0, 0, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0F, 0x10, 0x11};
    const uint32_t d = *dsa;
    const bool rsa_family = (d >= 3 && d <= 8) || (d >= 0x11 && d <= 0x13);
    const bool ec_family = d >= 0x0C && d <= 0x10;
    if (!rsa_family && !ec_family) {
      return Fail(unsupported, "Digital Signature Algorithm " + std::to_string(d) +
                                   " is not supported (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA "
                                   "with SHA-1/SHA-2/SHA-3)");
    }
    if (rsa_family != rsa) {
      return Fail(bad, "Digital Signature Algorithm " + std::to_string(d) + " does not fit this " +
                           (rsa ? "RSA" : "EC") + " key");
    }
    if (d == 8) {
      padding = kPaddingPss;
    } else {
      padding = rsa_family ? std::optional<uint32_t>(kPaddingPkcs1v15) : std::nullopt;
      hash = kHashOfDsa[d];
    }
  }
  if (!hash) {
    return Fail(bad, "the Cryptographic Parameters give no Hashing Algorithm");
  }
  s.md = HashName(*hash);
  if (s.md.empty()) {
    return Fail(unsupported, "Hashing Algorithm " + std::to_string(*hash) +
                                 " is not supported for signatures (SHA-1, SHA-224, SHA-256, "
                                 "SHA-384, SHA-512, SHA3-256/384/512)");
  }
  if (!rsa) {
    if (padding && *padding != 0x01) {
      return Fail(bad, "ECDSA takes no Padding Method");
    }
    return s;
  }
  const uint32_t pad = padding.value_or(kPaddingPkcs1v15);
  if (pad == kPaddingPkcs1v15) {
    s.padding = RSA_PKCS1_PADDING;
    return s;
  }
  if (pad != kPaddingPss) {
    return Fail(unsupported, "Padding Method " + std::to_string(pad) +
                                 " is not supported for RSA signatures (PKCS1 v1.5, PSS)");
  }
  if (mgf && *mgf != kMgf1) {
    return Fail(unsupported, "Mask Generator " + std::to_string(*mgf) + " is not supported (MGF1)");
  }
  s.padding = RSA_PKCS1_PSS_PADDING;
  s.mgf1_md = mgf_hash ? HashName(*mgf_hash) : s.md;
  if (s.mgf1_md.empty()) {
    return Fail(unsupported, "Mask Generator Hashing Algorithm " + std::to_string(*mgf_hash) +
                                 " is not supported");
  }
  return s;
}

}  // namespace

Result<ttlv::Item> Ops::Sign(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::SignRequest, p);
  if (Streaming(req.correlation_value, req.init_indicator, req.final_indicator)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "multi-part Sign is not supported; send the data in one request");
  }
  RETURN_IF_ERROR(OneInput(req.data, req.digested_data, "Sign"));
  ASSIGN_OR_RETURN(Managed m, LoadForUse(req.uid, kmip::usage::kSign, true, Operation::kSign, uid));
  if (static_cast<ObjectType>(m.record.object_type) != ObjectType::kPrivateKey) {
    return Fail(
        v_.is_v2() ? asym::kInvalidObjectType : ResultReason::kIllegalOperation,
        "Sign needs a Private Key; object " + *uid + " is a " +
            std::string(kmip::ObjectTypeName(static_cast<ObjectType>(m.record.object_type))));
  }
  ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, m));
  ASSIGN_OR_RETURN(crypto::EvpPkeyPtr pkey, ParseKey(object));
  const Attribute* own = m.Find("Cryptographic Parameters");
  const ttlv::Item* params = req.cryptographic_parameters ? &*req.cryptographic_parameters
                             : own != nullptr             ? &own->value
                                                          : nullptr;
  ASSIGN_OR_RETURN(Scheme scheme, SchemeFor(pkey.get(), params, v_.is_v2()));
  // A signature is one use of the key's Usage Limits (1.4 §4.31).
  const size_t bytes = req.data ? req.data->size() : req.digested_data->size();
  RETURN_IF_ERROR(ChargeUsage(*uid, bytes, true));
  kmip::SignResponse resp;
  resp.uid = *uid;
  ASSIGN_OR_RETURN(resp.signature_data, DoSign(pkey.get(), scheme, req.data ? &*req.data : nullptr,
                                               req.digested_data ? &*req.digested_data : nullptr));
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::SignatureVerify(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::SignatureVerifyRequest, p);
  if (Streaming(req.correlation_value, req.init_indicator, req.final_indicator)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "multi-part Signature Verify is not supported; send the data in one request");
  }
  RETURN_IF_ERROR(OneInput(req.data, req.digested_data, "Signature Verify"));
  if (!req.signature_data) {
    return Fail(ResultReason::kMissingData, "Signature Verify needs the Signature Data");
  }
  ASSIGN_OR_RETURN(Managed m, LoadForUse(req.uid, kmip::usage::kVerify, false,
                                         Operation::kSignatureVerify, uid));
  if (static_cast<ObjectType>(m.record.object_type) != ObjectType::kPublicKey) {
    return Fail(
        v_.is_v2() ? asym::kInvalidObjectType : ResultReason::kIllegalOperation,
        "Signature Verify needs a Public Key; object " + *uid + " is a " +
            std::string(kmip::ObjectTypeName(static_cast<ObjectType>(m.record.object_type))));
  }
  ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, m));
  ASSIGN_OR_RETURN(crypto::EvpPkeyPtr pkey, ParseKey(object));
  const Attribute* own = m.Find("Cryptographic Parameters");
  const ttlv::Item* params = req.cryptographic_parameters ? &*req.cryptographic_parameters
                             : own != nullptr             ? &own->value
                                                          : nullptr;
  ASSIGN_OR_RETURN(Scheme scheme, SchemeFor(pkey.get(), params, v_.is_v2()));
  ASSIGN_OR_RETURN(
      bool valid, DoVerify(pkey.get(), scheme, req.data ? &*req.data : nullptr,
                           req.digested_data ? &*req.digested_data : nullptr, *req.signature_data));
  kmip::SignatureVerifyResponse resp;
  resp.uid = *uid;
  resp.validity_indicator = static_cast<uint32_t>(valid ? kmip::ValidityIndicator::kValid
                                                        : kmip::ValidityIndicator::kInvalid);
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
