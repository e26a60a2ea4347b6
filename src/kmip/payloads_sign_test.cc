// Payloads of Sign, Signature Verify (KMIP 1.4 §4.31-4.32) and Derive Key
// (§4.6): round trips in each version, the fields' order on the wire, the
// version rules and the refusals of malformed payloads.
#include <gtest/gtest.h>

#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
namespace tag = ttlv::tag;

constexpr uint32_t kTagSignatureData = 0x4200C3;
constexpr uint32_t kTagDigestedData = 0x420107;
constexpr uint32_t kTagValidityIndicator = 0x42009B;
constexpr uint32_t kTagDerivationMethod = 0x420031;
constexpr uint32_t kTagDerivationParameters = 0x420032;
constexpr uint32_t kTagDerivationData = 0x420030;

template <typename T>
Item RoundTrip(const T& t, ProtocolVersion v) {
  Result<Item> item = t.Encode(v);
  EXPECT_TRUE(item.ok()) << item.status().ToString();
  if (!item.ok()) return Item();
  Result<T> back = T::Decode(*item, v);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  if (!back.ok()) return *item;
  Result<Item> again = back->Encode(v);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  if (again.ok()) EXPECT_EQ(*again, *item);
  return *item;
}

template <typename T>
void ExpectUnknownFieldRejected(const T& t, ProtocolVersion v) {
  Result<Item> item = t.Encode(v);
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  item->Add(Item::TextString(tag::kNameValue, "surprise"));
  EXPECT_FALSE(T::Decode(*item, v).ok());
}

std::vector<uint32_t> Tags(const Item& s) {
  std::vector<uint32_t> out;
  for (const Item& c : s.children()) out.push_back(c.tag());
  return out;
}

ttlv::Bytes B(std::string_view s) { return ttlv::Bytes(s.begin(), s.end()); }

Item Params() {
  return Item::Structure(tag::kCryptographicParameters,
                         {Item::Enumeration(tag::kCryptographicAlgorithm, 4)});
}

TEST(PayloadsSignTest, SignRoundTripsInEachVersionFromKmip12) {
  SignRequest r;
  r.uid = "k1";
  r.cryptographic_parameters = Params();
  r.data = B("data");
  SignResponse resp;
  resp.uid = "k1";
  resp.signature_data = B("sig");
  for (ProtocolVersion v : {kKmip12, kKmip13, kKmip14, kKmip20, kKmip21}) {
    Item req = RoundTrip(r, v);
    EXPECT_EQ(Tags(req), (std::vector<uint32_t>{tag::kUniqueIdentifier,
                                                tag::kCryptographicParameters, tag::kData}));
    Item out = RoundTrip(resp, v);
    EXPECT_EQ(Tags(out), (std::vector<uint32_t>{tag::kUniqueIdentifier, kTagSignatureData}));
    ExpectUnknownFieldRejected(r, v);
    ExpectUnknownFieldRejected(resp, v);
  }
  // Sign arrived in 1.2; Digested Data in 1.4; the multi-part fields in 1.3.
  EXPECT_FALSE(r.Encode(kKmip11).ok());
  Result<Item> at14 = r.Encode(kKmip14);
  ASSERT_TRUE(at14.ok());
  EXPECT_FALSE(SignRequest::Decode(*at14, kKmip11).ok());
  SignRequest digested = r;
  digested.data.reset();
  digested.digested_data = B("0123456789abcdef0123456789abcdef");
  RoundTrip(digested, kKmip14);
  EXPECT_FALSE(digested.Encode(kKmip13).ok());
  SignRequest parts = r;
  parts.init_indicator = true;
  parts.correlation_value = B("c");
  RoundTrip(parts, kKmip13);
  EXPECT_FALSE(parts.Encode(kKmip12).ok());
}

TEST(PayloadsSignTest, SignatureVerifyRoundTripsAndOrder) {
  SignatureVerifyRequest r;
  r.uid = "k2";
  r.data = B("data");
  r.signature_data = B("sig");
  SignatureVerifyResponse resp;
  resp.uid = "k2";
  resp.validity_indicator = static_cast<uint32_t>(ValidityIndicator::kInvalid);
  for (ProtocolVersion v : {kKmip12, kKmip14, kKmip21}) {
    Item req = RoundTrip(r, v);
    EXPECT_EQ(Tags(req),
              (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kData, kTagSignatureData}));
    Item out = RoundTrip(resp, v);
    EXPECT_EQ(Tags(out), (std::vector<uint32_t>{tag::kUniqueIdentifier, kTagValidityIndicator}));
    ExpectUnknownFieldRejected(r, v);
    ExpectUnknownFieldRejected(resp, v);
  }
  // A Signature Data of the wrong type, and a response without its uid.
  Result<Item> bad = r.Encode(kKmip14);
  ASSERT_TRUE(bad.ok());
  bad->mutable_children()[2] = Item::TextString(kTagSignatureData, "sig");
  EXPECT_FALSE(SignatureVerifyRequest::Decode(*bad, kKmip14).ok());
  Item no_uid =
      Item::Structure(tag::kResponsePayload, {Item::Enumeration(kTagValidityIndicator, 1)});
  EXPECT_FALSE(SignatureVerifyResponse::Decode(no_uid, kKmip14).ok());
  // Digested Data is read in place of Data.
  SignatureVerifyRequest d = r;
  d.data.reset();
  d.digested_data = B("digest");
  Item dd = RoundTrip(d, kKmip14);
  EXPECT_EQ(Tags(dd),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, kTagDigestedData, kTagSignatureData}));
}

TEST(PayloadsSignTest, DeriveKeyUsesTheVersionsAttributeForm) {
  DeriveKeyRequest r;
  r.object_type = ObjectType::kSymmetricKey;
  r.uids = {"base-1", "base-2"};
  r.derivation_method = 3;  // HMAC
  r.derivation_parameters =
      Item::Structure(kTagDerivationParameters, {Item::ByteString(kTagDerivationData, B("label"))});
  r.attributes = {Attribute::Enum("Cryptographic Algorithm", 3),
                  Attribute::Integer("Cryptographic Length", 256)};
  Item v1 = RoundTrip(r, kKmip14);
  EXPECT_EQ(Tags(v1), (std::vector<uint32_t>{tag::kObjectType, tag::kUniqueIdentifier,
                                             tag::kUniqueIdentifier, kTagDerivationMethod,
                                             kTagDerivationParameters, tag::kTemplateAttribute}));
  Item v2 = RoundTrip(r, kKmip21);
  EXPECT_EQ(Tags(v2).back(), tag::kAttributes);
  Result<DeriveKeyRequest> back = DeriveKeyRequest::Decode(v2, kKmip21);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->uids, r.uids);
  ASSERT_EQ(back->attributes.size(), 2u);
  EXPECT_EQ(back->attributes[1].name, "Cryptographic Length");
  EXPECT_EQ(back->attributes[1].value.int_value(), 256);
  ExpectUnknownFieldRejected(r, kKmip14);
  // Required fields: a uid, the method, the parameters, the attributes.
  DeriveKeyRequest none = r;
  none.uids.clear();
  EXPECT_FALSE(none.Encode(kKmip14).ok());
  for (uint32_t drop : {tag::kUniqueIdentifier, kTagDerivationMethod, kTagDerivationParameters,
                        tag::kTemplateAttribute}) {
    Item s = Item::Structure(tag::kRequestPayload);
    for (const Item& c : v1.children()) {
      if (c.tag() != drop) s.Add(c);
    }
    EXPECT_FALSE(DeriveKeyRequest::Decode(s, kKmip14).ok()) << std::hex << drop;
  }
  // The response is Register's: a uid, and in 1.x optional attributes.
  DeriveKeyResponse resp;
  resp.uid = "derived";
  EXPECT_EQ(Tags(RoundTrip(resp, kKmip14)), (std::vector<uint32_t>{tag::kUniqueIdentifier}));
}

}  // namespace
}  // namespace vmcrypt::kmip
