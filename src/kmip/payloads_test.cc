#include "vmcrypt/kmip/payloads.h"

#include <gtest/gtest.h>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
namespace tag = ttlv::tag;

// Encodes `t` in `v`, decodes the result, encodes again and expects the same
// item; returns the first encoding.
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
  if (again.ok()) {
    EXPECT_EQ(*again, *item);
  }
  return *item;
}

// An unknown field appended to a valid payload must make decoding fail.
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

AttributeList AesAttributes() {
  return {Attribute::Enum("Cryptographic Algorithm", 3),
          Attribute::Integer("Cryptographic Length", 256),
          Attribute::Integer("Cryptographic Usage Mask", usage::kEncrypt | usage::kDecrypt)};
}

Item Masks() {
  return Item::Structure(tag::kProtectionStorageMasks,
                         {Item::Integer(tag::kProtectionStorageMask, 1)});
}

TEST(PayloadsTest, DiscoverVersions) {
  DiscoverVersionsRequest req{SupportedVersions()};
  Item item = RoundTrip(req, kKmip14);
  EXPECT_EQ(item.children().size(), SupportedVersions().size());
  EXPECT_EQ(item.tag(), tag::kRequestPayload);
  DiscoverVersionsResponse resp{{kKmip21, kKmip14}};
  EXPECT_EQ(RoundTrip(resp, kKmip21).tag(), tag::kResponsePayload);
  RoundTrip(DiscoverVersionsRequest{}, kKmip11);
  EXPECT_FALSE(req.Encode(kKmip10).ok());  // 1.1 operation
  ExpectUnknownFieldRejected(resp, kKmip14);
}

TEST(PayloadsTest, Query) {
  QueryRequest req;
  req.functions = {1, 3};
  RoundTrip(req, kKmip14);
  req.object_groups = Item::Structure(tag::kObjectGroups);
  RoundTrip(req, kKmip21);
  EXPECT_FALSE(req.Encode(kKmip14).ok());

  QueryResponse resp;
  resp.operations = {static_cast<uint32_t>(Operation::kCreate),
                     static_cast<uint32_t>(Operation::kGet)};
  resp.object_types = {static_cast<uint32_t>(ObjectType::kSymmetricKey)};
  resp.vendor_identification = "vmcrypt";
  resp.server_information = Item::Structure(tag::kServerInformation);
  resp.attestation_types = {1};
  Item item = RoundTrip(resp, kKmip14);
  EXPECT_EQ(Tags(item), (std::vector<uint32_t>{tag::kOperation, tag::kOperation, tag::kObjectType,
                                               tag::kVendorIdentification, tag::kServerInformation,
                                               tag::kAttestationType}));
  EXPECT_FALSE(resp.Encode(kKmip11).ok());  // Attestation Type is 1.2
  resp.protection_storage_masks = {1, 2};
  resp.defaults_information = Item::Structure(tag::kDefaultsInformation);
  RoundTrip(resp, kKmip20);
  EXPECT_FALSE(resp.Encode(kKmip14).ok());
  ExpectUnknownFieldRejected(resp, kKmip21);
}

TEST(PayloadsTest, CreateUsesTheVersionsAttributeForm) {
  CreateRequest req;
  req.object_type = ObjectType::kSymmetricKey;
  req.attributes = AesAttributes();
  Item v1 = RoundTrip(req, kKmip14);
  EXPECT_EQ(Tags(v1), (std::vector<uint32_t>{tag::kObjectType, tag::kTemplateAttribute}));
  Item v2 = RoundTrip(req, kKmip21);
  EXPECT_EQ(Tags(v2), (std::vector<uint32_t>{tag::kObjectType, tag::kAttributes}));
  // A 2.x payload read as 1.x (and vice versa) fails.
  EXPECT_FALSE(CreateRequest::Decode(v2, kKmip14).ok());
  EXPECT_FALSE(CreateRequest::Decode(v1, kKmip21).ok());
  req.protection_storage_masks = Masks();
  RoundTrip(req, kKmip20);
  EXPECT_FALSE(req.Encode(kKmip14).ok());
  ExpectUnknownFieldRejected(req, kKmip21);
  // Attributes are required.
  EXPECT_FALSE(
      CreateRequest::Decode(
          Item::Structure(tag::kRequestPayload, {Item::Enumeration(tag::kObjectType, 2)}), kKmip21)
          .ok());

  CreateResponse resp;
  resp.uid = "k1";
  RoundTrip(resp, kKmip21);
  resp.attributes = AttributeList{Attribute::Text("x-Set", "by server")};
  RoundTrip(resp, kKmip13);
  EXPECT_FALSE(resp.Encode(kKmip20).ok());  // no Template-Attribute in 2.x
}

TEST(PayloadsTest, CreateKeyPair) {
  CreateKeyPairRequest req;
  req.common_attributes = AttributeList{Attribute::Enum("Cryptographic Algorithm", 4)};
  req.private_key_attributes = AttributeList{Attribute::Name("priv")};
  req.public_key_attributes = AttributeList{Attribute::Name("pub")};
  EXPECT_EQ(Tags(RoundTrip(req, kKmip14)),
            (std::vector<uint32_t>{tag::kCommonTemplateAttribute, tag::kPrivateKeyTemplateAttribute,
                                   tag::kPublicKeyTemplateAttribute}));
  req.private_protection_storage_masks = Masks();
  EXPECT_EQ(
      Tags(RoundTrip(req, kKmip21)),
      (std::vector<uint32_t>{tag::kCommonAttributes, tag::kPrivateKeyAttributes,
                             tag::kPublicKeyAttributes, tag::kPrivateProtectionStorageMasks}));
  EXPECT_FALSE(req.Encode(kKmip14).ok());

  CreateKeyPairResponse resp{"priv-1", "pub-1", std::nullopt, std::nullopt};
  RoundTrip(resp, kKmip21);
  resp.public_key_attributes = AttributeList{};
  RoundTrip(resp, kKmip14);
  EXPECT_FALSE(resp.Encode(kKmip21).ok());
  ExpectUnknownFieldRejected(resp, kKmip14);
}

TEST(PayloadsTest, RegisterAndGet) {
  RegisterRequest reg;
  reg.object_type = ObjectType::kSymmetricKey;
  reg.attributes = AesAttributes();
  std::vector<uint8_t> key(16, 7);
  reg.object = ManagedObject::SymmetricKey(3, SecretBytes(key));
  EXPECT_EQ(Tags(RoundTrip(reg, kKmip14)),
            (std::vector<uint32_t>{tag::kObjectType, tag::kTemplateAttribute, tag::kSymmetricKey}));
  RoundTrip(reg, kKmip21);
  reg.object_type = ObjectType::kSecretData;  // disagrees with the object
  EXPECT_FALSE(reg.Encode(kKmip21).ok());
  RegisterResponse reg_resp{"k1", std::nullopt};
  RoundTrip(reg_resp, kKmip21);

  GetRequest get;
  get.uid = "k1";
  get.key_format_type = static_cast<uint32_t>(KeyFormatType::kRaw);
  RoundTrip(get, kKmip10);
  get.key_wrap_type = 1;
  RoundTrip(get, kKmip14);
  EXPECT_FALSE(get.Encode(kKmip13).ok());  // Key Wrap Type is 1.4
  RoundTrip(GetRequest{}, kKmip21);        // all fields optional

  GetResponse resp;
  resp.uid = "k1";
  resp.object = ManagedObject::SymmetricKey(3, SecretBytes(key));
  Item item = RoundTrip(resp, kKmip21);
  EXPECT_EQ(Tags(item),
            (std::vector<uint32_t>{tag::kObjectType, tag::kUniqueIdentifier, tag::kSymmetricKey}));
  // The object must be of the payload's Object Type.
  item.mutable_children()[0] = Item::Enumeration(tag::kObjectType, 7);
  EXPECT_FALSE(GetResponse::Decode(item, kKmip21).ok());
  ExpectUnknownFieldRejected(get, kKmip14);
}

TEST(PayloadsTest, GetAttributesAndList) {
  GetAttributesRequest req{"k1", {"State", "x-ID"}};
  EXPECT_EQ(
      Tags(RoundTrip(req, kKmip14)),
      (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttributeName, tag::kAttributeName}));
  EXPECT_EQ(Tags(RoundTrip(req, kKmip21)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttributeReference,
                                   tag::kAttributeReference}));
  RoundTrip(GetAttributesRequest{}, kKmip21);

  GetAttributesResponse resp{"k1", {Attribute::Enum("State", 2), Attribute::Text("x-ID", "7")}};
  EXPECT_EQ(Tags(RoundTrip(resp, kKmip14)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttribute, tag::kAttribute}));
  EXPECT_EQ(Tags(RoundTrip(resp, kKmip21)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttributes}));
  ExpectUnknownFieldRejected(resp, kKmip21);

  GetAttributeListResponse list{"k1", {"State", "Name", "x-ID"}};
  RoundTrip(list, kKmip14);
  Item v2 = RoundTrip(list, kKmip21);
  EXPECT_EQ(v2.children()[1].tag(), tag::kAttributeReference);
  RoundTrip(GetAttributeListRequest{"k1"}, kKmip14);
  ExpectUnknownFieldRejected(GetAttributeListRequest{"k1"}, kKmip14);
}

TEST(PayloadsTest, AddModifyDeleteSetAttribute) {
  AddAttributeRequest add{"k1", Attribute::Text("x-Owner", "alice")};
  EXPECT_EQ(Tags(RoundTrip(add, kKmip14)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttribute}));
  EXPECT_EQ(Tags(RoundTrip(add, kKmip21)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kNewAttribute}));
  add.attribute.index = 1;
  EXPECT_FALSE(add.Encode(kKmip21).ok());  // no Attribute Index in 2.x

  AttributeChangeResponse changed{"k1", Attribute::Text("x-Owner", "alice")};
  RoundTrip(changed, kKmip14);
  EXPECT_FALSE(changed.Encode(kKmip21).ok());
  RoundTrip(AttributeChangeResponse{"k1", std::nullopt}, kKmip21);

  ModifyAttributeRequest mod{"k1", Attribute::Text("x-Owner", "alice"),
                             Attribute::Text("x-Owner", "bob")};
  EXPECT_EQ(
      Tags(RoundTrip(mod, kKmip21)),
      (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kCurrentAttribute, tag::kNewAttribute}));
  EXPECT_FALSE(mod.Encode(kKmip14).ok());  // Current Attribute is 2.x
  mod.current_attribute.reset();
  RoundTrip(mod, kKmip14);

  DeleteAttributeRequest del;
  del.uid = "k1";
  del.name = "x-Owner";
  del.index = 0;
  EXPECT_EQ(
      Tags(RoundTrip(del, kKmip14)),
      (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttributeName, tag::kAttributeIndex}));
  EXPECT_FALSE(del.Encode(kKmip21).ok());  // no Attribute Index in 2.x
  del.index.reset();
  EXPECT_EQ(Tags(RoundTrip(del, kKmip21)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kAttributeReference}));
  del.current_attribute = Attribute::Text("x-Owner", "bob");
  Item with_current = RoundTrip(del, kKmip21);
  EXPECT_EQ(Tags(with_current),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kCurrentAttribute}));
  EXPECT_FALSE(del.Encode(kKmip14).ok());
  // Both a Current Attribute and an Attribute Reference, or neither.
  with_current.Add(Item::Enumeration(tag::kAttributeReference, tag::kState));
  EXPECT_FALSE(DeleteAttributeRequest::Decode(with_current, kKmip21).ok());
  EXPECT_FALSE(DeleteAttributeRequest::Decode(Item::Structure(tag::kRequestPayload), kKmip21).ok());

  SetAttributeRequest set{"k1", Attribute::Text("Object Group", "g")};
  RoundTrip(set, kKmip20);
  EXPECT_FALSE(set.Encode(kKmip14).ok());  // a 2.0 operation
  Result<Item> item = set.Encode(kKmip21);
  ASSERT_TRUE(item.ok());
  EXPECT_FALSE(SetAttributeRequest::Decode(*item, kKmip14).ok());
  ExpectUnknownFieldRejected(set, kKmip21);
}

TEST(PayloadsTest, Locate) {
  LocateRequest req;
  req.maximum_items = 10;
  req.storage_status_mask = 1;
  req.attributes = {Attribute::Enum("Object Type", 2), Attribute::Name("disk-1")};
  EXPECT_EQ(Tags(RoundTrip(req, kKmip12)),
            (std::vector<uint32_t>{tag::kMaximumItems, tag::kStorageStatusMask, tag::kAttribute,
                                   tag::kAttribute}));
  req.offset_items = 5;
  req.object_group_member = 1;
  EXPECT_EQ(Tags(RoundTrip(req, kKmip21)),
            (std::vector<uint32_t>{tag::kMaximumItems, tag::kOffsetItems, tag::kStorageStatusMask,
                                   tag::kObjectGroupMember, tag::kAttributes}));
  EXPECT_FALSE(req.Encode(kKmip12).ok());  // Offset Items is 1.3
  req.offset_items.reset();
  EXPECT_FALSE(req.Encode(kKmip10).ok());  // Object Group Member is 1.1
  ExpectUnknownFieldRejected(req, kKmip14);

  LocateResponse resp{7, {"a", "b"}};
  RoundTrip(resp, kKmip13);
  EXPECT_FALSE(resp.Encode(kKmip12).ok());  // Located Items is 1.3
  resp.located_items.reset();
  RoundTrip(resp, kKmip12);
  RoundTrip(LocateResponse{}, kKmip21);
}

TEST(PayloadsTest, UidRevokeCheck) {
  RoundTrip(UidRequest{"k1"}, kKmip14);
  RoundTrip(UidRequest{}, kKmip21);
  RoundTrip(UidResponse{"k1"}, kKmip21);
  EXPECT_FALSE(UidResponse::Decode(Item::Structure(tag::kResponsePayload), kKmip14).ok());
  ExpectUnknownFieldRejected(UidRequest{"k1"}, kKmip14);

  RevokeRequest revoke;
  revoke.uid = "k1";
  revoke.reason_code = static_cast<uint32_t>(RevocationReasonCode::kKeyCompromise);
  revoke.reason_message = "leaked";
  revoke.compromise_occurrence_date = 1600000000;
  Item item = RoundTrip(revoke, kKmip14);
  EXPECT_EQ(Tags(item), (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kRevocationReason,
                                               tag::kCompromiseOccurrenceDate}));
  EXPECT_EQ(Tags(item.children()[1]),
            (std::vector<uint32_t>{tag::kRevocationReasonCode, tag::kRevocationMessage}));
  item.mutable_children()[1].Add(Item::Integer(tag::kMaximumItems, 1));
  EXPECT_FALSE(RevokeRequest::Decode(item, kKmip14).ok());

  CheckPayload check{"k1", 100, usage::kEncrypt, 3600};
  Item c = RoundTrip(check, kKmip21);
  EXPECT_EQ(c.children()[1].type(), ttlv::ItemType::kLongInteger);
  EXPECT_EQ(c.children()[3].type(), ttlv::ItemType::kInterval);
  ExpectUnknownFieldRejected(check, kKmip14);
}

TEST(PayloadsTest, ReKey) {
  ReKeyRequest req;
  req.uid = "k1";
  req.offset = 86400;
  req.attributes = AttributeList{Attribute::Name("k1-next")};
  EXPECT_EQ(Tags(RoundTrip(req, kKmip14)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kOffset, tag::kTemplateAttribute}));
  req.protection_storage_masks = Masks();
  EXPECT_EQ(Tags(RoundTrip(req, kKmip21)),
            (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kOffset, tag::kAttributes,
                                   tag::kProtectionStorageMasks}));
  EXPECT_FALSE(req.Encode(kKmip14).ok());

  ReKeyResponse resp{"k2", AttributeList{Attribute::Enum("State", 1)}};
  RoundTrip(resp, kKmip14);
  EXPECT_FALSE(resp.Encode(kKmip21).ok());
  resp.attributes.reset();
  RoundTrip(resp, kKmip21);
}

TEST(PayloadsTest, EncryptDecryptMac) {
  CryptoRequest enc;
  enc.operation = Operation::kEncrypt;
  enc.uid = "k1";
  enc.cryptographic_parameters =
      Item::Structure(tag::kCryptographicParameters, {Item::Enumeration(tag::kBlockCipherMode, 9)});
  enc.data = ttlv::Bytes{1, 2, 3};
  enc.iv_counter_nonce = ttlv::Bytes(12, 0);
  enc.authenticated_encryption_additional_data = ttlv::Bytes{9};
  RoundTrip(enc, kKmip14);
  EXPECT_FALSE(enc.Encode(kKmip13).ok());  // AEAD fields are 1.4
  enc.authenticated_encryption_tag = ttlv::Bytes(16, 0);
  EXPECT_FALSE(enc.Encode(kKmip14).ok());  // the tag is a Decrypt field

  CryptoRequest dec = enc;
  dec.operation = Operation::kDecrypt;
  Result<Item> dec_item = dec.Encode(kKmip21);
  ASSERT_TRUE(dec_item.ok()) << dec_item.status().ToString();
  Result<CryptoRequest> inferred = CryptoRequest::Decode(*dec_item, kKmip21);
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ(inferred->operation, Operation::kDecrypt);
  EXPECT_FALSE(CryptoRequest::Decode(*dec_item, kKmip21, Operation::kEncrypt).ok());

  CryptoRequest mac;
  mac.operation = Operation::kMac;
  mac.uid = "k2";
  mac.data = ttlv::Bytes{1};
  Result<Item> mac_item = mac.Encode(kKmip12);
  ASSERT_TRUE(mac_item.ok());
  Result<CryptoRequest> mac_back = CryptoRequest::Decode(*mac_item, kKmip12, Operation::kMac);
  ASSERT_TRUE(mac_back.ok());
  EXPECT_EQ(mac_back->operation, Operation::kMac);
  mac.iv_counter_nonce = ttlv::Bytes{1};
  EXPECT_FALSE(mac.Encode(kKmip14).ok());  // no IV for MAC
  mac.iv_counter_nonce.reset();
  EXPECT_FALSE(mac.Encode(kKmip11).ok());  // a 1.2 operation
  mac.correlation_value = ttlv::Bytes{5};
  EXPECT_FALSE(mac.Encode(kKmip12).ok());  // Correlation Value is 1.3

  // Single-part calls always carry Data, even when empty; multi-part calls
  // leave an empty one out.
  CryptoRequest empty;
  empty.uid = "k1";
  Item e = RoundTrip(empty, kKmip14);
  EXPECT_EQ(Tags(e), (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kData}));
  empty.correlation_value = ttlv::Bytes{1};
  empty.final_indicator = true;
  e = RoundTrip(empty, kKmip14);
  EXPECT_EQ(Tags(e), (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kCorrelationValue,
                                            tag::kFinalIndicator}));
  ExpectUnknownFieldRejected(dec, kKmip21);

  CryptoResponse mac_resp;
  mac_resp.operation = Operation::kMac;
  mac_resp.uid = "k2";
  mac_resp.data = ttlv::Bytes(32, 0xEE);
  Item r = RoundTrip(mac_resp, kKmip14);
  EXPECT_EQ(Tags(r), (std::vector<uint32_t>{tag::kUniqueIdentifier, tag::kMacData}));
  Result<CryptoResponse> inferred_resp = CryptoResponse::Decode(r, kKmip14);
  ASSERT_TRUE(inferred_resp.ok());
  EXPECT_EQ(inferred_resp->operation, Operation::kMac);
  EXPECT_FALSE(CryptoResponse::Decode(r, kKmip14, Operation::kEncrypt).ok());

  CryptoResponse enc_resp;
  enc_resp.uid = "k1";
  enc_resp.data = ttlv::Bytes{1, 2};
  enc_resp.iv_counter_nonce = ttlv::Bytes{3};
  enc_resp.authenticated_encryption_tag = ttlv::Bytes(16, 1);
  RoundTrip(enc_resp, kKmip14);
  enc_resp.operation = Operation::kDecrypt;
  EXPECT_FALSE(enc_resp.Encode(kKmip14).ok());  // no IV or tag in a Decrypt response
  CryptoRequest get;
  get.operation = Operation::kGet;
  EXPECT_FALSE(get.Encode(kKmip14).ok());
}

TEST(PayloadsTest, RngRetrieve) {
  RngRetrieveRequest req{32};
  RoundTrip(req, kKmip14);
  EXPECT_FALSE(req.Encode(kKmip11).ok());
  RngRetrieveResponse resp{ttlv::Bytes(32, 4)};
  RoundTrip(resp, kKmip21);
  EXPECT_FALSE(RngRetrieveResponse::Decode(Item::Structure(tag::kResponsePayload), kKmip21).ok());
  ExpectUnknownFieldRejected(req, kKmip14);
}

}  // namespace
}  // namespace vmcrypt::kmip
