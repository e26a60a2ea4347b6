// The key server's asymmetric keys and the operations around them, end to
// end in-process on 127.0.0.1 (port 0): Create Key Pair (RSA, EC), Register
// and Get of Public / Private Keys across Key Format Types, Sign and
// Signature Verify (signatures checked here with OpenSSL, not only by the
// server), Derive Key (checked against OpenSSL computed here), Check, Query,
// the refusals (usage mask, state, object type, algorithm), and a scan of the
// SQLite files for private key bytes.
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/kms_test_server.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {
namespace {

namespace fs = std::filesystem;
using namespace vmcrypt::kmip;
using crypto::EvpPkeyPtr;

// Tags and enumeration values (KMIP 1.4 §9.1.3.1, §9.1.3.2).
constexpr uint32_t kTagHashing = 0x420038;
constexpr uint32_t kTagDigitalSignatureAlgorithm = 0x4200AE;
constexpr uint32_t kTagSaltLength = 0x420100;
constexpr uint32_t kTagLinkType = 0x42004B;
constexpr uint32_t kTagLinkedObjectIdentifier = 0x42004C;
constexpr uint32_t kTagDomainParameters = 0x420029;
constexpr uint32_t kTagRecommendedCurve = 0x420075;
constexpr uint32_t kTagDerivationData = 0x420030;
constexpr uint32_t kTagSalt = 0x420084;
constexpr uint32_t kTagIterationCount = 0x42003C;
constexpr uint32_t kTagIv = 0x42003A;
constexpr uint32_t kTagModulus = 0x420052;
constexpr uint32_t kTagCapabilityInformation = 0x4200F7;
constexpr uint32_t kSha1 = 4, kSha256 = 6, kSha384 = 7, kSha512 = 8, kMd5 = 3;
constexpr uint32_t kPadPkcs1 = 8, kPadPss = 0x0A;
constexpr uint32_t kP256 = 0x07, kP384 = 0x0A, kP521 = 0x0D;
constexpr uint32_t kPublicKeyLink = 0x102, kPrivateKeyLink = 0x103;
constexpr uint32_t kDerivationBaseLink = 0x104, kDerivedKeyLink = 0x105;
constexpr uint32_t kPbkdf2 = 1, kHmac = 3, kEncrypt = 4, kNist108C = 5;
constexpr uint32_t kValid = 1, kInvalid = 2;
constexpr uint32_t kRsa = static_cast<uint32_t>(CryptographicAlgorithm::kRsa);
constexpr uint32_t kEc = static_cast<uint32_t>(CryptographicAlgorithm::kEc);
constexpr uint32_t kEcdsa = static_cast<uint32_t>(CryptographicAlgorithm::kEcdsa);

std::string H(std::span<const uint8_t> s) { return HexEncode(s); }
ttlv::Bytes B(std::string_view s) { return ttlv::Bytes(s.begin(), s.end()); }

ttlv::Item Params(std::optional<uint32_t> hash, std::optional<uint32_t> padding = std::nullopt,
                  std::optional<uint32_t> algorithm = std::nullopt,
                  std::optional<int32_t> salt = std::nullopt) {
  ttlv::Item p = ttlv::Item::Structure(ttlv::tag::kCryptographicParameters);
  if (padding) p.Add(ttlv::Item::Enumeration(ttlv::tag::kPaddingMethod, *padding));
  if (hash) p.Add(ttlv::Item::Enumeration(kTagHashing, *hash));
  if (algorithm) p.Add(ttlv::Item::Enumeration(ttlv::tag::kCryptographicAlgorithm, *algorithm));
  if (salt) p.Add(ttlv::Item::Integer(kTagSaltLength, *salt));
  return p;
}

ttlv::Item DsaParams(uint32_t dsa) {
  return ttlv::Item::Structure(ttlv::tag::kCryptographicParameters,
                               {ttlv::Item::Enumeration(kTagDigitalSignatureAlgorithm, dsa)});
}

// OpenSSL's verdict on a signature, computed here.
bool OpenSslVerifies(EVP_PKEY* pub, const char* md, int padding, int salt,
                     std::span<const uint8_t> data, std::span<const uint8_t> sig) {
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, pub, nullptr) != 1) {
    return false;
  }
  if (padding != 0) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, padding);
    if (padding == RSA_PKCS1_PSS_PADDING) EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt);
  }
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), data.data(), data.size()) == 1;
}

SecretBytes Der(EVP_PKEY* pkey, const char* structure, bool is_private) {
  unsigned char* p = nullptr;
  int n = 0;
  if (std::string(structure) == "SubjectPublicKeyInfo") {
    n = i2d_PUBKEY(pkey, &p);
  } else if (std::string(structure) == "PrivateKeyInfo") {
    PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(pkey);
    n = i2d_PKCS8_PRIV_KEY_INFO(info, &p);
    PKCS8_PRIV_KEY_INFO_free(info);
  } else if (is_private) {
    n = i2d_PrivateKey(pkey, &p);
  } else {
    n = i2d_PublicKey(pkey, &p);
  }
  SecretBytes out(std::span<const uint8_t>(p, n > 0 ? static_cast<size_t>(n) : 0));
  OPENSSL_clear_free(p, n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

std::vector<uint8_t> BnBytes(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
  std::vector<uint8_t> out(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

class KmsAsymOpsTest : public ::testing::TestWithParam<ProtocolVersion> {
 protected:
  void SetUp() override {
    kms_holder_ = std::make_unique<test_support::TestKms>("kmsasym");
    ASSERT_NO_FATAL_FAILURE(kms().Start());
    client_ = kms().MakeClient(v());
    ASSERT_NE(client_, nullptr);
  }
  void TearDown() override {
    client_.reset();
    kms_holder_.reset();
  }
  ProtocolVersion v() const { return GetParam(); }
  test_support::TestKms& kms() { return *kms_holder_; }

  template <typename Resp, typename Req>
  Result<Resp> Call(Operation op, const Req& req) {
    ASSIGN_OR_RETURN(ttlv::Item payload, req.Encode(v()));
    ASSIGN_OR_RETURN(ttlv::Item out, client_->Call(op, payload));
    return Resp::Decode(out, v());
  }

  // A key pair; both halves Activated unless `activate` is false.
  CreateKeyPairResponse Pair(uint32_t algorithm, std::optional<int32_t> bits,
                             std::optional<uint32_t> curve = std::nullopt, bool activate = true,
                             int32_t private_mask = usage::kSign,
                             int32_t public_mask = usage::kVerify) {
    CreateKeyPairRequest r;
    r.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", algorithm)};
    if (bits) r.common_attributes->push_back(Attribute::Integer("Cryptographic Length", *bits));
    if (curve) {
      Attribute dp;
      dp.name = "Cryptographic Domain Parameters";
      dp.value = ttlv::Item::Structure(kTagDomainParameters,
                                       {ttlv::Item::Enumeration(kTagRecommendedCurve, *curve)});
      r.common_attributes->push_back(dp);
    }
    r.private_key_attributes =
        AttributeList{Attribute::Integer("Cryptographic Usage Mask", private_mask),
                      Attribute::Name("pair-private")};
    r.public_key_attributes =
        AttributeList{Attribute::Integer("Cryptographic Usage Mask", public_mask),
                      Attribute::Name("pair-public")};
    auto created = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return {};
    if (activate) {
      EXPECT_TRUE(client_->Activate(created->private_key_uid).ok());
      EXPECT_TRUE(client_->Activate(created->public_key_uid).ok());
    }
    return *created;
  }

  Result<GetResponse> GetAs(const std::string& uid, std::optional<KeyFormatType> format) {
    GetRequest g;
    g.uid = uid;
    if (format) g.key_format_type = static_cast<uint32_t>(*format);
    return client_->Get(g);
  }

  // The public key as OpenSSL sees it, fetched as X.509 SubjectPublicKeyInfo.
  EvpPkeyPtr PublicKey(const std::string& uid) {
    auto got = GetAs(uid, KeyFormatType::kX509);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return nullptr;
    const SecretBytes& der = got->object.key_block->key_material;
    const unsigned char* p = der.data();
    return EvpPkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  }

  Result<SignResponse> Sign(const std::string& uid, std::optional<ttlv::Item> params,
                            std::string_view data) {
    SignRequest s;
    s.uid = uid;
    s.cryptographic_parameters = std::move(params);
    s.data = B(data);
    return Call<SignResponse>(Operation::kSign, s);
  }

  Result<SignatureVerifyResponse> Verify(const std::string& uid, std::optional<ttlv::Item> params,
                                         std::string_view data, const ttlv::Bytes& sig) {
    SignatureVerifyRequest r;
    r.uid = uid;
    r.cryptographic_parameters = std::move(params);
    r.data = B(data);
    r.signature_data = sig;
    return Call<SignatureVerifyResponse>(Operation::kSignatureVerify, r);
  }

  std::vector<Attribute> Attrs(const std::string& uid, std::vector<std::string> names) {
    GetAttributesRequest g;
    g.uid = uid;
    g.names = std::move(names);
    auto got = client_->GetAttributes(g);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->attributes : std::vector<Attribute>{};
  }

  // The Link of `type` on `uid`, or "".
  std::string LinkOf(const std::string& uid, uint32_t type) {
    for (const Attribute& a : Attrs(uid, {"Link"})) {
      const ttlv::Item* t = a.value.Find(kTagLinkType);
      const ttlv::Item* id = a.value.Find(kTagLinkedObjectIdentifier);
      if (t != nullptr && id != nullptr && t->int_value() == type) return std::string(id->text());
    }
    return "";
  }

  // The reason names in KMIP 1.x and 2.x for the same refusal.
  std::string Reason(const char* v1, const char* v2) const { return v().is_v2() ? v2 : v1; }

  std::string RegisterKey(ObjectType type, KeyFormatType format, const SecretBytes& der,
                          int32_t mask, std::optional<uint32_t> algorithm = std::nullopt) {
    RegisterRequest r;
    r.object_type = type;
    r.object.type = type;
    KeyBlock b;
    b.key_format_type = static_cast<uint32_t>(format);
    b.key_material = der.Clone();
    b.cryptographic_algorithm = algorithm;
    r.object.key_block = std::move(b);
    r.attributes = {Attribute::Integer("Cryptographic Usage Mask", mask)};
    auto reg = client_->Register(r);
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    return reg.ok() ? reg->uid : "";
  }

  std::string RegisterSecret(std::string_view bytes, int32_t mask, ObjectType type,
                             std::optional<uint32_t> algorithm = std::nullopt) {
    RegisterRequest r;
    r.object_type = type;
    if (type == ObjectType::kSymmetricKey) {
      r.object = ManagedObject::SymmetricKey(*algorithm, SecretBytes(AsBytes(bytes)));
    } else {
      r.object.type = type;
      r.object.fields = {ttlv::Item::Enumeration(0x420086, 1)};  // Secret Data Type: Password
      KeyBlock b;
      b.key_format_type = static_cast<uint32_t>(KeyFormatType::kOpaque);
      b.key_material = SecretBytes(AsBytes(bytes));
      r.object.key_block = std::move(b);
    }
    r.attributes = {Attribute::Integer("Cryptographic Usage Mask", mask)};
    auto reg = client_->Register(r);
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    if (!reg.ok()) return "";
    EXPECT_TRUE(client_->Activate(reg->uid).ok());
    return reg->uid;
  }

  std::unique_ptr<test_support::TestKms> kms_holder_;
  std::unique_ptr<Client> client_;
};

INSTANTIATE_TEST_SUITE_P(Versions, KmsAsymOpsTest,
                         ::testing::Values(kKmip12, kKmip14, kKmip20, kKmip21),
                         [](const auto& info) {
                           return "v" + std::to_string(info.param.major) +
                                  std::to_string(info.param.minor);
                         });

TEST_P(KmsAsymOpsTest, RsaKeyPairSignaturesVerifyWithOpenSsl) {
  const CreateKeyPairResponse pair = Pair(kRsa, 2048);
  ASSERT_FALSE(pair.private_key_uid.empty());
  // The two objects, linked both ways (1.4 §4.2), with their masks.
  EXPECT_EQ(LinkOf(pair.private_key_uid, kPublicKeyLink), pair.public_key_uid);
  EXPECT_EQ(LinkOf(pair.public_key_uid, kPrivateKeyLink), pair.private_key_uid);
  auto attrs = Attrs(pair.private_key_uid, {"Object Type", "Cryptographic Algorithm",
                                            "Cryptographic Length", "Cryptographic Usage Mask"});
  ASSERT_EQ(attrs.size(), 4u);
  EXPECT_EQ(attrs[0].value.int_value(), static_cast<int64_t>(ObjectType::kPrivateKey));
  EXPECT_EQ(attrs[1].value.int_value(), kRsa);
  EXPECT_EQ(attrs[2].value.int_value(), 2048);
  EXPECT_EQ(attrs[3].value.int_value(), usage::kSign);

  EvpPkeyPtr pub = PublicKey(pair.public_key_uid);
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), 2048);
  const std::string msg = "the quick brown fox";
  struct Case {
    ttlv::Item params;
    const char* md;
    int padding;
    int salt;
  };
  const std::vector<Case> cases = {
      {Params(kSha256, kPadPkcs1, kRsa), "SHA256", RSA_PKCS1_PADDING, 0},
      {Params(kSha512), "SHA512", RSA_PKCS1_PADDING, 0},  // PKCS#1 v1.5 by default
      {Params(kSha384, kPadPss), "SHA384", RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_DIGEST},
      {Params(kSha256, kPadPss, kRsa, 222), "SHA256", RSA_PKCS1_PSS_PADDING, 222},
      {DsaParams(0x05), "SHA256", RSA_PKCS1_PADDING, 0},  // SHA-256 with RSA Encryption
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.md);
    auto s = Sign(pair.private_key_uid, c.params, msg);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(s->signature_data.has_value());
    EXPECT_EQ(s->uid, pair.private_key_uid);
    EXPECT_EQ(s->signature_data->size(), 256u);
    EXPECT_TRUE(
        OpenSslVerifies(pub.get(), c.md, c.padding, c.salt, AsBytes(msg), *s->signature_data));
    EXPECT_FALSE(OpenSslVerifies(pub.get(), c.md, c.padding, c.salt, AsBytes(msg + "!"),
                                 *s->signature_data));
    // The server's own verdicts: valid, then invalid for a changed signature
    // and for changed data.
    auto ok = Verify(pair.public_key_uid, c.params, msg, *s->signature_data);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(ok->validity_indicator, kValid);
    ttlv::Bytes bad = *s->signature_data;
    bad[17] ^= 0x01;
    auto bad_sig = Verify(pair.public_key_uid, c.params, msg, bad);
    ASSERT_TRUE(bad_sig.ok()) << bad_sig.status().ToString();
    EXPECT_EQ(bad_sig->validity_indicator, kInvalid);
    auto bad_data = Verify(pair.public_key_uid, c.params, msg + "!", *s->signature_data);
    ASSERT_TRUE(bad_data.ok());
    EXPECT_EQ(bad_data->validity_indicator, kInvalid);
  }
  // A signature OpenSSL made here verifies at the server: take the private
  // key out (PKCS#8) and sign locally.
  auto priv = GetAs(pair.private_key_uid, KeyFormatType::kPkcs8);
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  const SecretBytes& p8 = priv->object.key_block->key_material;
  const unsigned char* pp = p8.data();
  EvpPkeyPtr local(d2i_AutoPrivateKey(nullptr, &pp, static_cast<long>(p8.size())));
  ASSERT_NE(local, nullptr);
  crypto::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  ASSERT_EQ(
      EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, local.get(), nullptr),
      1);
  size_t n = 512;
  ttlv::Bytes sig(n);
  ASSERT_EQ(EVP_DigestSign(ctx.get(), sig.data(), &n, AsBytes(msg).data(), msg.size()), 1);
  sig.resize(n);
  auto v = Verify(pair.public_key_uid, Params(kSha256), msg, sig);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->validity_indicator, kValid);
}

TEST_P(KmsAsymOpsTest, EcKeyPairsOnEachCurve) {
  struct Case {
    uint32_t curve;
    int bits;
    uint32_t hash;
    const char* md;
  };
  for (const Case& c : {Case{kP256, 256, kSha256, "SHA256"}, Case{kP384, 384, kSha384, "SHA384"},
                        Case{kP521, 521, kSha512, "SHA512"}}) {
    SCOPED_TRACE(c.bits);
    // The curve by Recommended Curve, or by length alone.
    const CreateKeyPairResponse pair =
        c.bits == 384 ? Pair(kEc, 384) : Pair(kEcdsa, std::nullopt, c.curve);
    ASSERT_FALSE(pair.public_key_uid.empty());
    auto len = Attrs(pair.public_key_uid, {"Cryptographic Length"});
    ASSERT_EQ(len.size(), 1u);
    EXPECT_EQ(len[0].value.int_value(), c.bits);
    EvpPkeyPtr pub = PublicKey(pair.public_key_uid);
    ASSERT_NE(pub, nullptr);
    EXPECT_EQ(EVP_PKEY_get_bits(pub.get()), c.bits);
    auto s = Sign(pair.private_key_uid, Params(c.hash), "ecdsa data");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE(OpenSslVerifies(pub.get(), c.md, 0, 0, AsBytes("ecdsa data"), *s->signature_data));
    auto ok = Verify(pair.public_key_uid, Params(c.hash), "ecdsa data", *s->signature_data);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(ok->validity_indicator, kValid);
    ttlv::Bytes bad = *s->signature_data;
    bad.back() ^= 0x01;
    auto inv = Verify(pair.public_key_uid, Params(c.hash), "ecdsa data", bad);
    ASSERT_TRUE(inv.ok()) << inv.status().ToString();
    EXPECT_EQ(inv->validity_indicator, kInvalid);
    // ECDSA with SHA-256 by Digital Signature Algorithm.
    auto d = Sign(pair.private_key_uid, DsaParams(0x0E), "x");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_TRUE(OpenSslVerifies(pub.get(), "SHA256", 0, 0, AsBytes("x"), *d->signature_data));
    // EC keys come as PKCS#8 / X.509; PKCS#1 is RSA only.
    auto p1 = GetAs(pair.private_key_uid, KeyFormatType::kPkcs1);
    ASSERT_FALSE(p1.ok());
    EXPECT_NE(p1.status().message().find("Key Format Type Not Supported"), std::string::npos)
        << p1.status().message();
    auto ecpk = GetAs(pair.private_key_uid, KeyFormatType::kEcPrivateKey);
    ASSERT_TRUE(ecpk.ok()) << ecpk.status().ToString();
  }
}

TEST_P(KmsAsymOpsTest, CreateKeyPairRefusals) {
  CreateKeyPairRequest r;
  r.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kRsa),
                                      Attribute::Integer("Cryptographic Length", 512)};
  auto small = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("Invalid Field"), std::string::npos);
  (*r.common_attributes)[1] = Attribute::Integer("Cryptographic Length", 8192);
  EXPECT_FALSE(Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r).ok());
  r.common_attributes =
      AttributeList{Attribute::Enum("Cryptographic Algorithm",
                                    static_cast<uint32_t>(CryptographicAlgorithm::kDsa)),
                    Attribute::Integer("Cryptographic Length", 2048)};
  auto dsa = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_FALSE(dsa.ok());
  EXPECT_NE(dsa.status().message().find("Feature Not Supported"), std::string::npos)
      << dsa.status().message();
  r.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kEc),
                                      Attribute::Integer("Cryptographic Length", 255)};
  auto curve = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_FALSE(curve.ok());
  EXPECT_NE(curve.status().message().find("Missing Data"), std::string::npos);
  r.common_attributes.reset();
  auto none = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("Missing Data"), std::string::npos);
  // Algorithm and length given for the private key only hold for both.
  r.private_key_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kRsa),
                                           Attribute::Integer("Cryptographic Length", 1024)};
  auto one_side = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_TRUE(one_side.ok()) << one_side.status().ToString();
  auto a = Attrs(one_side->public_key_uid, {"Cryptographic Algorithm", "Cryptographic Length"});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].value.int_value(), kRsa);
  EXPECT_EQ(a[1].value.int_value(), 1024);
  // Different algorithms for the two halves are refused.
  r.public_key_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kEc)};
  auto mixed = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("Invalid Field"), std::string::npos);
}

TEST_P(KmsAsymOpsTest, SignRefusals) {
  // Not Active yet.
  const CreateKeyPairResponse pre = Pair(kRsa, 1024, std::nullopt, false);
  auto s = Sign(pre.private_key_uid, Params(kSha256), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(
                ": " + Reason("Permission Denied", "Wrong Key Lifecycle State") + ":"),
            std::string::npos)
      << s.status().message();
  // Usage masks swapped: the private key may only Verify.
  const CreateKeyPairResponse swapped =
      Pair(kRsa, 1024, std::nullopt, true, usage::kVerify, usage::kSign);
  s = Sign(swapped.private_key_uid, Params(kSha256), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(
                ": " + Reason("Permission Denied", "Incompatible Cryptographic Usage Mask") + ":"),
            std::string::npos)
      << s.status().message();
  auto vr = Verify(swapped.public_key_uid, Params(kSha256), "x", ttlv::Bytes(128, 0));
  ASSERT_FALSE(vr.ok());
  EXPECT_NE(vr.status().message().find(
                ": " + Reason("Permission Denied", "Incompatible Cryptographic Usage Mask") + ":"),
            std::string::npos);
  // Signing with the public key, or a symmetric key.
  const CreateKeyPairResponse pair = Pair(
      kRsa, 1024, std::nullopt, true, usage::kSign | usage::kVerify, usage::kSign | usage::kVerify);
  s = Sign(pair.public_key_uid, Params(kSha256), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.status().message().find(": " + Reason("Illegal Operation", "Invalid Object Type") + ":"),
      std::string::npos)
      << s.status().message();
  // Unsupported and missing parameters, with a reason naming them.
  s = Sign(pair.private_key_uid, Params(kMd5), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(
      s.status().message().find(
          ": " + Reason("Feature Not Supported", "Unsupported Cryptographic Parameters") + ":"),
      std::string::npos)
      << s.status().message();
  EXPECT_NE(s.status().message().find("Hashing Algorithm 3 is not supported"), std::string::npos);
  s = Sign(pair.private_key_uid, std::nullopt, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no Cryptographic Parameters"), std::string::npos);
  s = Sign(pair.private_key_uid, Params(kSha256, 0x02 /* OAEP */), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("Padding Method 2 is not supported"), std::string::npos);
  s = Sign(pair.private_key_uid, DsaParams(0x0E), "x");  // ECDSA with an RSA key
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(
                ": " + Reason("Invalid Field", "Bad Cryptographic Parameters") + ":"),
            std::string::npos);
  // Revoked (Compromised): no more signing, but verifying is still allowed
  // (1.4 §3.22).
  auto good = Sign(pair.private_key_uid, Params(kSha256), "before");
  ASSERT_TRUE(good.ok());
  for (const std::string& uid : {pair.private_key_uid, pair.public_key_uid}) {
    RevokeRequest rv;
    rv.uid = uid;
    rv.reason_code = static_cast<uint32_t>(RevocationReasonCode::kKeyCompromise);
    ASSERT_TRUE(client_->Revoke(rv).ok());
  }
  s = Sign(pair.private_key_uid, Params(kSha256), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(
                ": " + Reason("Permission Denied", "Wrong Key Lifecycle State") + ":"),
            std::string::npos);
  auto after = Verify(pair.public_key_uid, Params(kSha256), "before", *good->signature_data);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->validity_indicator, kValid);
}

TEST_P(KmsAsymOpsTest, ProtectStopAndProcessStartDates) {
  // OASIS CS-AC-M-8: a past Protect Stop Date stops Sign; a future Process
  // Start Date stops Signature Verify.
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(key, nullptr);
  RegisterRequest r;
  r.object_type = ObjectType::kPrivateKey;
  r.object.type = ObjectType::kPrivateKey;
  KeyBlock b;
  b.key_format_type = static_cast<uint32_t>(KeyFormatType::kPkcs1);
  b.key_material = Der(key.get(), "type-specific", true);
  r.object.key_block = std::move(b);
  const int64_t now = time(nullptr);
  r.attributes = {Attribute::Integer("Cryptographic Usage Mask", usage::kSign),
                  Attribute::DateTime("Activation Date", now - 3600),
                  Attribute::DateTime("Protect Stop Date", now - 3600)};
  auto priv = client_->Register(r);
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  auto s = Sign(priv->uid, Params(kSha256), "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("Protect Stop Date"), std::string::npos);

  r.object_type = ObjectType::kPublicKey;
  r.object.type = ObjectType::kPublicKey;
  r.object.key_block->key_material = Der(key.get(), "SubjectPublicKeyInfo", false);
  r.object.key_block->key_format_type = static_cast<uint32_t>(KeyFormatType::kX509);
  r.attributes = {Attribute::Integer("Cryptographic Usage Mask", usage::kVerify),
                  Attribute::DateTime("Activation Date", now - 3600),
                  Attribute::DateTime("Process Start Date", now + 3600)};
  auto pub = client_->Register(r);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  auto vr = Verify(pub->uid, Params(kSha256), "x", ttlv::Bytes(128, 1));
  ASSERT_FALSE(vr.ok());
  EXPECT_NE(vr.status().message().find("Process Start Date"), std::string::npos);
}

TEST_P(KmsAsymOpsTest, RegisterAndGetAcrossKeyFormats) {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  ASSERT_NE(key, nullptr);
  const SecretBytes pkcs1 = Der(key.get(), "type-specific", true);
  const SecretBytes pkcs8 = Der(key.get(), "PrivateKeyInfo", true);
  const SecretBytes spki = Der(key.get(), "SubjectPublicKeyInfo", false);
  const SecretBytes rsa_pub = Der(key.get(), "type-specific", false);

  // Registered without algorithm or length: both are read from the key.
  const std::string p1 =
      RegisterKey(ObjectType::kPrivateKey, KeyFormatType::kPkcs1, pkcs1, usage::kSign);
  const std::string p8 =
      RegisterKey(ObjectType::kPrivateKey, KeyFormatType::kPkcs8, pkcs8, usage::kSign, kRsa);
  const std::string x509 =
      RegisterKey(ObjectType::kPublicKey, KeyFormatType::kX509, spki, usage::kVerify);
  const std::string pub1 =
      RegisterKey(ObjectType::kPublicKey, KeyFormatType::kPkcs1, rsa_pub, usage::kVerify);
  for (const std::string& uid : {p1, p8, x509, pub1}) {
    auto a = Attrs(uid, {"Cryptographic Algorithm", "Cryptographic Length"});
    ASSERT_EQ(a.size(), 2u) << uid;
    EXPECT_EQ(a[0].value.int_value(), kRsa);
    EXPECT_EQ(a[1].value.int_value(), 2048);
  }
  // Get converts: PKCS#1 <-> PKCS#8 for the private key, PKCS#1 <-> X.509
  // for the public one, each compared with OpenSSL's own encoding.
  struct Case {
    std::string uid;
    KeyFormatType want;
    const SecretBytes* expect;
  };
  for (const Case& c :
       {Case{p1, KeyFormatType::kPkcs8, &pkcs8}, Case{p8, KeyFormatType::kPkcs1, &pkcs1},
        Case{p1, KeyFormatType::kPkcs1, &pkcs1}, Case{x509, KeyFormatType::kPkcs1, &rsa_pub},
        Case{pub1, KeyFormatType::kX509, &spki}}) {
    SCOPED_TRACE(c.uid + " as " + std::to_string(static_cast<int>(c.want)));
    auto got = GetAs(c.uid, c.want);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->object.key_block->key_format_type, static_cast<uint32_t>(c.want));
    EXPECT_EQ(got->object.key_block->cryptographic_algorithm, kRsa);
    EXPECT_EQ(H(got->object.key_block->key_material.span()), H(c.expect->span()));
  }
  // Transparent RSA keys: the modulus is the key's n.
  const std::vector<uint8_t> n = BnBytes(key.get(), OSSL_PKEY_PARAM_RSA_N);
  for (const auto& [uid, format] : {std::pair{p1, KeyFormatType::kTransparentRsaPrivateKey},
                                    std::pair{x509, KeyFormatType::kTransparentRsaPublicKey}}) {
    auto t = GetAs(uid, format);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    ASSERT_TRUE(t->object.key_block->key_material_structure.has_value());
    const ttlv::Item* m = t->object.key_block->key_material_structure->Find(kTagModulus);
    ASSERT_NE(m, nullptr);
    std::vector<uint8_t> got(m->bytes().begin(), m->bytes().end());
    while (!got.empty() && got[0] == 0) got.erase(got.begin());
    EXPECT_EQ(H(got), H(n));
  }
  // A Transparent RSA Private Key registers too and reads back as PKCS#1.
  auto transparent = GetAs(p1, KeyFormatType::kTransparentRsaPrivateKey);
  ASSERT_TRUE(transparent.ok()) << transparent.status().ToString();
  RegisterRequest tr;
  tr.object_type = ObjectType::kPrivateKey;
  tr.object = transparent->object.Clone();
  tr.attributes = {Attribute::Integer("Cryptographic Usage Mask", usage::kSign)};
  auto treg = client_->Register(tr);
  ASSERT_TRUE(treg.ok()) << treg.status().ToString();
  auto back = GetAs(treg->uid, KeyFormatType::kPkcs1);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(H(back->object.key_block->key_material.span()), H(pkcs1.span()));
  // Formats that do not fit: Key Format Type Not Supported.
  for (const auto& [uid, format] :
       {std::pair{p1, KeyFormatType::kX509}, std::pair{x509, KeyFormatType::kPkcs8},
        std::pair{p1, KeyFormatType::kRaw}}) {
    auto bad = GetAs(uid, format);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("Key Format Type Not Supported"), std::string::npos)
        << bad.status().message();
  }
  // A registered key signs; OpenSSL verifies.
  ASSERT_TRUE(client_->Activate(p8).ok());
  auto s = Sign(p8, Params(kSha256, kPadPss), "registered");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(OpenSslVerifies(key.get(), "SHA256", RSA_PKCS1_PSS_PADDING, RSA_PSS_SALTLEN_AUTO,
                              AsBytes("registered"), *s->signature_data));
  // Bytes that are not a key, and a key of another algorithm than stated,
  // are refused and nothing is stored.
  RegisterRequest junk;
  junk.object_type = ObjectType::kPrivateKey;
  junk.object.type = ObjectType::kPrivateKey;
  KeyBlock jb;
  jb.key_format_type = static_cast<uint32_t>(KeyFormatType::kPkcs1);
  jb.key_material = SecretBytes(AsBytes("not a key at all"));
  junk.object.key_block = std::move(jb);
  auto r = client_->Register(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Invalid Field"), std::string::npos) << r.status().message();
  junk.object.key_block->key_material = pkcs1.Clone();
  junk.object.key_block->cryptographic_algorithm = kEc;
  r = client_->Register(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Cryptographic Algorithm"), std::string::npos);
}

TEST_P(KmsAsymOpsTest, TruncatedKeysAreRefused) {
  // Every truncation of a PKCS#1 private key and of an X.509 public key is
  // Invalid Field, and the server keeps serving.
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_NE(key, nullptr);
  EvpPkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(rsa, nullptr);
  struct Case {
    ObjectType type;
    KeyFormatType format;
    SecretBytes der;
  };
  Case cases[] = {
      {ObjectType::kPrivateKey, KeyFormatType::kPkcs1, Der(rsa.get(), "type-specific", true)},
      {ObjectType::kPublicKey, KeyFormatType::kX509, Der(key.get(), "SubjectPublicKeyInfo", false)},
      {ObjectType::kPrivateKey, KeyFormatType::kPkcs8, Der(key.get(), "PrivateKeyInfo", true)}};
  for (const Case& c : cases) {
    const size_t n = c.der.size();
    // Every length for the short keys; a stride through the RSA key.
    const size_t step = n > 200 ? 7 : 1;
    for (size_t len = 0; len < n; len += step) {
      RegisterRequest r;
      r.object_type = c.type;
      r.object.type = c.type;
      KeyBlock b;
      b.key_format_type = static_cast<uint32_t>(c.format);
      b.key_material = SecretBytes(c.der.span().first(len));
      r.object.key_block = std::move(b);
      auto reg = client_->Register(r);
      ASSERT_FALSE(reg.ok()) << "length " << len << " of " << n;
      ASSERT_NE(reg.status().message().find("Invalid Field"), std::string::npos)
          << reg.status().message();
    }
  }
  auto q = client_->DiscoverVersions();
  EXPECT_TRUE(q.ok()) << q.status().ToString();
}

TEST_P(KmsAsymOpsTest, DeriveKeyMatchesOpenSsl) {
  const std::string password = "correct horse battery staple";
  const std::string pw = RegisterSecret(password, usage::kDeriveKey, ObjectType::kSecretData);
  const std::string salt = "NaCl-salt-bytes!";
  auto derive = [&](std::vector<std::string> uids, uint32_t method, ttlv::Item params,
                    ObjectType type, std::optional<uint32_t> alg, int32_t bits) {
    DeriveKeyRequest d;
    d.object_type = type;
    d.uids = std::move(uids);
    d.derivation_method = method;
    d.derivation_parameters = std::move(params);
    if (alg) d.attributes.push_back(Attribute::Enum("Cryptographic Algorithm", *alg));
    d.attributes.push_back(Attribute::Integer("Cryptographic Length", bits));
    d.attributes.push_back(Attribute::Integer("Cryptographic Usage Mask", usage::kEncrypt));
    return Call<DeriveKeyResponse>(Operation::kDeriveKey, d);
  };
  auto bytes_of = [&](const std::string& uid) {
    auto got = GetAs(uid, std::nullopt);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    auto s = got->object.key_block->key_material.span();
    return H(s);
  };
  const uint32_t aes = static_cast<uint32_t>(CryptographicAlgorithm::kAes);
  const ttlv::Item dp = ttlv::Item::Structure(0x420032);

  // PBKDF2 with HMAC-SHA-1 (the PKCS#5 default) and HMAC-SHA-256.
  for (std::optional<uint32_t> hash :
       {std::optional<uint32_t>(), std::optional<uint32_t>(kSha256)}) {
    ttlv::Item params = dp;
    if (hash) params.Add(Params(*hash));
    params.Add(ttlv::Item::ByteString(kTagSalt, AsBytes(salt)));
    params.Add(ttlv::Item::Integer(kTagIterationCount, 4096));
    auto k = derive({pw}, kPbkdf2, params, ObjectType::kSymmetricKey, aes, 256);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    uint8_t expect[32];
    ASSERT_EQ(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                                AsBytes(salt).data(), static_cast<int>(salt.size()), 4096,
                                hash ? EVP_sha256() : EVP_sha1(), 32, expect),
              1);
    EXPECT_EQ(bytes_of(k->uid), H(expect));
    // Linked both ways (1.4 §4.6).
    EXPECT_EQ(LinkOf(k->uid, kDerivationBaseLink), pw);
    auto a = Attrs(k->uid, {"Cryptographic Algorithm", "Cryptographic Length", "State"});
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0].value.int_value(), aes);
    EXPECT_EQ(a[1].value.int_value(), 256);
  }
  bool derived_link = false;
  for (const Attribute& a : Attrs(pw, {"Link"})) {
    derived_link |= a.value.Find(kTagLinkType)->int_value() == kDerivedKeyLink;
  }
  EXPECT_TRUE(derived_link);

  // HMAC-SHA-256 over the Derivation Data, with an HMAC key.
  const std::string hkey = "0123456789abcdef0123456789abcdef";
  const std::string hk = RegisterSecret(hkey, usage::kDeriveKey, ObjectType::kSymmetricKey,
                                        static_cast<uint32_t>(CryptographicAlgorithm::kHmacSha256));
  const std::string data = "label\0context";
  ttlv::Item hp = dp;
  hp.Add(ttlv::Item::ByteString(kTagDerivationData, AsBytes(data)));
  auto hm = derive({hk}, kHmac, hp, ObjectType::kSecretData, std::nullopt, 256);
  ASSERT_TRUE(hm.ok()) << hm.status().ToString();
  uint8_t mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), hkey.data(), static_cast<int>(hkey.size()), AsBytes(data).data(), data.size(),
       mac, &mac_len);
  EXPECT_EQ(bytes_of(hm->uid), H(mac));
  // More bits than HMAC-SHA-256 gives: an error (1.4 §4.6).
  auto too_long = derive({hk}, kHmac, hp, ObjectType::kSecretData, std::nullopt, 512);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("exceeds"), std::string::npos);

  // SP 800-108 counter mode, HMAC-SHA-256: K(i) = HMAC(key, [i]_32 || data).
  auto kb = derive({hk}, kNist108C, hp, ObjectType::kSymmetricKey, aes, 256);
  ASSERT_TRUE(kb.ok()) << kb.status().ToString();
  std::string block = std::string("\0\0\0\1", 4) + data;
  HMAC(EVP_sha256(), hkey.data(), static_cast<int>(hkey.size()), AsBytes(block).data(),
       block.size(), mac, &mac_len);
  EXPECT_EQ(bytes_of(kb->uid), H(mac));

  // ENCRYPT: AES-256-ECB of 32 bytes of Derivation Data.
  const std::string aes_key(32, '\x42');
  const std::string ak = RegisterSecret(aes_key, usage::kDeriveKey, ObjectType::kSymmetricKey, aes);
  const std::string block_data(32, '\x07');
  ttlv::Item ep = dp;
  ttlv::Item ecb = ttlv::Item::Structure(ttlv::tag::kCryptographicParameters);
  ecb.Add(ttlv::Item::Enumeration(ttlv::tag::kBlockCipherMode, 0x02));
  ep.Add(ecb);
  ep.Add(ttlv::Item::ByteString(kTagDerivationData, AsBytes(block_data)));
  auto ek = derive({ak}, kEncrypt, ep, ObjectType::kSymmetricKey, aes, 256);
  ASSERT_TRUE(ek.ok()) << ek.status().ToString();
  crypto::EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  uint8_t ct[48];
  int a = 0, f = 0;
  EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ecb(), nullptr, AsBytes(aes_key).data(), nullptr);
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  EVP_EncryptUpdate(ctx.get(), ct, &a, AsBytes(block_data).data(), 32);
  EVP_EncryptFinal_ex(ctx.get(), ct + a, &f);
  EXPECT_EQ(bytes_of(ek->uid), H(std::span<const uint8_t>(ct, 32)));

  // HKDF (KMIP 2.x, RFC 5869) with HMAC-SHA-256: Salt as salt, Derivation
  // Data as info; checked against RFC 5869 computed here (extract, expand).
  ttlv::Item hkdf_params = hp;
  hkdf_params.Add(ttlv::Item::ByteString(kTagSalt, AsBytes(salt)));
  auto hd = derive({hk}, 0x0A, hkdf_params, ObjectType::kSecretData, std::nullopt, 256);
  if (v().is_v2()) {
    ASSERT_TRUE(hd.ok()) << hd.status().ToString();
    uint8_t prk[32];
    HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()), AsBytes(hkey).data(),
         hkey.size(), prk, &mac_len);
    std::string t1 = data + std::string("\x01", 1);
    HMAC(EVP_sha256(), prk, 32, AsBytes(t1).data(), t1.size(), mac, &mac_len);
    EXPECT_EQ(bytes_of(hd->uid), H(mac));
  } else {
    ASSERT_FALSE(hd.ok());
    EXPECT_NE(hd.status().message().find("KMIP 2.x"), std::string::npos);
  }

  // Refusals: no Derive Key bit, an unknown method, no Cryptographic Length.
  const std::string no_derive =
      RegisterSecret(hkey, usage::kEncrypt, ObjectType::kSymmetricKey,
                     static_cast<uint32_t>(CryptographicAlgorithm::kHmacSha256));
  auto denied = derive({no_derive}, kHmac, hp, ObjectType::kSecretData, std::nullopt, 128);
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find(
                ": " + Reason("Permission Denied", "Incompatible Cryptographic Usage Mask") + ":"),
            std::string::npos)
      << denied.status().message();
  auto method =
      derive({hk}, 0x07 /* NIST800-108-DPI */, hp, ObjectType::kSecretData, std::nullopt, 128);
  ASSERT_FALSE(method.ok());
  EXPECT_NE(method.status().message().find("Derivation Method 7 is not supported"),
            std::string::npos);
  DeriveKeyRequest nolen;
  nolen.object_type = ObjectType::kSecretData;
  nolen.uids = {hk};
  nolen.derivation_method = kHmac;
  nolen.derivation_parameters = hp;
  auto missing = Call<DeriveKeyResponse>(Operation::kDeriveKey, nolen);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("Missing Data"), std::string::npos);
  // PBKDF2 without a salt.
  ttlv::Item nosalt = dp;
  nosalt.Add(ttlv::Item::Integer(kTagIterationCount, 10));
  auto ns = derive({pw}, kPbkdf2, nosalt, ObjectType::kSymmetricKey, aes, 128);
  ASSERT_FALSE(ns.ok());
  EXPECT_NE(ns.status().message().find("Salt"), std::string::npos);
}

TEST_P(KmsAsymOpsTest, CheckUsageMaskAndIdPlaceholder) {
  const CreateKeyPairResponse pair = Pair(kEc, 256);
  CheckPayload c;
  c.uid = pair.private_key_uid;
  c.cryptographic_usage_mask = usage::kSign;
  c.usage_limits_count = 10;  // no Usage Limits on the object: no limit
  c.lease_time = 3600;        // no Lease Time on the object: no limit
  auto ok = Call<CheckPayload>(Operation::kCheck, c);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->uid, pair.private_key_uid);
  c.cryptographic_usage_mask = usage::kSign | usage::kDecrypt;
  auto no = Call<CheckPayload>(Operation::kCheck, c);
  ASSERT_FALSE(no.ok());
  EXPECT_NE(no.status().message().find(
                ": " + Reason("Permission Denied", "Incompatible Cryptographic Usage Mask") + ":"),
            std::string::npos)
      << no.status().message();
  EXPECT_NE(no.status().message().find("0x8"), std::string::npos);

  // In a batch: Create Key Pair sets the ID Placeholder to the private key,
  // a passing Check keeps it and Sign uses it; a refused Check empties it so
  // the Get after it has no object (1.4 §4.2, §4.10).
  RequestMessage m;
  m.version = v();
  m.batch_error_continuation_option = 1;  // Continue (1.4 §9.1.3.2.30)
  auto item = [&](Operation op, const auto& payload) {
    RequestBatchItem i;
    i.operation = op;
    auto p = payload.Encode(v());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    i.payload = *p;
    m.items.push_back(std::move(i));
  };
  CreateKeyPairRequest cr;
  cr.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kEc),
                                       Attribute::Integer("Cryptographic Length", 256),
                                       Attribute::DateTime("Activation Date", time(nullptr) - 10)};
  cr.private_key_attributes =
      AttributeList{Attribute::Integer("Cryptographic Usage Mask", usage::kSign)};
  cr.public_key_attributes =
      AttributeList{Attribute::Integer("Cryptographic Usage Mask", usage::kVerify)};
  item(Operation::kCreateKeyPair, cr);
  CheckPayload pass;
  pass.cryptographic_usage_mask = usage::kSign;
  item(Operation::kCheck, pass);
  SignRequest sign;
  sign.cryptographic_parameters = Params(kSha256);
  sign.data = B("placeholder");
  item(Operation::kSign, sign);
  CheckPayload fail;
  fail.cryptographic_usage_mask = usage::kEncrypt;
  item(Operation::kCheck, fail);
  GetRequest get;
  item(Operation::kGet, get);
  auto resp = client_->Send(m);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->items.size(), 5u);
  EXPECT_TRUE(resp->items[0].ok()) << resp->items[0].ToStatus().ToString();
  EXPECT_TRUE(resp->items[1].ok()) << resp->items[1].ToStatus().ToString();
  EXPECT_TRUE(resp->items[2].ok()) << resp->items[2].ToStatus().ToString();
  EXPECT_FALSE(resp->items[3].ok());
  ASSERT_FALSE(resp->items[4].ok());
  EXPECT_NE(resp->items[4].ToStatus().message().find("no Unique Identifier and no ID Placeholder"),
            std::string::npos)
      << resp->items[4].ToStatus().message();
  auto created = CreateKeyPairResponse::Decode(*resp->items[0].payload, v());
  auto signed_ = SignResponse::Decode(*resp->items[2].payload, v());
  ASSERT_TRUE(created.ok() && signed_.ok());
  EXPECT_EQ(signed_->uid, created->private_key_uid);
}

TEST_P(KmsAsymOpsTest, UsageLimitsCountSignaturesAndCheck) {
  // Usage Limits (1.4 §3.21) of 2 objects (uses) on the private key: Check
  // sees what is left, each Sign takes one (1.4 §4.31), the third is refused.
  constexpr uint32_t kTagLimits = 0x420095, kTagTotal = 0x420097, kTagUnit = 0x420098;
  CreateKeyPairRequest r;
  r.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kEc),
                                      Attribute::Integer("Cryptographic Length", 256),
                                      Attribute::DateTime("Activation Date", time(nullptr) - 10)};
  Attribute limits;
  limits.name = "Usage Limits";
  limits.value = ttlv::Item::Structure(
      kTagLimits, {ttlv::Item::LongInteger(kTagTotal, 2), ttlv::Item::Enumeration(kTagUnit, 2)});
  r.private_key_attributes =
      AttributeList{Attribute::Integer("Cryptographic Usage Mask", usage::kSign), limits};
  r.public_key_attributes =
      AttributeList{Attribute::Integer("Cryptographic Usage Mask", usage::kVerify)};
  auto pair = Call<CreateKeyPairResponse>(Operation::kCreateKeyPair, r);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  auto check = [&](int64_t count) {
    CheckPayload c;
    c.uid = pair->private_key_uid;
    c.usage_limits_count = count;
    return Call<CheckPayload>(Operation::kCheck, c);
  };
  EXPECT_TRUE(check(2).ok());
  auto three = check(3);
  ASSERT_FALSE(three.ok());
  EXPECT_NE(three.status().message().find(
                ": " + Reason("Permission Denied", "Usage Limit Exceeded") + ":"),
            std::string::npos)
      << three.status().message();
  EXPECT_TRUE(Sign(pair->private_key_uid, Params(kSha256), "one").ok());
  EXPECT_TRUE(Sign(pair->private_key_uid, Params(kSha256), "two").ok());
  EXPECT_FALSE(check(1).ok());
  auto third = Sign(pair->private_key_uid, Params(kSha256), "three");
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("Usage Limits"), std::string::npos)
      << third.status().message();
}

TEST_P(KmsAsymOpsTest, RsaEncryptDecryptOaepAndPkcs1) {
  const CreateKeyPairResponse pair =
      Pair(kRsa, 2048, std::nullopt, true, usage::kDecrypt, usage::kEncrypt);
  auto priv = GetAs(pair.private_key_uid, KeyFormatType::kPkcs8);
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  const SecretBytes& p8 = priv->object.key_block->key_material;
  const unsigned char* pp = p8.data();
  EvpPkeyPtr local(d2i_AutoPrivateKey(nullptr, &pp, static_cast<long>(p8.size())));
  ASSERT_NE(local, nullptr);
  auto call = [&](Operation op, const std::string& uid, std::optional<ttlv::Item> params,
                  const ttlv::Bytes& data) {
    CryptoRequest r;
    r.operation = op;
    r.uid = uid;
    r.cryptographic_parameters = std::move(params);
    r.data = data;
    auto payload = r.Encode(v());
    EXPECT_TRUE(payload.ok());
    auto out = client_->Call(op, *payload);
    if (!out.ok()) return Result<CryptoResponse>(out.status());
    return CryptoResponse::Decode(*out, v(), op);
  };
  // OAEP with SHA-256 and a label (P Source), then PKCS#1 v1.5; each
  // ciphertext is opened by OpenSSL here and by the server.
  ttlv::Item oaep = Params(kSha256, 0x02 /* OAEP */, kRsa);
  oaep.Add(ttlv::Item::ByteString(0x420103, AsBytes("label")));
  for (const auto& [params, padding] :
       {std::pair{oaep, RSA_PKCS1_OAEP_PADDING},
        std::pair{Params(std::nullopt, kPadPkcs1), RSA_PKCS1_PADDING}}) {
    SCOPED_TRACE(padding);
    const ttlv::Bytes plain = B("a 32-byte data encryption key...");
    auto enc = call(Operation::kEncrypt, pair.public_key_uid, params, plain);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    ASSERT_EQ(enc->data.size(), 256u);
    crypto::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, local.get(), nullptr));
    ASSERT_EQ(EVP_PKEY_decrypt_init(ctx.get()), 1);
    EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding);
    if (padding == RSA_PKCS1_OAEP_PADDING) {
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), "SHA256", nullptr);
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), "SHA1", nullptr);  // KMIP default (1.4 §3.6)
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), OPENSSL_memdup("label", 5), 5);
    }
    uint8_t out[256];
    size_t n = sizeof(out);
    ASSERT_EQ(EVP_PKEY_decrypt(ctx.get(), out, &n, enc->data.data(), enc->data.size()), 1);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out), n), "a 32-byte data encryption key...");
    auto dec = call(Operation::kDecrypt, pair.private_key_uid, params, enc->data);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(dec->data, plain);
    ttlv::Bytes bad = enc->data;
    bad[100] ^= 1;
    auto tampered = call(Operation::kDecrypt, pair.private_key_uid, params, bad);
    ASSERT_FALSE(tampered.ok());
    EXPECT_NE(tampered.status().message().find("Cryptographic Failure"), std::string::npos);
  }
  // Encrypt with the private key, Decrypt with the public key: the wrong
  // half (after the usage mask: each half has only its own usage).
  auto wrong = call(Operation::kEncrypt, pair.private_key_uid, oaep, B("x"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find(
                ": " + Reason("Permission Denied", "Incompatible Cryptographic Usage Mask") + ":"),
            std::string::npos)
      << wrong.status().message();
  const CreateKeyPairResponse both =
      Pair(kRsa, 1024, std::nullopt, true, usage::kEncrypt | usage::kDecrypt,
           usage::kEncrypt | usage::kDecrypt);
  auto half = call(Operation::kEncrypt, both.private_key_uid, oaep, B("x"));
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("needs a Public Key"), std::string::npos)
      << half.status().message();
  // EC keys do not encrypt.
  const CreateKeyPairResponse ec =
      Pair(kEc, 256, std::nullopt, true, usage::kDecrypt, usage::kEncrypt);
  auto ece = call(Operation::kEncrypt, ec.public_key_uid, std::nullopt, B("x"));
  ASSERT_FALSE(ece.ok());
  EXPECT_NE(ece.status().message().find("RSA keys only"), std::string::npos)
      << ece.status().message();
}

TEST_P(KmsAsymOpsTest, CreateKeyPairInKmip10And11) {
  // With its own 1.0 and 1.1 clients, whatever the suite's version.
  for (ProtocolVersion old : {kKmip10, kKmip11}) {
    auto c = kms().MakeClient(old);
    ASSERT_NE(c, nullptr);
    CreateKeyPairRequest r;
    r.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", kRsa),
                                        Attribute::Integer("Cryptographic Length", 1024)};
    auto payload = r.Encode(old);
    ASSERT_TRUE(payload.ok());
    auto out = c->Call(Operation::kCreateKeyPair, *payload);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    auto pair = CreateKeyPairResponse::Decode(*out, old);
    ASSERT_TRUE(pair.ok());
    GetRequest g;
    g.uid = pair->public_key_uid;
    auto got = c->Get(g);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->object.type, ObjectType::kPublicKey);
    // Sign is a 1.2 operation: not listed by Query in 1.0 and 1.1.
    auto q = c->Query({static_cast<uint32_t>(QueryFunction::kQueryOperations)});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(std::find(q->operations.begin(), q->operations.end(),
                        static_cast<uint32_t>(Operation::kSign)),
              q->operations.end());
    EXPECT_NE(std::find(q->operations.begin(), q->operations.end(),
                        static_cast<uint32_t>(Operation::kCreateKeyPair)),
              q->operations.end());
  }
}

TEST_P(KmsAsymOpsTest, QueryListsTheOperationsAndCapabilities) {
  auto q = client_->Query({static_cast<uint32_t>(QueryFunction::kQueryOperations),
                           static_cast<uint32_t>(QueryFunction::kQueryCapabilities)});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  for (Operation op : {Operation::kCreateKeyPair, Operation::kSign, Operation::kSignatureVerify,
                       Operation::kDeriveKey, Operation::kCheck}) {
    EXPECT_NE(std::find(q->operations.begin(), q->operations.end(), static_cast<uint32_t>(op)),
              q->operations.end())
        << OperationName(op);
  }
  if (v() >= kKmip13) {
    ASSERT_EQ(q->capability_information.size(), 1u);
    EXPECT_EQ(q->capability_information[0].tag(), kTagCapabilityInformation);
    EXPECT_NE(q->capability_information[0].Find(0x4200EF), nullptr);  // Streaming Capability
  } else {
    EXPECT_TRUE(q->capability_information.empty());
  }
}

TEST_P(KmsAsymOpsTest, NoPrivateKeyBytesInTheStoreFiles) {
  std::vector<std::string> secrets;
  auto add = [&](std::span<const uint8_t> s) {
    secrets.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
  };
  for (const CreateKeyPairResponse& pair : {Pair(kRsa, 2048), Pair(kEc, 384)}) {
    for (KeyFormatType f : {KeyFormatType::kPkcs8}) {
      auto got = GetAs(pair.private_key_uid, f);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const SecretBytes& der = got->object.key_block->key_material;
      add(der.span());
      const unsigned char* p = der.data();
      EvpPkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
      ASSERT_NE(key, nullptr);
      // The secret scalar itself, apart from any encoding.
      const bool rsa = EVP_PKEY_is_a(key.get(), "RSA") == 1;
      std::vector<uint8_t> d =
          BnBytes(key.get(), rsa ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY);
      add(std::span<const uint8_t>(d).first(16));
      if (rsa)
        add(std::span<const uint8_t>(BnBytes(key.get(), OSSL_PKEY_PARAM_RSA_FACTOR1)).first(16));
    }
  }
  // A registered private key too.
  EvpPkeyPtr reg(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  const SecretBytes der = Der(reg.get(), "PrivateKeyInfo", true);
  RegisterKey(ObjectType::kPrivateKey, KeyFormatType::kPkcs8, der, usage::kSign);
  add(std::span<const uint8_t>(BnBytes(reg.get(), OSSL_PKEY_PARAM_PRIV_KEY)).first(16));
  client_->Close();
  kms().Stop();
  size_t scanned = 0;
  for (const char* f : {"kms.db", "kms.db-wal", "kms.db-shm", "audit.log"}) {
    if (!fs::exists(kms().P(f))) continue;
    std::ifstream in(kms().P(f), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string content = ss.str();
    scanned += content.size();
    for (const std::string& s : secrets) {
      EXPECT_EQ(content.find(s), std::string::npos) << "private key bytes found in " << f;
    }
  }
  EXPECT_GT(scanned, 0u);
  EXPECT_EQ(secrets.size(), 6u);
}

}  // namespace
}  // namespace vmcrypt::kms
