// Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.17) and Decrypt (1.4 §4.30, 2.1
// §6.1.11) with symmetric keys: AES in ECB, CBC, CTR and GCM, NIST key wrap
// (RFC 3394, RFC 5649), ChaCha20 and ChaCha20-Poly1305 (RFC 8439).
//
// Single-part calls carry all the data. Multi-part calls (1.3+) send the
// first part with Init Indicator True and get a Correlation Value back; the
// next parts send that Correlation Value, the last one with Final Indicator
// True (it gets the tag of an AEAD Encrypt; an AEAD Decrypt sends its tag
// there). The parameters and IV of the first part hold for the whole call.
// The key is checked again (state, dates, usage limits) for every part.
#include <openssl/evp.h>

#include "src/kms/cipher_stream.h"
#include "src/kms/crypto_params.h"
#include "src/kms/crypto_streams.h"
#include "src/kms/ops.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::kms::internal {

using kmip::CryptographicAlgorithm;
using kmip::Operation;
using kmip::ResultReason;

namespace {

constexpr size_t kAesBlock = 16;
constexpr size_t kGcmDefaultIv = 12;  // SP 800-38D §8.2
constexpr size_t kGcmMaxIv = 128;
constexpr size_t kAeadDefaultTag = 16;
constexpr size_t kChaChaKey = 32;
constexpr size_t kChaChaNonce = 12;    // RFC 8439 §2.3
constexpr size_t kChaChaCounter = 16;  // OpenSSL's IV: 32-bit counter || 96-bit nonce

const EVP_CIPHER* AesCipher(CipherMode mode, size_t key_size) {
  const bool k128 = key_size == 16;
  const bool k192 = key_size == 24;
  switch (mode) {
    case CipherMode::kCbc:
      return k128 ? EVP_aes_128_cbc() : k192 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
    case CipherMode::kEcb:
      return k128 ? EVP_aes_128_ecb() : k192 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
    case CipherMode::kCtr:
      return k128 ? EVP_aes_128_ctr() : k192 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
    case CipherMode::kGcm:
      return k128 ? EVP_aes_128_gcm() : k192 ? EVP_aes_192_gcm() : EVP_aes_256_gcm();
    default:
      return nullptr;
  }
}

// Where a call is in the multi-part protocol (1.4 §4.29 Table 229).
enum class Part { kSingle, kFirst, kNext, kLast };

Result<Part> PartOf(const kmip::CryptoRequest& req) {
  const bool init = req.init_indicator.value_or(false);
  const bool final = req.final_indicator.value_or(false);
  if (req.correlation_value.has_value()) {
    if (init) {
      return Fail(ResultReason::kInvalidField,
                  "Init Indicator starts a multi-part call; it cannot come with a Correlation "
                  "Value");
    }
    return final ? Part::kLast : Part::kNext;
  }
  if (init) return final ? Part::kSingle : Part::kFirst;
  if (final) {
    return Fail(ResultReason::kInvalidField,
                "Final Indicator ends a multi-part call; it needs the Correlation Value");
  }
  return Part::kSingle;
}

// How one Encrypt or Decrypt runs, resolved from the key and the parameters.
struct CipherPlan {
  CipherSpec spec;
  bool key_wrap = false;
  CipherMode mode = CipherMode::kEcb;
  ttlv::Bytes iv;                       // as OpenSSL takes it
  std::optional<ttlv::Bytes> drawn_iv;  // the server drew it: returned to the client
};

Status CheckAesKey(const SecretBytes& key) {
  if (key.size() == 16 || key.size() == 24 || key.size() == 32) return OkStatus();
  return Fail(ResultReason::kInvalidField, "the AES key is not 128, 192 or 256 bits long");
}

// The tag length of an AEAD call: 12..16 bytes (SP 800-38D §5.2.1.2; 4 and
// 8 only with limits this server cannot enforce). The OASIS test cases
// (CS-BC-M-GCM-1, CS-BC-M-CHACHA20POLY1305-1) expect General Failure for
// any other.
Result<size_t> TagLength(const CryptoParams& params) {
  if (!params.tag_length) return kAeadDefaultTag;
  if (*params.tag_length < 12 || *params.tag_length > 16) {
    return Fail(ResultReason::kGeneralFailure, "Tag Length " + std::to_string(*params.tag_length) +
                                                   " is not supported (12..16 bytes)");
  }
  return static_cast<size_t>(*params.tag_length);
}

// The IV: the client's, or one the server draws for Encrypt (1.4 §2.1.5
// Random IV). A Decrypt without one is Invalid Message, as the OASIS test
// cases (CS-BC-M-11..13) expect.
Result<ttlv::Bytes> ResolveIv(const kmip::CryptoRequest& req, const CryptoParams& params,
                              bool encrypt, size_t draw_size, CipherPlan& plan) {
  if (req.iv_counter_nonce.has_value()) {
    if (encrypt && params.random_iv.value_or(false)) {
      return Fail(ResultReason::kInvalidField,
                  "an IV/Counter/Nonce was sent although Random IV is True");
    }
    return *req.iv_counter_nonce;
  }
  if (!encrypt) {
    return Fail(ResultReason::kInvalidMessage, "Decrypt in this mode needs the IV/Counter/Nonce");
  }
  if (!params.random_iv.value_or(true)) {
    return Fail(ResultReason::kInvalidMessage,
                "no IV/Counter/Nonce was sent and Random IV is False");
  }
  ttlv::Bytes iv(draw_size);
  RETURN_IF_ERROR(crypto::RandomBytes(iv));
  plan.drawn_iv = iv;
  return iv;
}

Result<CipherPlan> PlanAes(const SecretBytes& key, const CryptoParams& params,
                           const kmip::CryptoRequest& req, bool encrypt, Part part) {
  RETURN_IF_ERROR(CheckAesKey(key));
  CipherPlan plan;
  if (!params.mode) {
    return Fail(ResultReason::kMissingData,
                "no Block Cipher Mode in the request or the key's Cryptographic Parameters");
  }
  plan.mode = static_cast<CipherMode>(*params.mode);
  switch (plan.mode) {
    case CipherMode::kNistKeyWrap:
    case CipherMode::kAesKeyWrapPadding:
      if (part != Part::kSingle) {
        return Fail(ResultReason::kFeatureNotSupported, "key wrap modes are single-part only");
      }
      plan.key_wrap = true;
      return plan;
    case CipherMode::kEcb:
    case CipherMode::kCbc:
    case CipherMode::kCtr:
    case CipherMode::kGcm:
      break;
    default:
      return Fail(ResultReason::kFeatureNotSupported,
                  "Block Cipher Mode " + std::to_string(*params.mode) +
                      " is not supported with AES (CBC, ECB, CTR, GCM, NISTKeyWrap, "
                      "AESKeyWrapPadding)");
  }
  if (params.padding && *params.padding != kPaddingNone && *params.padding != kPaddingPkcs5) {
    return Fail(
        ResultReason::kFeatureNotSupported,
        "Padding Method " + std::to_string(*params.padding) + " is not supported (None or PKCS5)");
  }
  const bool block = plan.mode == CipherMode::kEcb || plan.mode == CipherMode::kCbc;
  plan.spec.pad = block && params.padding == kPaddingPkcs5;
  if (block && !plan.spec.pad && part == Part::kSingle && req.data.size() % kAesBlock != 0) {
    return Fail(ResultReason::kInvalidField,
                "with Padding Method None the Data must be a multiple of 16 bytes");
  }
  plan.spec.cipher = AesCipher(plan.mode, key.size());
  plan.spec.encrypt = encrypt;
  plan.spec.aead = plan.mode == CipherMode::kGcm;
  if (plan.mode == CipherMode::kEcb) return plan;

  // GCM IVs are 1..128 bytes (12 by default); CBC IVs and CTR initial
  // counter blocks are one block.
  size_t iv_size = kAesBlock;
  if (plan.mode == CipherMode::kGcm) {
    iv_size = kGcmDefaultIv;
    if (params.iv_length_bits) {
      const int64_t bits = *params.iv_length_bits;
      if (bits <= 0 || bits % 8 != 0 || bits / 8 > static_cast<int64_t>(kGcmMaxIv)) {
        return Fail(ResultReason::kInvalidField, "IV Length " + std::to_string(bits) +
                                                     " is not valid for GCM (8..1024 bits, "
                                                     "whole bytes)");
      }
      iv_size = static_cast<size_t>(bits / 8);
    }
  } else if (params.iv_length_bits && *params.iv_length_bits != 128) {
    return Fail(ResultReason::kInvalidField, "IV Length must be 128 bits for CBC and CTR");
  }
  ASSIGN_OR_RETURN(plan.iv, ResolveIv(req, params, encrypt, iv_size, plan));
  const bool bad_iv = plan.mode == CipherMode::kGcm
                          ? plan.iv.empty() || plan.iv.size() > kGcmMaxIv ||
                                (params.iv_length_bits && plan.iv.size() != iv_size)
                          : plan.iv.size() != kAesBlock;
  if (bad_iv) {
    return Fail(ResultReason::kInvalidField, "IV/Counter/Nonce of " +
                                                 std::to_string(plan.iv.size()) +
                                                 " bytes is not valid for this Block Cipher Mode");
  }
  if (plan.spec.aead) {
    ASSIGN_OR_RETURN(plan.spec.tag_len, TagLength(params));
  }
  return plan;
}

// ChaCha20 (RFC 8439 §2.4, and the original 64-bit nonce form) and
// ChaCha20-Poly1305 (§2.8) with 256-bit keys.
Result<CipherPlan> PlanChaCha(uint32_t algorithm, const SecretBytes& key,
                              const CryptoParams& params, const kmip::CryptoRequest& req,
                              bool encrypt) {
  const bool aead = algorithm == kAlgorithmChaCha20Poly1305;
  if (key.size() != kChaChaKey) {
    return Fail(ResultReason::kInvalidField, "the ChaCha20 key is not 256 bits long");
  }
  if (params.mode && !(aead && *params.mode == static_cast<uint32_t>(CipherMode::kAead))) {
    return Fail(ResultReason::kFeatureNotSupported,
                "Block Cipher Mode " + std::to_string(*params.mode) +
                    (aead ? " is not supported with ChaCha20-Poly1305 (AEAD or none)"
                          : " does not apply to ChaCha20 (a stream cipher: send none)"));
  }
  CipherPlan plan;
  plan.mode = CipherMode::kAead;
  plan.spec.encrypt = encrypt;
  plan.spec.aead = aead;
  plan.spec.cipher = aead ? EVP_chacha20_poly1305() : EVP_chacha20();
  ASSIGN_OR_RETURN(ttlv::Bytes nonce, ResolveIv(req, params, encrypt, kChaChaNonce, plan));
  if (aead) {
    if (nonce.size() != kChaChaNonce) {
      return Fail(ResultReason::kInvalidField, "the ChaCha20-Poly1305 nonce must be 12 bytes");
    }
    plan.iv = std::move(nonce);
    ASSIGN_OR_RETURN(plan.spec.tag_len, TagLength(params));
    return plan;
  }
  // OpenSSL takes a 16-byte block (32-bit little-endian counter, 96-bit
  // nonce). An 8-byte nonce (the original ChaCha20) follows a 64-bit
  // counter, a 12-byte one (RFC 8439) a 32-bit counter, both from 0; 16
  // bytes are the whole block, counter first.
  if (nonce.size() != 8 && nonce.size() != kChaChaNonce && nonce.size() != kChaChaCounter) {
    return Fail(ResultReason::kInvalidField,
                "the ChaCha20 IV/Counter/Nonce must be 8, 12 or 16 bytes");
  }
  plan.iv.assign(kChaChaCounter - nonce.size(), 0);
  plan.iv.insert(plan.iv.end(), nonce.begin(), nonce.end());
  return plan;
}

// Maps crypto:: key-wrap errors to KMIP reasons: a length the mode cannot
// take is Invalid Field, a failed unwrap Cryptographic Failure.
Status WrapStatus(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) {
    return Fail(ResultReason::kInvalidField, s.message());
  }
  return Fail(ResultReason::kCryptographicFailure, s.message());
}

Result<ttlv::Bytes> KeyWrapMode(bool encrypt, CipherMode mode, const SecretBytes& kek,
                                std::span<const uint8_t> in) {
  const bool padded = mode == CipherMode::kAesKeyWrapPadding;
  if (encrypt) {
    auto w = padded ? crypto::AesKeyWrapPad(kek, in) : crypto::AesKeyWrap(kek, in);
    if (!w.ok()) return WrapStatus(w.status());
    return ttlv::Bytes(w->begin(), w->end());
  }
  auto u = padded ? crypto::AesKeyUnwrapPad(kek, in) : crypto::AesKeyUnwrap(kek, in);
  if (!u.ok()) return WrapStatus(u.status());
  return ttlv::Bytes(u->span().begin(), u->span().end());
}

// The tag an AEAD Decrypt checks at its end: present, and of the Tag
// Length when one is given.
Result<std::span<const uint8_t>> DecryptTag(const kmip::CryptoRequest& req,
                                            const CryptoParams& params) {
  if (!req.authenticated_encryption_tag.has_value()) {
    return Fail(ResultReason::kMissingData, "AEAD Decrypt needs the Authenticated Encryption Tag");
  }
  const ttlv::Bytes& tag = *req.authenticated_encryption_tag;
  const size_t want = params.tag_length ? static_cast<size_t>(*params.tag_length) : tag.size();
  if (tag.size() != want || tag.size() < 12 || tag.size() > 16) {
    return Fail(ResultReason::kInvalidField, "the Authenticated Encryption Tag is " +
                                                 std::to_string(tag.size()) + " bytes; expected " +
                                                 std::to_string(want) + " (12..16)");
  }
  return std::span<const uint8_t>(tag);
}

void Append(ttlv::Bytes& to, const ttlv::Bytes& more) {
  to.insert(to.end(), more.begin(), more.end());
}

}  // namespace

Result<ttlv::Item> Ops::Cipher(const ttlv::Item& p, Operation op, std::string* uid) {
  auto decoded = kmip::CryptoRequest::Decode(p, v_, op);
  if (!decoded.ok()) return Fail(ResultReason::kInvalidMessage, decoded.status().message());
  const kmip::CryptoRequest& req = *decoded;
  const bool encrypt = op == Operation::kEncrypt;
  ASSIGN_OR_RETURN(Part part, PartOf(req));
  if (part == Part::kNext || part == Part::kLast) return ContinueCipher(req, op, uid);
  if (part == Part::kFirst && streams_ == nullptr) {
    return Fail(ResultReason::kFeatureNotSupported, "multi-part calls are not available here");
  }

  ASSIGN_OR_RETURN(
      UsableKey k,
      LoadUsableKey(req, encrypt ? kmip::usage::kEncrypt : kmip::usage::kDecrypt, uid));
  ASSIGN_OR_RETURN(CryptoParams params, ParseCryptoParams(k.params ? &*k.params : nullptr));
  if (params.algorithm && *params.algorithm != k.algorithm) {
    return Fail(ResultReason::kInvalidField,
                "Cryptographic Parameters name Cryptographic Algorithm " +
                    std::to_string(*params.algorithm) + " but the key's is " +
                    std::to_string(k.algorithm));
  }
  Result<CipherPlan> planned = Fail(ResultReason::kFeatureNotSupported, "");
  if (static_cast<CryptographicAlgorithm>(k.algorithm) == CryptographicAlgorithm::kAes) {
    planned = PlanAes(k.key, params, req, encrypt, part);
  } else if (static_cast<CryptographicAlgorithm>(k.algorithm) ==
                 CryptographicAlgorithm::kChaCha20 ||
             k.algorithm == kAlgorithmChaCha20Poly1305) {
    planned = PlanChaCha(k.algorithm, k.key, params, req, encrypt);
  } else {
    return Fail(ResultReason::kFeatureNotSupported,
                std::string(kmip::OperationName(op)) +
                    " supports AES, ChaCha20 and ChaCha20-Poly1305 keys; the key's Cryptographic "
                    "Algorithm is " +
                    std::to_string(k.algorithm));
  }
  if (!planned.ok()) return planned.status();
  CipherPlan& plan = *planned;

  kmip::CryptoResponse resp;
  resp.operation = op;
  resp.uid = *uid;
  if (plan.key_wrap) {
    ASSIGN_OR_RETURN(resp.data, KeyWrapMode(encrypt, plan.mode, k.key, req.data));
    return resp.Encode(v_);
  }
  if (!plan.spec.aead &&
      (req.authenticated_encryption_additional_data || req.authenticated_encryption_tag)) {
    return Fail(ResultReason::kInvalidField,
                "Authenticated Encryption fields need an authenticated mode (GCM, AEAD)");
  }
  std::span<const uint8_t> tag;
  if (plan.spec.aead && !encrypt && part == Part::kSingle) {
    ASSIGN_OR_RETURN(tag, DecryptTag(req, params));
  }
  std::span<const uint8_t> aad;
  if (req.authenticated_encryption_additional_data) {
    aad = *req.authenticated_encryption_additional_data;
  }
  ASSIGN_OR_RETURN(CipherStream stream, CipherStream::Start(plan.spec, k.key, plan.iv, aad));
  ASSIGN_OR_RETURN(resp.data, stream.Update(req.data));
  resp.iv_counter_nonce = plan.drawn_iv;
  if (part == Part::kFirst) {
    CryptoStreams::Entry entry{client_.tenant, *uid, op, std::move(stream), 0};
    ASSIGN_OR_RETURN(resp.correlation_value, streams_->Start(std::move(entry), clock_()));
    return resp.Encode(v_);
  }
  ASSIGN_OR_RETURN(CipherStream::Final fin, stream.Finish(tag));
  Append(resp.data, fin.data);
  if (plan.spec.aead && encrypt) resp.authenticated_encryption_tag = std::move(fin.tag);
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::ContinueCipher(const kmip::CryptoRequest& req, Operation op,
                                       std::string* uid) {
  if (streams_ == nullptr) {
    return Fail(ResultReason::kFeatureNotSupported, "multi-part calls are not available here");
  }
  const bool encrypt = op == Operation::kEncrypt;
  const ttlv::Bytes& correlation = *req.correlation_value;
  ASSIGN_OR_RETURN(CryptoStreams::Entry entry,
                   streams_->Take(correlation, client_.tenant, op, clock_()));
  if (req.uid.has_value() && *req.uid != entry.uid) {
    streams_->PutBack(correlation, std::move(entry), clock_());
    return Fail(ResultReason::kInvalidField,
                "the Correlation Value belongs to a call with another object");
  }
  *uid = entry.uid;
  // The object may have been revoked or used up since the last part; a
  // refused part ends the call.
  std::string checked;
  const int32_t usage = encrypt ? kmip::usage::kEncrypt : kmip::usage::kDecrypt;
  RETURN_IF_ERROR(LoadForUse(entry.uid, usage, encrypt, op, &checked).status());
  if (encrypt) RETURN_IF_ERROR(ChargeUsage(entry.uid, req.data.size(), false));

  kmip::CryptoResponse resp;
  resp.operation = op;
  resp.uid = entry.uid;
  ASSIGN_OR_RETURN(resp.data, entry.stream.Update(req.data));
  if (!req.final_indicator.value_or(false)) {
    streams_->PutBack(correlation, std::move(entry), clock_());
    resp.correlation_value = correlation;
    return resp.Encode(v_);
  }
  std::span<const uint8_t> tag;
  if (req.authenticated_encryption_tag) tag = *req.authenticated_encryption_tag;
  ASSIGN_OR_RETURN(CipherStream::Final fin, entry.stream.Finish(tag));
  Append(resp.data, fin.data);
  if (encrypt && !fin.tag.empty()) resp.authenticated_encryption_tag = std::move(fin.tag);
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Encrypt(const ttlv::Item& p, std::string* uid) {
  return Cipher(p, Operation::kEncrypt, uid);
}

Result<ttlv::Item> Ops::Decrypt(const ttlv::Item& p, std::string* uid) {
  return Cipher(p, Operation::kDecrypt, uid);
}

}  // namespace vmcrypt::kms::internal
