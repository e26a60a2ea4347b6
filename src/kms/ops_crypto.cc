// The cryptographic services: Encrypt (KMIP 1.4 §4.29), Decrypt (§4.30),
// MAC (§4.33) and RNG Retrieve (§4.35). Single-part calls only; the
// multi-part forms (§4.29 Correlation Value, Init and Final Indicator) are
// refused with Feature Not Supported.
//
// The key must be Active (§3.22) and carry the operation's bit in its
// Cryptographic Usage Mask (§3.19). Cryptographic Parameters (§2.1.5) come
// from the request, or else from the key's own attribute.
#include <openssl/evp.h>

#include "src/kms/ops.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::CryptographicAlgorithm;
using kmip::Operation;
using kmip::ResultReason;
using kmip::State;

namespace {

// Fields of Cryptographic Parameters that tags.h does not name (1.4 §9.1.3.1).
constexpr uint32_t kTagHashingAlgorithm = 0x420038;
constexpr uint32_t kTagRandomIv = 0x4200C5;
constexpr uint32_t kTagIvLength = 0x4200CD;
constexpr uint32_t kTagTagLength = 0x4200CE;

// Block Cipher Mode (1.4 §9.1.3.2.14), Padding Method (§9.1.3.2.15) and
// Hashing Algorithm (§9.1.3.2.16) values this file handles.
enum class Mode : uint32_t {
  kCbc = 0x01,
  kEcb = 0x02,
  kCtr = 0x06,
  kGcm = 0x09,
  kAesKeyWrapPadding = 0x0C,
  kNistKeyWrap = 0x0D,
};
constexpr uint32_t kPaddingNone = 0x01;
constexpr uint32_t kPaddingPkcs5 = 0x03;
enum class Hash : uint32_t {
  kSha1 = 0x04,
  kSha224 = 0x05,
  kSha256 = 0x06,
  kSha384 = 0x07,
  kSha512 = 0x08,
};

constexpr size_t kAesBlock = 16;
constexpr size_t kGcmDefaultIv = 12;  // SP 800-38D §8.2
constexpr size_t kGcmMaxIv = 128;
constexpr size_t kGcmDefaultTag = 16;
// Largest RNG Retrieve answer; far beyond any key, well within a message.
constexpr int32_t kMaxRngBytes = 1 << 20;

// The Cryptographic Parameters fields used here; absent fields stay empty.
struct Params {
  std::optional<uint32_t> mode;
  std::optional<uint32_t> padding;
  std::optional<uint32_t> hashing;
  std::optional<uint32_t> algorithm;
  std::optional<bool> random_iv;
  std::optional<int64_t> iv_length_bits;
  std::optional<int64_t> tag_length;
};

Status WrongType(std::string_view field) {
  return Fail(ResultReason::kInvalidField,
              "Cryptographic Parameters field " + std::string(field) + " has the wrong type");
}

Result<std::optional<uint32_t>> EnumField(const ttlv::Item& s, uint32_t tag,
                                          std::string_view name) {
  const ttlv::Item* f = s.Find(tag);
  if (f == nullptr) return std::optional<uint32_t>();
  if (f->type() != ttlv::ItemType::kEnumeration) return WrongType(name);
  return std::optional<uint32_t>(static_cast<uint32_t>(f->int_value()));
}

Result<std::optional<int64_t>> IntField(const ttlv::Item& s, uint32_t tag, std::string_view name) {
  const ttlv::Item* f = s.Find(tag);
  if (f == nullptr) return std::optional<int64_t>();
  if (f->type() != ttlv::ItemType::kInteger) return WrongType(name);
  return std::optional<int64_t>(f->int_value());
}

Result<Params> ParseParams(const ttlv::Item* s) {
  Params p;
  if (s == nullptr) return p;
  if (!s->is_structure()) {
    return Fail(ResultReason::kInvalidField, "Cryptographic Parameters is not a structure");
  }
  ASSIGN_OR_RETURN(p.mode, EnumField(*s, ttlv::tag::kBlockCipherMode, "Block Cipher Mode"));
  ASSIGN_OR_RETURN(p.padding, EnumField(*s, ttlv::tag::kPaddingMethod, "Padding Method"));
  ASSIGN_OR_RETURN(p.hashing, EnumField(*s, kTagHashingAlgorithm, "Hashing Algorithm"));
  ASSIGN_OR_RETURN(p.algorithm,
                   EnumField(*s, ttlv::tag::kCryptographicAlgorithm, "Cryptographic Algorithm"));
  ASSIGN_OR_RETURN(p.iv_length_bits, IntField(*s, kTagIvLength, "IV Length"));
  ASSIGN_OR_RETURN(p.tag_length, IntField(*s, kTagTagLength, "Tag Length"));
  if (const ttlv::Item* f = s->Find(kTagRandomIv); f != nullptr) {
    if (f->type() != ttlv::ItemType::kBoolean) return WrongType("Random IV");
    p.random_iv = f->int_value() != 0;
  }
  return p;
}

std::string_view OpName(Operation op) { return kmip::OperationName(op); }

// The raw key bytes of a symmetric key, Raw or Transparent Symmetric Key
// (1.4 §2.1.7.1).
Result<SecretBytes> KeyBytes(const kmip::ManagedObject& object) {
  if (!object.key_block.has_value()) {
    return Fail(ResultReason::kKeyValueNotPresent, "the object has no Key Block");
  }
  const kmip::KeyBlock& b = *object.key_block;
  if (!b.key_material.empty()) return b.key_material.Clone();
  if (b.key_material_structure.has_value()) {
    const ttlv::Item* k = b.key_material_structure->Find(ttlv::tag::kKey);
    if (k != nullptr && k->type() == ttlv::ItemType::kByteString) {
      return SecretBytes(std::span<const uint8_t>(k->bytes().data(), k->bytes().size()));
    }
  }
  return Fail(ResultReason::kKeyFormatTypeNotSupported,
              "the key is not held as Raw or Transparent Symmetric Key bytes");
}

const EVP_CIPHER* AesCipher(Mode mode, size_t key_size) {
  switch (mode) {
    case Mode::kCbc:
      return key_size == 16   ? EVP_aes_128_cbc()
             : key_size == 24 ? EVP_aes_192_cbc()
                              : EVP_aes_256_cbc();
    case Mode::kEcb:
      return key_size == 16   ? EVP_aes_128_ecb()
             : key_size == 24 ? EVP_aes_192_ecb()
                              : EVP_aes_256_ecb();
    case Mode::kCtr:
      return key_size == 16   ? EVP_aes_128_ctr()
             : key_size == 24 ? EVP_aes_192_ctr()
                              : EVP_aes_256_ctr();
    case Mode::kGcm:
      return key_size == 16   ? EVP_aes_128_gcm()
             : key_size == 24 ? EVP_aes_192_gcm()
                              : EVP_aes_256_gcm();
    default:
      return nullptr;
  }
}

Status CipherError(std::string_view what) {
  return Fail(ResultReason::kCryptographicFailure,
              std::string(what) + ": " + crypto::OpenSslErrorString());
}

// One pass of AES in ECB, CBC or CTR over all of `in` (EVP handles the
// blocks); `pad` selects PKCS#5 padding for the block modes.
Result<ttlv::Bytes> AesBlockMode(bool encrypt, Mode mode, const SecretBytes& key,
                                 std::span<const uint8_t> iv, bool pad,
                                 std::span<const uint8_t> in) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return CipherError("cannot make a cipher context");
  if (EVP_CipherInit_ex2(ctx.get(), AesCipher(mode, key.size()), key.data(),
                         iv.empty() ? nullptr : iv.data(), encrypt ? 1 : 0, nullptr) != 1) {
    return CipherError("cipher set-up failed");
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), pad ? 1 : 0);
  ttlv::Bytes out(in.size() + kAesBlock);
  int n = 0;
  int tail = 0;
  if (EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1) {
    return CipherError("cipher failed");
  }
  if (EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) {
    // The only data-dependent failure: bad PKCS#5 padding on Decrypt.
    return Fail(ResultReason::kCryptographicFailure,
                encrypt ? "cipher failed" : "decryption failed: bad padding");
  }
  out.resize(static_cast<size_t>(n + tail));
  return out;
}

struct GcmResult {
  ttlv::Bytes data;
  ttlv::Bytes tag;
};

// AES-GCM (SP 800-38D) over all of `in`. Encrypt makes a tag of `tag_len`
// bytes; Decrypt checks `tag` (OpenSSL compares in constant time) and
// releases no plaintext if it does not verify.
Result<GcmResult> AesGcm(bool encrypt, const SecretBytes& key, std::span<const uint8_t> iv,
                         std::span<const uint8_t> aad, std::span<const uint8_t> in, size_t tag_len,
                         std::span<const uint8_t> tag) {
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return CipherError("cannot make a cipher context");
  const EVP_CIPHER* cipher = AesCipher(Mode::kGcm, key.size());
  if (EVP_CipherInit_ex2(ctx.get(), cipher, nullptr, nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()),
                          nullptr) != 1 ||
      EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), iv.data(), encrypt ? 1 : 0, nullptr) !=
          1) {
    return CipherError("GCM set-up failed");
  }
  int n = 0;
  if (!aad.empty() &&
      EVP_CipherUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) {
    return CipherError("GCM failed on the additional data");
  }
  GcmResult r;
  r.data.resize(in.size() + kAesBlock);
  n = 0;
  if (!in.empty() &&
      EVP_CipherUpdate(ctx.get(), r.data.data(), &n, in.data(), static_cast<int>(in.size())) != 1) {
    return CipherError("GCM failed");
  }
  if (!encrypt) {
    ttlv::Bytes expected(tag.begin(), tag.end());
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(expected.size()),
                            expected.data()) != 1) {
      return CipherError("GCM cannot take the tag");
    }
  }
  int tail = 0;
  if (EVP_CipherFinal_ex(ctx.get(), r.data.data() + n, &tail) != 1) {
    if (encrypt) return CipherError("GCM failed");
    return Fail(ResultReason::kCryptographicFailure,
                "decryption failed: the Authenticated Encryption Tag does not verify");
  }
  r.data.resize(static_cast<size_t>(n + tail));
  if (encrypt) {
    r.tag.resize(tag_len);
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len),
                            r.tag.data()) != 1) {
      return CipherError("GCM cannot make the tag");
    }
  }
  return r;
}

// Maps crypto:: key-wrap errors to KMIP reasons: a length the mode cannot
// take is Invalid Field, a failed unwrap Cryptographic Failure.
Status WrapStatus(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument)
    return Fail(ResultReason::kInvalidField, s.message());
  return Fail(ResultReason::kCryptographicFailure, s.message());
}

Result<ttlv::Bytes> KeyWrapMode(bool encrypt, Mode mode, const SecretBytes& kek,
                                std::span<const uint8_t> in) {
  const bool padded = mode == Mode::kAesKeyWrapPadding;
  if (encrypt) {
    auto w = padded ? crypto::AesKeyWrapPad(kek, in) : crypto::AesKeyWrap(kek, in);
    if (!w.ok()) return WrapStatus(w.status());
    return ttlv::Bytes(w->begin(), w->end());
  }
  auto u = padded ? crypto::AesKeyUnwrapPad(kek, in) : crypto::AesKeyUnwrap(kek, in);
  if (!u.ok()) return WrapStatus(u.status());
  return ttlv::Bytes(u->span().begin(), u->span().end());
}

// The digest name for an HMAC algorithm (1.4 §9.1.3.2.13) or a Hashing
// Algorithm (§9.1.3.2.16); empty if neither names a supported SHA.
std::string_view HmacDigest(std::optional<uint32_t> hmac_algorithm,
                            std::optional<uint32_t> hashing) {
  if (hashing.has_value()) {
    switch (static_cast<Hash>(*hashing)) {
      case Hash::kSha1:
        return "SHA1";
      case Hash::kSha224:
        return "SHA224";
      case Hash::kSha256:
        return "SHA256";
      case Hash::kSha384:
        return "SHA384";
      case Hash::kSha512:
        return "SHA512";
      default:
        return {};
    }
  }
  if (!hmac_algorithm.has_value()) return {};
  switch (static_cast<CryptographicAlgorithm>(*hmac_algorithm)) {
    case CryptographicAlgorithm::kHmacSha1:
      return "SHA1";
    case CryptographicAlgorithm::kHmacSha224:
      return "SHA224";
    case CryptographicAlgorithm::kHmacSha256:
      return "SHA256";
    case CryptographicAlgorithm::kHmacSha384:
      return "SHA384";
    case CryptographicAlgorithm::kHmacSha512:
      return "SHA512";
    default:
      return {};
  }
}

bool IsHmac(uint32_t algorithm) { return !HmacDigest(algorithm, std::nullopt).empty(); }

bool Streaming(const kmip::CryptoRequest& req) {
  return req.correlation_value.has_value() ||
         req.init_indicator.value_or(false) != req.final_indicator.value_or(false);
}

}  // namespace

Result<Ops::UsableKey> Ops::LoadUsableKey(const kmip::CryptoRequest& req, int32_t usage,
                                          std::string* uid) {
  const std::string op(OpName(req.operation));
  if (Streaming(req)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "multi-part " + op +
                    " (Correlation Value, Init or Final Indicator) is not supported; send the "
                    "data in one request");
  }
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *uid));
  if (static_cast<kmip::ObjectType>(m.record.object_type) != kmip::ObjectType::kSymmetricKey) {
    return Fail(
        ResultReason::kFeatureNotSupported,
        op + " is supported with Symmetric Keys only; object " + *uid + " is a " +
            std::string(kmip::ObjectTypeName(static_cast<kmip::ObjectType>(m.record.object_type))));
  }
  // Only an Active object may apply protection (1.4 §3.22). A Pre-Active
  // object whose Activation Date has passed is Active by definition.
  const kmip::Attribute* activation = m.Find("Activation Date");
  const bool due = m.state() == State::kPreActive && activation != nullptr &&
                   activation->value.type() == ttlv::ItemType::kDateTime &&
                   activation->value.int_value() <= clock_();
  if (m.state() != State::kActive && !due) {
    return Fail(ResultReason::kPermissionDenied, "object " + m.record.uid + " is " +
                                                     std::string(kmip::StateName(m.state())) +
                                                     "; only Active objects can be used for " + op);
  }
  const kmip::Attribute* mask = m.Find("Cryptographic Usage Mask");
  if (mask == nullptr || mask->value.type() != ttlv::ItemType::kInteger ||
      (mask->value.int_value() & usage) == 0) {
    const char* name = usage == kmip::usage::kEncrypt   ? "Encrypt"
                       : usage == kmip::usage::kDecrypt ? "Decrypt"
                                                        : "MAC Generate";
    return Fail(ResultReason::kPermissionDenied, "object " + m.record.uid + " does not have the " +
                                                     name +
                                                     " usage in its Cryptographic Usage Mask");
  }
  UsableKey k;
  const kmip::Attribute* algorithm = m.Find("Cryptographic Algorithm");
  if (algorithm == nullptr || algorithm->value.type() != ttlv::ItemType::kEnumeration) {
    return Fail(ResultReason::kFeatureNotSupported,
                "object " + m.record.uid + " has no Cryptographic Algorithm");
  }
  k.algorithm = static_cast<uint32_t>(algorithm->value.int_value());
  // Request parameters replace the key's own (1.4 §4.29: "if omitted, the
  // server uses the Cryptographic Parameters attribute of the key").
  const kmip::Attribute* own = m.Find("Cryptographic Parameters");
  const ttlv::Item* params = req.cryptographic_parameters.has_value()
                                 ? &*req.cryptographic_parameters
                             : own != nullptr ? &own->value
                                              : nullptr;
  if (params != nullptr) k.params = *params;
  ASSIGN_OR_RETURN(kmip::ManagedObject object, Material(root_key_, m));
  ASSIGN_OR_RETURN(k.key, KeyBytes(object));
  return k;
}

Result<ttlv::Item> Ops::Cipher(const ttlv::Item& p, Operation op, std::string* uid) {
  auto decoded = kmip::CryptoRequest::Decode(p, v_, op);
  if (!decoded.ok()) return Fail(ResultReason::kInvalidMessage, decoded.status().message());
  const kmip::CryptoRequest& req = *decoded;
  const bool encrypt = op == Operation::kEncrypt;
  const std::string name(OpName(op));
  ASSIGN_OR_RETURN(
      UsableKey k,
      LoadUsableKey(req, encrypt ? kmip::usage::kEncrypt : kmip::usage::kDecrypt, uid));
  if (static_cast<CryptographicAlgorithm>(k.algorithm) != CryptographicAlgorithm::kAes) {
    return Fail(ResultReason::kFeatureNotSupported,
                name + " supports AES keys only; the key's Cryptographic Algorithm is " +
                    std::to_string(k.algorithm));
  }
  if (k.key.size() != 16 && k.key.size() != 24 && k.key.size() != 32) {
    return Fail(ResultReason::kInvalidField, "the AES key is not 128, 192 or 256 bits long");
  }
  ASSIGN_OR_RETURN(Params params, ParseParams(k.params ? &*k.params : nullptr));
  if (params.algorithm && *params.algorithm != k.algorithm) {
    return Fail(ResultReason::kInvalidField,
                "Cryptographic Parameters name Cryptographic Algorithm " +
                    std::to_string(*params.algorithm) + " but the key is AES");
  }
  if (!params.mode) {
    return Fail(ResultReason::kMissingData,
                "no Block Cipher Mode in the request or the key's Cryptographic Parameters");
  }
  const Mode mode = static_cast<Mode>(*params.mode);
  if (params.padding && *params.padding != kPaddingNone && *params.padding != kPaddingPkcs5) {
    return Fail(
        ResultReason::kFeatureNotSupported,
        "Padding Method " + std::to_string(*params.padding) + " is not supported (None or PKCS5)");
  }
  const bool pkcs5 = params.padding == kPaddingPkcs5;

  kmip::CryptoResponse resp;
  resp.operation = op;
  resp.uid = *uid;
  switch (mode) {
    case Mode::kNistKeyWrap:
    case Mode::kAesKeyWrapPadding: {
      ASSIGN_OR_RETURN(resp.data, KeyWrapMode(encrypt, mode, k.key, req.data));
      return resp.Encode(v_);
    }
    case Mode::kEcb:
    case Mode::kCbc:
    case Mode::kCtr:
    case Mode::kGcm:
      break;
    default:
      return Fail(ResultReason::kFeatureNotSupported,
                  "Block Cipher Mode " + std::to_string(*params.mode) + " is not supported for " +
                      name + " (CBC, ECB, CTR, GCM, NISTKeyWrap, AESKeyWrapPadding)");
  }
  if ((mode == Mode::kEcb || mode == Mode::kCbc) && !pkcs5 && req.data.size() % kAesBlock != 0) {
    return Fail(ResultReason::kInvalidField,
                "with Padding Method None the Data must be a multiple of 16 bytes");
  }

  // The IV (1.4 §2.1.5 Random IV, IV Length): the client's, or a fresh one
  // returned in the response. GCM IVs are 1..128 bytes (12 by default);
  // CBC IVs and CTR initial counter blocks are one block.
  ttlv::Bytes iv;
  if (mode != Mode::kEcb) {
    size_t iv_size = kAesBlock;
    if (mode == Mode::kGcm) {
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
    if (req.iv_counter_nonce.has_value()) {
      if (encrypt && params.random_iv.value_or(false)) {
        return Fail(ResultReason::kInvalidField,
                    "an IV/Counter/Nonce was sent although Random IV is True");
      }
      iv = *req.iv_counter_nonce;
      const bool bad = mode == Mode::kGcm ? iv.empty() || iv.size() > kGcmMaxIv ||
                                                (params.iv_length_bits && iv.size() != iv_size)
                                          : iv.size() != kAesBlock;
      if (bad) {
        return Fail(ResultReason::kInvalidField,
                    "IV/Counter/Nonce of " + std::to_string(iv.size()) +
                        " bytes is not valid for this Block Cipher Mode");
      }
    } else if (!encrypt) {
      return Fail(ResultReason::kMissingData, "Decrypt in this mode needs the IV/Counter/Nonce");
    } else if (!params.random_iv.value_or(true)) {
      return Fail(ResultReason::kMissingData,
                  "no IV/Counter/Nonce was sent and Random IV is False");
    } else {
      iv.resize(iv_size);
      RETURN_IF_ERROR(crypto::RandomBytes(iv));
      resp.iv_counter_nonce = iv;
    }
  }

  if (mode != Mode::kGcm) {
    if (req.authenticated_encryption_additional_data || req.authenticated_encryption_tag) {
      return Fail(ResultReason::kInvalidField,
                  "Authenticated Encryption fields need an authenticated mode (GCM)");
    }
    ASSIGN_OR_RETURN(resp.data, AesBlockMode(encrypt, mode, k.key, iv, pkcs5, req.data));
    return resp.Encode(v_);
  }

  // GCM: tags of 12..16 bytes (SP 800-38D §5.2.1.2; 4 and 8 only with
  // limits this server cannot enforce).
  size_t tag_len = kGcmDefaultTag;
  if (params.tag_length) {
    if (*params.tag_length < 12 || *params.tag_length > 16) {
      return Fail(ResultReason::kInvalidField, "Tag Length " + std::to_string(*params.tag_length) +
                                                   " is not supported for GCM (12..16 bytes)");
    }
    tag_len = static_cast<size_t>(*params.tag_length);
  }
  std::span<const uint8_t> tag;
  if (!encrypt) {
    if (!req.authenticated_encryption_tag.has_value()) {
      return Fail(ResultReason::kMissingData, "GCM Decrypt needs the Authenticated Encryption Tag");
    }
    tag = *req.authenticated_encryption_tag;
    if ((params.tag_length && tag.size() != tag_len) || tag.size() < 12 || tag.size() > 16) {
      return Fail(ResultReason::kInvalidField, "the Authenticated Encryption Tag is " +
                                                   std::to_string(tag.size()) +
                                                   " bytes; expected " + std::to_string(tag_len));
    }
  }
  std::span<const uint8_t> aad;
  if (req.authenticated_encryption_additional_data)
    aad = *req.authenticated_encryption_additional_data;
  ASSIGN_OR_RETURN(GcmResult r, AesGcm(encrypt, k.key, iv, aad, req.data, tag_len, tag));
  resp.data = std::move(r.data);
  if (encrypt) resp.authenticated_encryption_tag = std::move(r.tag);
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Encrypt(const ttlv::Item& p, std::string* uid) {
  return Cipher(p, Operation::kEncrypt, uid);
}

Result<ttlv::Item> Ops::Decrypt(const ttlv::Item& p, std::string* uid) {
  return Cipher(p, Operation::kDecrypt, uid);
}

Result<ttlv::Item> Ops::Mac(const ttlv::Item& p, std::string* uid) {
  auto decoded = kmip::CryptoRequest::Decode(p, v_, Operation::kMac);
  if (!decoded.ok()) return Fail(ResultReason::kInvalidMessage, decoded.status().message());
  const kmip::CryptoRequest& req = *decoded;
  ASSIGN_OR_RETURN(UsableKey k, LoadUsableKey(req, kmip::usage::kMacGenerate, uid));
  if (!IsHmac(k.algorithm)) {
    return Fail(ResultReason::kFeatureNotSupported,
                "MAC supports HMAC keys only; the key's Cryptographic Algorithm is " +
                    std::to_string(k.algorithm));
  }
  ASSIGN_OR_RETURN(Params params, ParseParams(k.params ? &*k.params : nullptr));
  if (params.algorithm && !IsHmac(*params.algorithm)) {
    return Fail(ResultReason::kInvalidField,
                "Cryptographic Parameters name Cryptographic "
                "Algorithm " +
                    std::to_string(*params.algorithm) + ", which is not an HMAC");
  }
  // The digest: the request's Hashing Algorithm, else its HMAC algorithm,
  // else the key's.
  std::string digest(HmacDigest(params.algorithm.value_or(k.algorithm), params.hashing));
  if (digest.empty()) {
    return Fail(ResultReason::kFeatureNotSupported,
                "Hashing Algorithm " + std::to_string(params.hashing.value_or(0)) +
                    " is not supported for MAC (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512)");
  }
  if (k.key.empty()) return Fail(ResultReason::kInvalidField, "the HMAC key is empty");
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest.c_str(), nullptr, k.key.data(), k.key.size(),
                req.data.data(), req.data.size(), mac, sizeof(mac), &mac_len) == nullptr) {
    return CipherError("HMAC failed");
  }
  kmip::CryptoResponse resp;
  resp.operation = Operation::kMac;
  resp.uid = *uid;
  resp.data.assign(mac, mac + mac_len);
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::RngRetrieve(const ttlv::Item& p) {
  VMCRYPT_DECODE(req, kmip::RngRetrieveRequest, p);
  if (req.data_length <= 0 || req.data_length > kMaxRngBytes) {
    return Fail(ResultReason::kInvalidField, "Data Length " + std::to_string(req.data_length) +
                                                 " is out of range (1.." +
                                                 std::to_string(kMaxRngBytes) + ")");
  }
  kmip::RngRetrieveResponse resp;
  resp.data.resize(static_cast<size_t>(req.data_length));
  RETURN_IF_ERROR(crypto::RandomBytes(resp.data));
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
