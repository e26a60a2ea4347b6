// The server-managed attributes of KMIP 1.4 §3 / 2.1 §4, end to end against
// the key server in-process on 127.0.0.1 (port 0): their defaults (Sensitive,
// Extractable, Always Sensitive, Never Extractable, Fresh, Lease Time,
// Original Creation Date; 2.x Key Format Type, Short Unique Identifier,
// Protection Storage Mask), the transitions the server makes, the refusal of
// Get for Sensitive / non-Extractable keys, the refusal to let clients set
// what the server manages, which versions see which attribute, and the order
// of Get Attribute List.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "tests/kms_test_server.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {
namespace {

using namespace vmcrypt::kmip;

class KmsAttributesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(kms_.Start()); }

  Client& C(ProtocolVersion v) {
    for (auto& [ver, c] : clients_) {
      if (ver == v) return *c;
    }
    clients_.emplace_back(v, kms_.MakeClient(v));
    EXPECT_NE(clients_.back().second, nullptr);
    return *clients_.back().second;
  }

  // An AES-128 key made by Create with `extra` attributes.
  std::string NewKey(ProtocolVersion v, AttributeList extra = {}) {
    CreateRequest r;
    r.attributes = {Attribute::Enum("Cryptographic Algorithm",
                                    static_cast<uint32_t>(CryptographicAlgorithm::kAes)),
                    Attribute::Integer("Cryptographic Length", 128),
                    Attribute::Integer("Cryptographic Usage Mask", usage::kEncrypt)};
    for (Attribute& a : extra) r.attributes.push_back(std::move(a));
    auto created = C(v).Create(r);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->uid : "";
  }

  AttributeList All(ProtocolVersion v, const std::string& uid) {
    GetAttributesRequest r;
    r.uid = uid;
    auto got = C(v).GetAttributes(r);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->attributes : AttributeList{};
  }

  std::vector<std::string> Names(ProtocolVersion v, const std::string& uid) {
    auto got = C(v).GetAttributeList(uid);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->names : std::vector<std::string>{};
  }

  // The Boolean value of `name`, or -1 when absent or not a Boolean.
  int Flag(ProtocolVersion v, const std::string& uid, const std::string& name) {
    GetAttributesRequest r;
    r.uid = uid;
    r.names = {name};
    auto got = C(v).GetAttributes(r);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return -1;
    const Attribute* a = FindAttribute(got->attributes, name);
    if (a == nullptr || a->value.type() != ttlv::ItemType::kBoolean) return -1;
    return a->value.int_value() != 0 ? 1 : 0;
  }

  Status Get(ProtocolVersion v, const std::string& uid) {
    GetRequest g;
    g.uid = uid;
    return C(v).Get(g).status();
  }

  Status Modify(ProtocolVersion v, const std::string& uid, Attribute a) {
    ModifyAttributeRequest r;
    r.uid = uid;
    r.attribute = std::move(a);
    auto payload = r.Encode(v);
    if (!payload.ok()) return payload.status();
    return C(v).Call(Operation::kModifyAttribute, *payload).status();
  }

  Status Add(ProtocolVersion v, const std::string& uid, Attribute a) {
    AddAttributeRequest r;
    r.uid = uid;
    r.attribute = std::move(a);
    return C(v).AddAttribute(r).status();
  }

  Status Delete(ProtocolVersion v, const std::string& uid, const std::string& name) {
    DeleteAttributeRequest r;
    r.uid = uid;
    r.name = name;
    auto payload = r.Encode(v);
    if (!payload.ok()) return payload.status();
    return C(v).Call(Operation::kDeleteAttribute, *payload).status();
  }

  test_support::TestKms kms_{"kmsattrs"};
  std::vector<std::pair<ProtocolVersion, std::unique_ptr<Client>>> clients_;
};

MATCHER_P(HasReason, reason, "") {
  return !arg.ok() && arg.detail() == static_cast<int32_t>(reason);
}

bool Has(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

TEST_F(KmsAttributesTest, DefaultsOfACreatedKey) {
  const std::string uid = NewKey(kKmip14);
  AttributeList attrs = All(kKmip14, uid);
  auto flag = [&](const char* name) {
    const Attribute* a = FindAttribute(attrs, name);
    EXPECT_NE(a, nullptr) << name;
    EXPECT_TRUE(a == nullptr || a->value.type() == ttlv::ItemType::kBoolean) << name;
    return a != nullptr && a->value.int_value() != 0;
  };
  EXPECT_FALSE(flag("Sensitive"));
  EXPECT_FALSE(flag("Always Sensitive"));
  EXPECT_TRUE(flag("Extractable"));
  EXPECT_FALSE(flag("Never Extractable"));
  EXPECT_TRUE(flag("Fresh"));
  const Attribute* lease = FindAttribute(attrs, "Lease Time");
  ASSERT_NE(lease, nullptr);
  EXPECT_EQ(lease->value.type(), ttlv::ItemType::kInterval);
  EXPECT_EQ(lease->value.int_value(), 3600);
  const Attribute* original = FindAttribute(attrs, "Original Creation Date");
  const Attribute* initial = FindAttribute(attrs, "Initial Date");
  ASSERT_NE(original, nullptr);
  ASSERT_NE(initial, nullptr);
  EXPECT_EQ(original->value.type(), ttlv::ItemType::kDateTime);
  EXPECT_EQ(original->value.int_value(), initial->value.int_value());
  // 2.x-only attributes stay out of a 1.4 answer.
  EXPECT_EQ(FindAttribute(attrs, "Key Format Type"), nullptr);
  EXPECT_EQ(FindAttribute(attrs, "Short Unique Identifier"), nullptr);
  EXPECT_EQ(FindAttribute(attrs, "Protection Storage Mask"), nullptr);
}

TEST_F(KmsAttributesTest, FreshUntilTheKeyIsServed) {
  const std::string uid = NewKey(kKmip14);
  EXPECT_EQ(Flag(kKmip14, uid, "Fresh"), 1);
  // Attributes are not the key: still Fresh.
  All(kKmip14, uid);
  EXPECT_EQ(Flag(kKmip14, uid, "Fresh"), 1);
  ASSERT_TRUE(Get(kKmip14, uid).ok());
  EXPECT_EQ(Flag(kKmip14, uid, "Fresh"), 0);
  ASSERT_TRUE(Get(kKmip14, uid).ok());
  EXPECT_EQ(Flag(kKmip14, uid, "Fresh"), 0);
}

TEST_F(KmsAttributesTest, SensitiveKeysAreNotServedAndAlwaysSensitiveOnlyFalls) {
  const std::string uid = NewKey(kKmip14, {Attribute::Boolean("Sensitive", true)});
  EXPECT_EQ(Flag(kKmip14, uid, "Sensitive"), 1);
  EXPECT_EQ(Flag(kKmip14, uid, "Always Sensitive"), 1);
  EXPECT_THAT(Get(kKmip14, uid), HasReason(ResultReason::kSensitive));
  EXPECT_THAT(Get(kKmip21, uid), HasReason(ResultReason::kSensitive));
  // 1.2 has no Sensitive reason (1.4 §9.1.3.2.29 added it).
  EXPECT_THAT(Get(kKmip12, uid), HasReason(ResultReason::kPermissionDenied));
  EXPECT_EQ(Flag(kKmip14, uid, "Fresh"), 1);  // never served

  ASSERT_TRUE(Modify(kKmip14, uid, Attribute::Boolean("Sensitive", false)).ok());
  EXPECT_EQ(Flag(kKmip14, uid, "Always Sensitive"), 0);
  EXPECT_TRUE(Get(kKmip14, uid).ok());
  ASSERT_TRUE(Modify(kKmip14, uid, Attribute::Boolean("Sensitive", true)).ok());
  EXPECT_EQ(Flag(kKmip14, uid, "Sensitive"), 1);
  EXPECT_EQ(Flag(kKmip14, uid, "Always Sensitive"), 0);  // it was False once
  EXPECT_THAT(Get(kKmip14, uid), HasReason(ResultReason::kSensitive));
}

TEST_F(KmsAttributesTest, NonExtractableKeysAreNotServedAndNeverExtractableOnlyFalls) {
  const std::string uid = NewKey(kKmip14, {Attribute::Boolean("Extractable", false)});
  EXPECT_EQ(Flag(kKmip14, uid, "Extractable"), 0);
  EXPECT_EQ(Flag(kKmip14, uid, "Never Extractable"), 1);
  EXPECT_THAT(Get(kKmip14, uid), HasReason(ResultReason::kNotExtractable));
  EXPECT_THAT(Get(kKmip11, uid), HasReason(ResultReason::kPermissionDenied));
  // The key still works inside the server.
  ASSERT_TRUE(C(kKmip14).Activate(uid).ok());
  CryptoRequest enc;
  enc.operation = Operation::kEncrypt;
  enc.uid = uid;
  enc.data = ttlv::Bytes(16, 0x42);
  ttlv::Item params = ttlv::Item::Structure(ttlv::tag::kCryptographicParameters);
  params.Add(ttlv::Item::Enumeration(ttlv::tag::kBlockCipherMode, 2));  // ECB
  params.Add(ttlv::Item::Enumeration(ttlv::tag::kPaddingMethod, 1));    // None
  enc.cryptographic_parameters = params;
  auto payload = enc.Encode(kKmip14);
  ASSERT_TRUE(payload.ok());
  EXPECT_TRUE(C(kKmip14).Call(Operation::kEncrypt, *payload).ok());

  ASSERT_TRUE(Modify(kKmip14, uid, Attribute::Boolean("Extractable", true)).ok());
  EXPECT_EQ(Flag(kKmip14, uid, "Never Extractable"), 0);
  EXPECT_TRUE(Get(kKmip14, uid).ok());
  ASSERT_TRUE(Modify(kKmip14, uid, Attribute::Boolean("Extractable", false)).ok());
  EXPECT_EQ(Flag(kKmip14, uid, "Never Extractable"), 0);  // it was True once
  EXPECT_THAT(Get(kKmip14, uid), HasReason(ResultReason::kNotExtractable));
}

TEST_F(KmsAttributesTest, ClientsCannotSetWhatTheServerManages) {
  const std::string uid = NewKey(kKmip14);
  for (const char* name : {"Always Sensitive", "Never Extractable", "Fresh"}) {
    EXPECT_THAT(Add(kKmip14, uid, Attribute::Boolean(name, true)),
                HasReason(ResultReason::kPermissionDenied))
        << name;
    EXPECT_THAT(Modify(kKmip14, uid, Attribute::Boolean(name, true)),
                HasReason(ResultReason::kPermissionDenied))
        << name;
    EXPECT_THAT(Delete(kKmip14, uid, name), HasReason(ResultReason::kPermissionDenied)) << name;
  }
  EXPECT_THAT(Modify(kKmip14, uid,
                     Attribute{"Lease Time", std::nullopt,
                               ttlv::Item::Interval(ttlv::tag::kAttributeValue, 60)}),
              HasReason(ResultReason::kPermissionDenied));
  EXPECT_THAT(Modify(kKmip14, uid, Attribute::DateTime("Original Creation Date", 1000)),
              HasReason(ResultReason::kPermissionDenied));
  EXPECT_THAT(Delete(kKmip14, uid, "Original Creation Date"),
              HasReason(ResultReason::kPermissionDenied));
  // Sensitive and Extractable may change, not go away, and are Booleans.
  EXPECT_THAT(Delete(kKmip14, uid, "Sensitive"), HasReason(ResultReason::kPermissionDenied));
  EXPECT_THAT(Delete(kKmip14, uid, "Extractable"), HasReason(ResultReason::kPermissionDenied));
  EXPECT_THAT(Modify(kKmip14, uid, Attribute::Integer("Sensitive", 1)),
              HasReason(ResultReason::kInvalidField));
  // Not at creation either.
  CreateRequest r;
  r.attributes = {Attribute::Enum("Cryptographic Algorithm",
                                  static_cast<uint32_t>(CryptographicAlgorithm::kAes)),
                  Attribute::Integer("Cryptographic Length", 128),
                  Attribute::Boolean("Fresh", false)};
  EXPECT_THAT(C(kKmip14).Create(r).status(), HasReason(ResultReason::kPermissionDenied));
  // Nothing changed.
  EXPECT_EQ(Flag(kKmip14, uid, "Fresh"), 1);
  EXPECT_EQ(Flag(kKmip14, uid, "Always Sensitive"), 0);
  EXPECT_EQ(Flag(kKmip14, uid, "Sensitive"), 0);
}

TEST_F(KmsAttributesTest, RegisteredObjectsKeepTheClientsOriginalCreationDate) {
  RegisterRequest r;
  r.object = ManagedObject::SymmetricKey(static_cast<uint32_t>(CryptographicAlgorithm::kAes),
                                         SecretBytes(std::vector<uint8_t>(16, 7)));
  auto reg = C(kKmip14).Register(r);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  // Not generated here: no Original Creation Date until the client gives one.
  EXPECT_FALSE(Has(Names(kKmip14, reg->uid), "Original Creation Date"));
  EXPECT_TRUE(Has(Names(kKmip14, reg->uid), "Fresh"));
  ASSERT_TRUE(Add(kKmip14, reg->uid, Attribute::DateTime("Original Creation Date", 86400)).ok());
  EXPECT_FALSE(Add(kKmip14, reg->uid, Attribute::DateTime("Original Creation Date", 1)).ok());
  EXPECT_THAT(Modify(kKmip14, reg->uid, Attribute::DateTime("Original Creation Date", 1)),
              HasReason(ResultReason::kPermissionDenied));
  GetAttributesRequest g;
  g.uid = reg->uid;
  g.names = {"Original Creation Date"};
  auto got = C(kKmip14).GetAttributes(g);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->attributes.size(), 1u);
  EXPECT_EQ(got->attributes[0].value.int_value(), 86400);
}

TEST_F(KmsAttributesTest, EachVersionSeesItsOwnAttributes) {
  const std::string uid = NewKey(kKmip14);
  const std::vector<std::string> v10 = Names(kKmip10, uid), v12 = Names(kKmip12, uid),
                                 v13 = Names(kKmip13, uid), v14 = Names(kKmip14, uid),
                                 v21 = Names(kKmip21, uid);
  // Fresh is 1.1, Original Creation Date 1.2, Random Number Generator 1.3,
  // Sensitive and company 1.4; Key Format Type and the rest 2.x.
  EXPECT_FALSE(Has(v10, "Fresh"));
  EXPECT_TRUE(Has(v10, "Lease Time"));
  EXPECT_FALSE(Has(v10, "Original Creation Date"));
  EXPECT_TRUE(Has(v12, "Fresh"));
  EXPECT_TRUE(Has(v12, "Original Creation Date"));
  EXPECT_FALSE(Has(v12, "Random Number Generator"));
  EXPECT_TRUE(Has(v13, "Random Number Generator"));
  for (const char* n : {"Sensitive", "Always Sensitive", "Extractable", "Never Extractable"}) {
    EXPECT_FALSE(Has(v13, n)) << n;
    EXPECT_TRUE(Has(v14, n)) << n;
    EXPECT_TRUE(Has(v21, n)) << n;
  }
  for (const char* n : {"Key Format Type", "Short Unique Identifier", "Protection Storage Mask"}) {
    EXPECT_FALSE(Has(v14, n)) << n;
    EXPECT_TRUE(Has(v21, n)) << n;
  }
  // Get Attributes without names filters the same way.
  AttributeList a12 = All(kKmip12, uid);
  EXPECT_EQ(FindAttribute(a12, "Sensitive"), nullptr);
  EXPECT_NE(FindAttribute(a12, "Fresh"), nullptr);

  // The 2.x values.
  AttributeList a21 = All(kKmip21, uid);
  const Attribute* kft = FindAttribute(a21, "Key Format Type");
  ASSERT_NE(kft, nullptr);
  EXPECT_EQ(kft->value.int_value(), static_cast<int64_t>(KeyFormatType::kRaw));
  const Attribute* psm = FindAttribute(a21, "Protection Storage Mask");
  ASSERT_NE(psm, nullptr);
  EXPECT_EQ(psm->value.int_value(), 1);  // Software (2.1 §12.2)
  const Attribute* sid = FindAttribute(a21, "Short Unique Identifier");
  ASSERT_NE(sid, nullptr);
  uint8_t md[EVP_MAX_MD_SIZE];
  size_t md_len = 0;
  ASSERT_EQ(EVP_Q_digest(nullptr, "SHA256", nullptr, uid.data(), uid.size(), md, &md_len), 1);
  EXPECT_EQ(sid->value.bytes(), ttlv::Bytes(md, md + md_len));
}

TEST_F(KmsAttributesTest, GetAttributeListOrder) {
  const std::string uid = NewKey(kKmip14, {Attribute::Name("order-test")});
  ASSERT_TRUE(Add(kKmip14, uid, Attribute::Text("x-zeta", "z")).ok());
  ASSERT_TRUE(Add(kKmip14, uid, Attribute::Text("x-alpha", "a")).ok());
  const std::vector<std::string> want14 = {"Unique Identifier",
                                           "Object Type",
                                           "Cryptographic Algorithm",
                                           "Cryptographic Length",
                                           "Always Sensitive",
                                           "Cryptographic Usage Mask",
                                           "Digest",
                                           "Extractable",
                                           "Fresh",
                                           "Initial Date",
                                           "Last Change Date",
                                           "Lease Time",
                                           "Name",
                                           "Never Extractable",
                                           "Original Creation Date",
                                           "Random Number Generator",
                                           "Sensitive",
                                           "State",
                                           "x-alpha",
                                           "x-zeta"};
  EXPECT_EQ(Names(kKmip14, uid), want14);
  std::vector<std::string> names;
  for (const Attribute& a : All(kKmip14, uid)) names.push_back(a.name);
  EXPECT_EQ(names, want14);

  // 2.1: Short Unique Identifier among the identity; Key Format Type after
  // Digest (the OASIS SKFF-M-9..12-21 order).
  const std::vector<std::string> got21 = Names(kKmip21, uid);
  const std::vector<std::string> head21 = {"Unique Identifier", "Short Unique Identifier",
                                           "Object Type", "Cryptographic Algorithm",
                                           "Cryptographic Length"};
  ASSERT_GE(got21.size(), head21.size());
  EXPECT_EQ(std::vector<std::string>(got21.begin(), got21.begin() + 5), head21);
  auto at = [&](const char* n) { return std::find(got21.begin(), got21.end(), n) - got21.begin(); };
  EXPECT_EQ(at("Key Format Type"), at("Digest") + 1);
  EXPECT_EQ(at("Extractable"), at("Key Format Type") + 1);
  EXPECT_LT(at("Original Creation Date"), at("Protection Storage Mask"));
  EXPECT_LT(at("Protection Storage Mask"), at("Random Number Generator"));
}

}  // namespace
}  // namespace vmcrypt::kms
