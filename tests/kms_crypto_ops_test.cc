// The key server's cryptographic services end to end, in-process on
// 127.0.0.1 (port 0): Encrypt / Decrypt (AES GCM, CBC, ECB, CTR, key wrap,
// ChaCha20, ChaCha20-Poly1305; single- and multi-part), Usage Limits,
// MAC (HMAC) and RNG Retrieve through our KMIP client, cross-checked against
// OpenSSL computed here with the key fetched by Get, NIST SP 800-38A and RFC
// 3394 known answers, and the refusals (state, usage mask, algorithm).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "tests/kms_test_server.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kms/audit.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {
namespace {

namespace fs = std::filesystem;
using namespace vmcrypt::kmip;

// Enumeration values of KMIP 1.4 §9.1.3.2.14-16 and tags of §9.1.3.1.
constexpr uint32_t kCbc = 1, kEcb = 2, kCtr = 6, kGcm = 9, kKeyWrapPad = 0x0C, kNistKeyWrap = 0x0D;
constexpr uint32_t kPadNone = 1, kPadPkcs5 = 3;
constexpr uint32_t kTagLengthTag = 0x4200CE;
constexpr uint32_t kRandomIvTag = 0x4200C5;
constexpr uint32_t kHashingAlgorithmTag = 0x420038;

std::vector<uint8_t> Hex(std::string_view h) {
  auto b = HexDecode(h);
  EXPECT_TRUE(b.ok()) << h;
  return b.ok() ? *b : std::vector<uint8_t>();
}
ttlv::Bytes B(std::span<const uint8_t> s) { return ttlv::Bytes(s.begin(), s.end()); }
std::string H(std::span<const uint8_t> s) { return HexEncode(s); }

ttlv::Item Params(uint32_t mode, std::optional<uint32_t> padding = std::nullopt,
                  std::optional<int32_t> tag_length = std::nullopt,
                  std::optional<bool> random_iv = std::nullopt) {
  ttlv::Item p = ttlv::Item::Structure(ttlv::tag::kCryptographicParameters);
  p.Add(ttlv::Item::Enumeration(ttlv::tag::kBlockCipherMode, mode));
  if (padding) p.Add(ttlv::Item::Enumeration(ttlv::tag::kPaddingMethod, *padding));
  if (tag_length) p.Add(ttlv::Item::Integer(kTagLengthTag, *tag_length));
  if (random_iv) p.Add(ttlv::Item::Boolean(kRandomIvTag, *random_iv));
  return p;
}

class KmsCryptoOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(kms_.Start());
    client_ = kms_.MakeClient(kKmip14);
    ASSERT_NE(client_, nullptr);
  }

  void TearDown() override { client_.reset(); }

  std::string P(const std::string& f) { return kms_.P(f); }
  test_support::TestKms kms_{"kmscrypto"};

  // A new key (Created, then Activated unless `activate` is false).
  std::string NewKey(CryptographicAlgorithm alg, int32_t bits, int32_t usage_mask,
                     bool activate = true) {
    CreateRequest r;
    r.attributes = {Attribute::Enum("Cryptographic Algorithm", static_cast<uint32_t>(alg)),
                    Attribute::Integer("Cryptographic Length", bits),
                    Attribute::Integer("Cryptographic Usage Mask", usage_mask)};
    auto created = client_->Create(r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return "";
    if (activate) {
      EXPECT_TRUE(client_->Activate(created->uid).ok());
    }
    return created->uid;
  }

  std::string RegisterKey(CryptographicAlgorithm alg, std::span<const uint8_t> key,
                          int32_t usage_mask) {
    RegisterRequest r;
    r.object = ManagedObject::SymmetricKey(static_cast<uint32_t>(alg), SecretBytes(key));
    r.attributes = {Attribute::Integer("Cryptographic Usage Mask", usage_mask)};
    auto reg = client_->Register(r);
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    if (!reg.ok()) return "";
    EXPECT_TRUE(client_->Activate(reg->uid).ok());
    return reg->uid;
  }

  std::vector<uint8_t> KeyOf(const std::string& uid) {
    GetRequest g;
    g.uid = uid;
    auto got = client_->Get(g);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok() || !got->object.key_block) return {};
    auto s = got->object.key_block->key_material.span();
    return {s.begin(), s.end()};
  }

  Result<CryptoResponse> Run(Operation op, CryptoRequest req) {
    req.operation = op;
    ASSIGN_OR_RETURN(ttlv::Item payload, req.Encode(kKmip14));
    ASSIGN_OR_RETURN(ttlv::Item out, client_->Call(op, payload));
    return CryptoResponse::Decode(out, kKmip14, op);
  }

  std::unique_ptr<Client> client_;
};

constexpr int32_t kEncDec = usage::kEncrypt | usage::kDecrypt;

// AES in a block mode computed here with OpenSSL, to check the server.
std::vector<uint8_t> LocalAes(uint32_t mode, std::span<const uint8_t> key,
                              std::span<const uint8_t> iv, bool pad, std::span<const uint8_t> in) {
  const EVP_CIPHER* c = nullptr;
  const size_t n = key.size();
  if (mode == kCbc)
    c = n == 16 ? EVP_aes_128_cbc() : n == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
  if (mode == kEcb)
    c = n == 16 ? EVP_aes_128_ecb() : n == 24 ? EVP_aes_192_ecb() : EVP_aes_256_ecb();
  if (mode == kCtr)
    c = n == 16 ? EVP_aes_128_ctr() : n == 24 ? EVP_aes_192_ctr() : EVP_aes_256_ctr();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, c, nullptr, key.data(), iv.empty() ? nullptr : iv.data());
  EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0);
  std::vector<uint8_t> out(in.size() + 16);
  int a = 0, b = 0;
  EVP_EncryptUpdate(ctx, out.data(), &a, in.data(), static_cast<int>(in.size()));
  EVP_EncryptFinal_ex(ctx, out.data() + a, &b);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<size_t>(a + b));
  return out;
}

TEST_F(KmsCryptoOpsTest, GcmRoundTripWithAadAndTagCheck) {
  for (int32_t bits : {128, 192, 256}) {
    SCOPED_TRACE(bits);
    const std::string uid = NewKey(CryptographicAlgorithm::kAes, bits, kEncDec);
    const std::vector<uint8_t> plain = Hex("00112233445566778899aabbccddeeff0102030405");
    const std::vector<uint8_t> aad = Hex("feedfacedeadbeef");
    CryptoRequest enc;
    enc.uid = uid;
    enc.cryptographic_parameters = Params(kGcm, std::nullopt, 16);
    enc.data = B(plain);
    enc.authenticated_encryption_additional_data = B(aad);
    auto e = Run(Operation::kEncrypt, enc);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(e->iv_counter_nonce.has_value());  // server-generated IV
    EXPECT_EQ(e->iv_counter_nonce->size(), 12u);
    ASSERT_TRUE(e->authenticated_encryption_tag.has_value());
    EXPECT_EQ(e->authenticated_encryption_tag->size(), 16u);
    EXPECT_EQ(e->data.size(), plain.size());

    CryptoRequest dec;
    dec.uid = uid;
    dec.cryptographic_parameters = Params(kGcm, std::nullopt, 16);
    dec.data = e->data;
    dec.iv_counter_nonce = e->iv_counter_nonce;
    dec.authenticated_encryption_additional_data = B(aad);
    dec.authenticated_encryption_tag = e->authenticated_encryption_tag;
    auto d = Run(Operation::kDecrypt, dec);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(H(d->data), H(plain));

    // A flipped tag bit, or other associated data, fails authentication.
    CryptoRequest bad_tag = dec;
    (*bad_tag.authenticated_encryption_tag)[0] ^= 1;
    auto bt = Run(Operation::kDecrypt, bad_tag);
    ASSERT_FALSE(bt.ok());
    EXPECT_NE(bt.status().message().find("Cryptographic Failure"), std::string::npos)
        << bt.status().message();
    CryptoRequest bad_aad = dec;
    (*bad_aad.authenticated_encryption_additional_data)[0] ^= 1;
    auto ba = Run(Operation::kDecrypt, bad_aad);
    ASSERT_FALSE(ba.ok());
    EXPECT_NE(ba.status().message().find("Cryptographic Failure"), std::string::npos);
  }
}

// OASIS CS-BC-M-GCM-1-14: zero key, zero IV, one zero block, tag 16 (the
// first test case of the GCM specification).
TEST_F(KmsCryptoOpsTest, GcmKnownAnswer) {
  const std::string uid =
      RegisterKey(CryptographicAlgorithm::kAes, Hex(std::string(32, '0')), kEncDec);
  CryptoRequest enc;
  enc.uid = uid;
  enc.cryptographic_parameters = Params(kGcm, std::nullopt, 16);
  enc.data = B(Hex(std::string(32, '0')));
  enc.iv_counter_nonce = B(Hex(std::string(24, '0')));
  auto e = Run(Operation::kEncrypt, enc);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(H(e->data), "0388dace60b6a392f328c2b971b2fe78");
  EXPECT_EQ(H(*e->authenticated_encryption_tag), "ab6e47d42cec13bdf53a67b21257bddf");
  EXPECT_FALSE(e->iv_counter_nonce.has_value());  // the client's IV is not echoed

  // Tag Length 12: a truncated tag; 32 is refused.
  enc.cryptographic_parameters = Params(kGcm, std::nullopt, 12);
  auto e12 = Run(Operation::kEncrypt, enc);
  ASSERT_TRUE(e12.ok()) << e12.status().ToString();
  EXPECT_EQ(H(*e12->authenticated_encryption_tag), "ab6e47d42cec13bdf53a67b2");
  enc.cryptographic_parameters = Params(kGcm, std::nullopt, 32);
  EXPECT_FALSE(Run(Operation::kEncrypt, enc).ok());
}

TEST_F(KmsCryptoOpsTest, BlockModesMatchLocalOpenSsl) {
  const std::string uid = NewKey(CryptographicAlgorithm::kAes, 256, kEncDec);
  const std::vector<uint8_t> key = KeyOf(uid);
  ASSERT_EQ(key.size(), 32u);
  const std::vector<uint8_t> iv = Hex("000102030405060708090a0b0c0d0e0f");
  const std::vector<uint8_t> blocks =
      Hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const std::vector<uint8_t> odd = Hex("0102030405060708090a0b0c0d0e0f101112131415");
  struct Case {
    uint32_t mode;
    std::optional<uint32_t> padding;
    const std::vector<uint8_t>* data;
  };
  for (const Case& c : {Case{kCbc, kPadPkcs5, &odd}, Case{kCbc, kPadNone, &blocks},
                        Case{kEcb, kPadPkcs5, &odd}, Case{kEcb, std::nullopt, &blocks},
                        Case{kCtr, std::nullopt, &odd}, Case{kCtr, std::nullopt, &blocks}}) {
    SCOPED_TRACE(std::to_string(c.mode) + "/" + std::to_string(c.padding.value_or(0)) + "/" +
                 std::to_string(c.data->size()));
    const bool pad = c.padding == kPadPkcs5;
    CryptoRequest enc;
    enc.uid = uid;
    enc.cryptographic_parameters = Params(c.mode, c.padding);
    enc.data = B(*c.data);
    if (c.mode != kEcb) enc.iv_counter_nonce = B(iv);
    auto e = Run(Operation::kEncrypt, enc);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(H(e->data), H(LocalAes(c.mode, key, c.mode == kEcb ? std::span<const uint8_t>() : iv,
                                     pad, *c.data)));
    CryptoRequest dec = enc;
    dec.data = e->data;
    auto d = Run(Operation::kDecrypt, dec);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(H(d->data), H(*c.data));

    // Without an IV the server makes one and returns it.
    if (c.mode != kEcb) {
      CryptoRequest r = enc;
      r.iv_counter_nonce.reset();
      auto er = Run(Operation::kEncrypt, r);
      ASSERT_TRUE(er.ok()) << er.status().ToString();
      ASSERT_TRUE(er->iv_counter_nonce.has_value());
      ASSERT_EQ(er->iv_counter_nonce->size(), 16u);
      EXPECT_EQ(H(er->data), H(LocalAes(c.mode, key, *er->iv_counter_nonce, pad, *c.data)));
    }
  }
  // Padding None with a partial block is refused.
  CryptoRequest partial;
  partial.uid = uid;
  partial.cryptographic_parameters = Params(kCbc, kPadNone);
  partial.data = B(odd);
  partial.iv_counter_nonce = B(iv);
  auto p = Run(Operation::kEncrypt, partial);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("Invalid Field"), std::string::npos);
}

// NIST SP 800-38A F.1.1 (ECB), F.2.1 (CBC) and F.5.1 (CTR), AES-128, with a
// registered key; ECB takes its mode from the key's Cryptographic Parameters.
TEST_F(KmsCryptoOpsTest, NistSp80038aKnownAnswers) {
  const std::vector<uint8_t> key = Hex("2b7e151628aed2a6abf7158809cf4f3c");
  const std::string uid = RegisterKey(CryptographicAlgorithm::kAes, key, kEncDec);
  const ttlv::Bytes plain = B(Hex("6bc1bee22e409f96e93d7e117393172a"));
  struct Case {
    uint32_t mode;
    const char* iv;
    const char* cipher;
  };
  for (const Case& c :
       {Case{kEcb, "", "3ad77bb40d7a3660a89ecaf32466ef97"},
        Case{kCbc, "000102030405060708090a0b0c0d0e0f", "7649abac8119b246cee98e9b12e9197d"},
        Case{kCtr, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "874d6191b620e3261bef6864990db6ce"}}) {
    SCOPED_TRACE(c.mode);
    CryptoRequest enc;
    enc.uid = uid;
    enc.cryptographic_parameters = Params(c.mode, kPadNone);
    enc.data = plain;
    if (*c.iv != 0) enc.iv_counter_nonce = B(Hex(c.iv));
    auto e = Run(Operation::kEncrypt, enc);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(H(e->data), c.cipher);
  }
  // Parameters from the key's own attribute (OASIS CS-BC-M-1-14 style).
  AddAttributeRequest add;
  add.uid = uid;
  add.attribute = Attribute{"Cryptographic Parameters", std::nullopt,
                            Params(kEcb).WithTag(ttlv::tag::kAttributeValue)};
  ASSERT_TRUE(client_->AddAttribute(add).ok());
  CryptoRequest enc;
  enc.uid = uid;
  enc.data = plain;
  auto e = Run(Operation::kEncrypt, enc);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(H(e->data), "3ad77bb40d7a3660a89ecaf32466ef97");
}

// RFC 3394 §4.1 and RFC 5649 §6 vectors.
TEST_F(KmsCryptoOpsTest, KeyWrapModes) {
  const std::string uid =
      RegisterKey(CryptographicAlgorithm::kAes, Hex("000102030405060708090a0b0c0d0e0f"), kEncDec);
  CryptoRequest enc;
  enc.uid = uid;
  enc.cryptographic_parameters = Params(kNistKeyWrap);
  enc.data = B(Hex("00112233445566778899aabbccddeeff"));
  auto e = Run(Operation::kEncrypt, enc);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(H(e->data), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
  CryptoRequest dec = enc;
  dec.data = e->data;
  auto d = Run(Operation::kDecrypt, dec);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(H(d->data), "00112233445566778899aabbccddeeff");
  dec.data[3] ^= 1;
  auto bad = Run(Operation::kDecrypt, dec);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("Cryptographic Failure"), std::string::npos);

  const std::string kek192 =
      RegisterKey(CryptographicAlgorithm::kAes,
                  Hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8"), kEncDec);
  CryptoRequest pad;
  pad.uid = kek192;
  pad.cryptographic_parameters = Params(kKeyWrapPad);
  pad.data = B(Hex("466f7250617369"));
  auto p = Run(Operation::kEncrypt, pad);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(H(p->data), "afbeb0f07dfbf5419200f2ccb50bb24f");
  pad.data = p->data;
  auto pd = Run(Operation::kDecrypt, pad);
  ASSERT_TRUE(pd.ok()) << pd.status().ToString();
  EXPECT_EQ(H(pd->data), "466f7250617369");
}

TEST_F(KmsCryptoOpsTest, MacMatchesLocalHmac) {
  struct Case {
    CryptographicAlgorithm alg;
    const char* digest;
  };
  const std::vector<uint8_t> data = Hex("48656c6c6f2c20574f524c4421");
  for (const Case& c : {Case{CryptographicAlgorithm::kHmacSha1, "SHA1"},
                        Case{CryptographicAlgorithm::kHmacSha224, "SHA224"},
                        Case{CryptographicAlgorithm::kHmacSha256, "SHA256"},
                        Case{CryptographicAlgorithm::kHmacSha384, "SHA384"},
                        Case{CryptographicAlgorithm::kHmacSha512, "SHA512"}}) {
    SCOPED_TRACE(c.digest);
    const std::string uid = NewKey(c.alg, 256, usage::kMacGenerate);
    const std::vector<uint8_t> key = KeyOf(uid);
    CryptoRequest req;
    req.uid = uid;
    req.data = B(data);
    auto m = Run(Operation::kMac, req);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t n = 0;
    ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, c.digest, nullptr, key.data(), key.size(),
                        data.data(), data.size(), mac, sizeof(mac), &n),
              nullptr);
    EXPECT_EQ(H(m->data), H(std::span<const uint8_t>(mac, n)));
  }
  // The Hashing Algorithm of the request picks the digest (SHA-512 = 8).
  const std::string uid = NewKey(CryptographicAlgorithm::kHmacSha256, 256, usage::kMacGenerate);
  CryptoRequest req;
  req.uid = uid;
  req.data = B(data);
  req.cryptographic_parameters = ttlv::Item::Structure(
      ttlv::tag::kCryptographicParameters, {ttlv::Item::Enumeration(kHashingAlgorithmTag, 8)});
  auto m = Run(Operation::kMac, req);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->data.size(), 64u);
  // An AES key cannot MAC; an HMAC key without MAC Generate is refused.
  req.cryptographic_parameters.reset();
  req.uid = NewKey(CryptographicAlgorithm::kAes, 256, usage::kMacGenerate);
  EXPECT_FALSE(Run(Operation::kMac, req).ok());
  req.uid = NewKey(CryptographicAlgorithm::kHmacSha256, 256, usage::kMacVerify);
  auto denied = Run(Operation::kMac, req);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("Cryptographic Usage Mask"), std::string::npos);
}

TEST_F(KmsCryptoOpsTest, RngRetrieve) {
  std::set<std::string> seen;
  for (int32_t len : {1, 16, 32, 1000}) {
    RngRetrieveRequest req;
    req.data_length = len;
    auto out = client_->Call(Operation::kRngRetrieve, *req.Encode(kKmip14));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    auto resp = RngRetrieveResponse::Decode(*out, kKmip14);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    EXPECT_EQ(resp->data.size(), static_cast<size_t>(len));
    if (len >= 16) {
      EXPECT_TRUE(seen.insert(H(resp->data)).second);
    }
  }
  for (int i = 0; i < 8; ++i) {
    RngRetrieveRequest req;
    req.data_length = 32;
    auto out = client_->Call(Operation::kRngRetrieve, *req.Encode(kKmip14));
    ASSERT_TRUE(out.ok());
    auto resp = RngRetrieveResponse::Decode(*out, kKmip14);
    ASSERT_TRUE(resp.ok());
    EXPECT_TRUE(seen.insert(H(resp->data)).second);
  }
  for (int32_t len : {0, -1, (1 << 20) + 1}) {
    RngRetrieveRequest req;
    req.data_length = len;
    auto out = client_->Call(Operation::kRngRetrieve, *req.Encode(kKmip14));
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("Invalid Field"), std::string::npos);
  }
}

TEST_F(KmsCryptoOpsTest, Refusals) {
  CryptoRequest req;
  req.cryptographic_parameters = Params(kCbc, kPadPkcs5);
  req.data = B(Hex("0102030405"));

  req.uid = NewKey(CryptographicAlgorithm::kAes, 128, kEncDec, /*activate=*/false);
  auto pre = Run(Operation::kEncrypt, req);
  ASSERT_FALSE(pre.ok());
  EXPECT_EQ(pre.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(pre.status().message().find("Pre-Active"), std::string::npos) << pre.status().message();

  req.uid = NewKey(CryptographicAlgorithm::kAes, 128, usage::kDecrypt);
  auto no_use = Run(Operation::kEncrypt, req);
  ASSERT_FALSE(no_use.ok());
  EXPECT_EQ(no_use.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(no_use.status().message().find("Cryptographic Usage Mask"), std::string::npos)
      << no_use.status().message();

  req.uid = NewKey(CryptographicAlgorithm::kHmacSha256, 256, kEncDec);
  auto wrong_alg = Run(Operation::kEncrypt, req);
  ASSERT_FALSE(wrong_alg.ok());
  EXPECT_NE(wrong_alg.status().message().find("Feature Not Supported"), std::string::npos)
      << wrong_alg.status().message();

  req.uid = NewKey(CryptographicAlgorithm::kAes, 128, kEncDec);
  req.correlation_value = B(Hex("01"));
  auto multi = Run(Operation::kEncrypt, req);
  ASSERT_FALSE(multi.ok());
  EXPECT_NE(multi.status().message().find("multi-part"), std::string::npos);

  // Random IV False without an IV; Decrypt without an IV.
  req.correlation_value.reset();
  req.cryptographic_parameters = Params(kCbc, kPadPkcs5, std::nullopt, false);
  EXPECT_FALSE(Run(Operation::kEncrypt, req).ok());
  req.cryptographic_parameters = Params(kCbc, kPadPkcs5);
  EXPECT_FALSE(Run(Operation::kDecrypt, req).ok());

  // Revoked (Deactivated) keys no longer encrypt.
  RevokeRequest revoke;
  revoke.uid = *req.uid;
  revoke.reason_code = static_cast<uint32_t>(RevocationReasonCode::kCessationOfOperation);
  ASSERT_TRUE(client_->Revoke(revoke).ok());
  auto revoked = Run(Operation::kEncrypt, req);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.status().code(), StatusCode::kPermissionDenied);
}

// Multi-part Encrypt and Decrypt (1.4 §4.29/§4.30): the parts give the same
// bytes and tag as one call, across connections; unknown, finished or
// misused Correlation Values are refused.
TEST_F(KmsCryptoOpsTest, MultiPartGcmAndCbcMatchSinglePart) {
  const std::string uid = NewKey(CryptographicAlgorithm::kAes, 256, kEncDec);
  const auto plain = Hex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b39");
  CryptoRequest one;
  one.uid = uid;
  one.cryptographic_parameters = Params(kGcm, std::nullopt, 16);
  one.iv_counter_nonce = B(Hex("cafebabefacedbaddecaf888"));
  one.authenticated_encryption_additional_data = B(Hex("feedfacedeadbeef"));
  one.data = B(plain);
  auto whole = Run(Operation::kEncrypt, one);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();

  // Three parts of 20, 17 and 23 bytes (not block aligned); the middle one
  // on another connection.
  CryptoRequest first = one;
  first.data = B(std::span(plain).subspan(0, 20));
  first.init_indicator = true;
  auto r1 = Run(Operation::kEncrypt, first);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r1->correlation_value.has_value());
  EXPECT_FALSE(r1->authenticated_encryption_tag.has_value());
  CryptoRequest next;
  next.uid = uid;
  next.correlation_value = r1->correlation_value;
  next.data = B(std::span(plain).subspan(20, 17));
  auto other = kms_.MakeClient(kKmip14);
  ASSERT_NE(other, nullptr);
  next.operation = Operation::kEncrypt;
  auto payload = next.Encode(kKmip14);
  ASSERT_TRUE(payload.ok());
  auto out2 = other->Call(Operation::kEncrypt, *payload);
  ASSERT_TRUE(out2.ok()) << out2.status().ToString();
  auto r2 = CryptoResponse::Decode(*out2, kKmip14, Operation::kEncrypt);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->correlation_value, r1->correlation_value);
  CryptoRequest last;
  last.correlation_value = r1->correlation_value;
  last.final_indicator = true;
  last.data = B(std::span(plain).subspan(37));
  auto r3 = Run(Operation::kEncrypt, last);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  ttlv::Bytes joined = r1->data;
  joined.insert(joined.end(), r2->data.begin(), r2->data.end());
  joined.insert(joined.end(), r3->data.begin(), r3->data.end());
  EXPECT_EQ(H(joined), H(whole->data));
  EXPECT_EQ(r3->authenticated_encryption_tag, whole->authenticated_encryption_tag);
  EXPECT_FALSE(r3->correlation_value.has_value());

  // The call is over: its Correlation Value is gone.
  auto again = Run(Operation::kEncrypt, last);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("Correlation Value"), std::string::npos);

  // Multi-part GCM Decrypt with the tag in the last part; a wrong tag fails there.
  for (bool good : {true, false}) {
    CryptoRequest d1 = one;
    d1.data = B(std::span(whole->data).subspan(0, 33));
    d1.init_indicator = true;
    auto p1 = Run(Operation::kDecrypt, d1);
    ASSERT_TRUE(p1.ok()) << p1.status().ToString();
    CryptoRequest d2;
    d2.correlation_value = p1->correlation_value;
    d2.final_indicator = true;
    d2.data = B(std::span(whole->data).subspan(33));
    d2.authenticated_encryption_tag = *whole->authenticated_encryption_tag;
    if (!good) (*d2.authenticated_encryption_tag)[0] ^= 1;
    auto p2 = Run(Operation::kDecrypt, d2);
    if (!good) {
      ASSERT_FALSE(p2.ok());
      EXPECT_NE(p2.status().message().find("Cryptographic Failure"), std::string::npos)
          << p2.status().message();
      continue;
    }
    ASSERT_TRUE(p2.ok()) << p2.status().ToString();
    ttlv::Bytes back = p1->data;
    back.insert(back.end(), p2->data.begin(), p2->data.end());
    EXPECT_EQ(H(back), H(plain));
  }

  // CBC with PKCS#5 padding: the padding block comes with the last part.
  const auto key = KeyOf(uid);
  const auto iv = Hex("000102030405060708090a0b0c0d0e0f");
  CryptoRequest c1;
  c1.uid = uid;
  c1.cryptographic_parameters = Params(kCbc, kPadPkcs5);
  c1.iv_counter_nonce = B(iv);
  c1.init_indicator = true;
  c1.data = B(std::span(plain).subspan(0, 21));
  auto q1 = Run(Operation::kEncrypt, c1);
  ASSERT_TRUE(q1.ok()) << q1.status().ToString();
  EXPECT_EQ(q1->data.size(), 16u);
  CryptoRequest c2;
  c2.correlation_value = q1->correlation_value;
  c2.final_indicator = true;
  c2.data = B(std::span(plain).subspan(21));
  auto q2 = Run(Operation::kEncrypt, c2);
  ASSERT_TRUE(q2.ok()) << q2.status().ToString();
  ttlv::Bytes cbc = q1->data;
  cbc.insert(cbc.end(), q2->data.begin(), q2->data.end());
  EXPECT_EQ(H(cbc), H(LocalAes(kCbc, key, iv, true, plain)));

  // A Decrypt cannot continue an Encrypt; Final without a Correlation Value
  // and a Correlation Value with Init are refused.
  auto e1 = Run(Operation::kEncrypt, c1);
  ASSERT_TRUE(e1.ok());
  CryptoRequest cross;
  cross.correlation_value = e1->correlation_value;
  cross.final_indicator = true;
  cross.data = B(Hex("00"));
  EXPECT_FALSE(Run(Operation::kDecrypt, cross).ok());
  CryptoRequest bare = one;
  bare.final_indicator = true;
  EXPECT_FALSE(Run(Operation::kEncrypt, bare).ok());
  bare.final_indicator.reset();
  bare.init_indicator = true;
  bare.correlation_value = e1->correlation_value;
  EXPECT_FALSE(Run(Operation::kEncrypt, bare).ok());
}

// ChaCha20 (RFC 8439 §2.4; the 64-bit nonce form of the OASIS 2.1 cases)
// and ChaCha20-Poly1305 (§2.8.2 known answer), through the server.
TEST_F(KmsCryptoOpsTest, ChaCha20AndChaCha20Poly1305) {
  const std::string zero_key =
      RegisterKey(CryptographicAlgorithm::kChaCha20, std::vector<uint8_t>(32, 0), kEncDec);
  CryptoRequest req;
  req.uid = zero_key;
  req.data = B(std::vector<uint8_t>(64, 0));
  req.iv_counter_nonce = B(std::vector<uint8_t>(8, 0));
  auto ks = Run(Operation::kEncrypt, req);
  ASSERT_TRUE(ks.ok()) << ks.status().ToString();
  // The first ChaCha20 block of the all-zero key and nonce (RFC 8439 A.1 #1).
  EXPECT_EQ(H(ks->data),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724"
            "e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
  req.data = ks->data;
  auto back = Run(Operation::kDecrypt, req);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(H(back->data), H(std::vector<uint8_t>(64, 0)));
  // RFC 8439 §2.4.2: 12-byte nonce, counter 1 (given as the 16-byte block).
  std::vector<uint8_t> key(32);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  req.uid = RegisterKey(CryptographicAlgorithm::kChaCha20, key, kEncDec);
  const std::string sunscreen =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  req.data = ttlv::Bytes(sunscreen.begin(), sunscreen.end());
  req.iv_counter_nonce = B(Hex("01000000000000000000004a00000000"));
  auto rfc = Run(Operation::kEncrypt, req);
  ASSERT_TRUE(rfc.ok()) << rfc.status().ToString();
  EXPECT_EQ(H(rfc->data).substr(0, 32), "6e2e359a2568f98041ba0728dd0d6981");
  // No IV: the server draws a 12-byte nonce and returns it.
  req.iv_counter_nonce.reset();
  auto drawn = Run(Operation::kEncrypt, req);
  ASSERT_TRUE(drawn.ok()) << drawn.status().ToString();
  ASSERT_TRUE(drawn->iv_counter_nonce.has_value());
  EXPECT_EQ(drawn->iv_counter_nonce->size(), 12u);
  req.iv_counter_nonce = B(Hex("0102030405"));
  EXPECT_FALSE(Run(Operation::kEncrypt, req).ok());

  // ChaCha20-Poly1305, RFC 8439 §2.8.2.
  std::vector<uint8_t> aead_key(32);
  for (size_t i = 0; i < aead_key.size(); ++i) aead_key[i] = static_cast<uint8_t>(0x80 + i);
  CryptoRequest a;
  a.uid = RegisterKey(static_cast<CryptographicAlgorithm>(0x1E), aead_key, kEncDec);
  ttlv::Item aead = ttlv::Item::Structure(ttlv::tag::kCryptographicParameters);
  aead.Add(ttlv::Item::Enumeration(ttlv::tag::kBlockCipherMode, 0x12));  // AEAD
  a.cryptographic_parameters = aead;
  a.data = ttlv::Bytes(sunscreen.begin(), sunscreen.end());
  a.iv_counter_nonce = B(Hex("070000004041424344454647"));
  a.authenticated_encryption_additional_data = B(Hex("50515253c0c1c2c3c4c5c6c7"));
  auto sealed = Run(Operation::kEncrypt, a);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(H(sealed->data).substr(0, 32), "d31a8d34648e60db7b86afbc53ef7ec2");
  ASSERT_TRUE(sealed->authenticated_encryption_tag.has_value());
  EXPECT_EQ(H(*sealed->authenticated_encryption_tag), "1ae10b594f09e26a7e902ecbd0600691");
  a.data = sealed->data;
  a.authenticated_encryption_tag = sealed->authenticated_encryption_tag;
  auto opened = Run(Operation::kDecrypt, a);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(std::string(opened->data.begin(), opened->data.end()), sunscreen);
  (*a.authenticated_encryption_tag)[15] ^= 0x80;
  auto forged = Run(Operation::kDecrypt, a);
  ASSERT_FALSE(forged.ok());
  EXPECT_NE(forged.status().message().find("Cryptographic Failure"), std::string::npos);
  // A Tag Length outside 12..16 is General Failure (OASIS CHACHA20POLY1305-1).
  CryptoRequest bad_tag = a;
  bad_tag.authenticated_encryption_tag.reset();
  ttlv::Item one_byte = aead;
  one_byte.Add(ttlv::Item::Integer(kTagLengthTag, 1));
  bad_tag.cryptographic_parameters = one_byte;
  auto refused = Run(Operation::kEncrypt, bad_tag);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("General Failure"), std::string::npos)
      << refused.status().message();
}

// Usage Limits (1.4 §3.21): protection is counted and stops at the Total;
// decryption is not limited.
TEST_F(KmsCryptoOpsTest, UsageLimitsStopEncryption) {
  constexpr uint32_t kTotalTag = 0x420097, kUnitTag = 0x420098, kCountTag = 0x420096;
  RegisterRequest r;
  r.object = ManagedObject::SymmetricKey(static_cast<uint32_t>(CryptographicAlgorithm::kAes),
                                         SecretBytes(Hex("0123456789abcdef0123456789abcdef")));
  r.attributes = {
      Attribute::Integer("Cryptographic Usage Mask", kEncDec),
      Attribute{"Usage Limits", std::nullopt,
                ttlv::Item::Structure(ttlv::tag::kAttributeValue,
                                      {ttlv::Item::LongInteger(kTotalTag, 32),
                                       ttlv::Item::Enumeration(kUnitTag, 1 /* Byte */)})}};
  auto reg = client_->Register(r);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  ASSERT_TRUE(client_->Activate(reg->uid).ok());
  CryptoRequest req;
  req.uid = reg->uid;
  req.cryptographic_parameters = Params(kEcb);
  req.data = B(Hex("01020304050607080910111213141516"));
  ASSERT_TRUE(Run(Operation::kEncrypt, req).ok());
  auto second = Run(Operation::kEncrypt, req);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto third = Run(Operation::kEncrypt, req);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kPermissionDenied) << third.status().ToString();
  req.data = second->data;
  EXPECT_TRUE(Run(Operation::kDecrypt, req).ok());
  auto attrs = client_->GetAttributes({reg->uid, {"Usage Limits"}});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  ASSERT_EQ(attrs->attributes.size(), 1u);
  const ttlv::Item* count = attrs->attributes[0].value.Find(kCountTag);
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(count->int_value(), 0);
}

// The Digest (1.4 §3.17) of a created key is the SHA-256 of its material;
// its Random Number Generator (§3.44) names OpenSSL's CTR_DRBG.
TEST_F(KmsCryptoOpsTest, CreatedKeysCarryDigestAndRandomNumberGenerator) {
  const std::string uid = NewKey(CryptographicAlgorithm::kAes, 256, kEncDec, false);
  const auto key = KeyOf(uid);
  ASSERT_EQ(key.size(), 32u);
  uint8_t md[32];
  size_t md_len = 0;
  ASSERT_EQ(EVP_Q_digest(nullptr, "SHA256", nullptr, key.data(), key.size(), md, &md_len), 1);
  auto attrs = client_->GetAttributes({uid, {"Digest", "Random Number Generator"}});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  ASSERT_EQ(attrs->attributes.size(), 2u);
  const ttlv::Item* value = attrs->attributes[0].value.Find(0x420035);  // Digest Value
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(H(value->bytes()), H(std::span<const uint8_t>(md, md_len)));
  const ttlv::Item* rng = attrs->attributes[1].value.Find(0x4200DA);  // RNG Algorithm
  ASSERT_NE(rng, nullptr);
  EXPECT_EQ(rng->int_value(), 3);                                      // DRBG
  const ttlv::Item* drbg = attrs->attributes[1].value.Find(0x4200DB);  // DRBG Algorithm
  ASSERT_NE(drbg, nullptr);
  EXPECT_EQ(drbg->int_value(), 5);  // CTR
}

TEST_F(KmsCryptoOpsTest, QueryListsTheCryptoOperations) {
  auto q = client_->Query({static_cast<uint32_t>(QueryFunction::kQueryOperations)});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (Operation op :
       {Operation::kEncrypt, Operation::kDecrypt, Operation::kMac, Operation::kRngRetrieve}) {
    EXPECT_NE(std::find(q->operations.begin(), q->operations.end(), static_cast<uint32_t>(op)),
              q->operations.end());
  }
}

}  // namespace
}  // namespace vmcrypt::kms
