#include "vmcrypt/kmip/object.h"

#include <gtest/gtest.h>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
namespace tag = ttlv::tag;

SecretBytes Key(size_t n, uint8_t fill = 0x11) {
  std::vector<uint8_t> v(n, fill);
  return SecretBytes(v);
}

Item WrappingData() {
  return Item::Structure(tag::kKeyWrappingData,
                         {Item::Enumeration(tag::kWrappingMethod, 1),
                          Item::Structure(tag::kEncryptionKeyInformation,
                                          {Item::TextString(tag::kUniqueIdentifier, "kek")})});
}

// Encodes, decodes and encodes again; both encodings must agree.
Item RoundTrip(const ManagedObject& o, ProtocolVersion v) {
  Result<Item> item = EncodeObject(o, v);
  EXPECT_TRUE(item.ok()) << item.status().ToString();
  if (!item.ok()) return Item();
  Result<ManagedObject> back = DecodeObject(*item);
  EXPECT_TRUE(back.ok()) << back.status().ToString();
  if (!back.ok()) return Item();
  EXPECT_EQ(back->type, o.type);
  Result<Item> again = EncodeObject(*back, v);
  EXPECT_TRUE(again.ok());
  if (again.ok()) {
    EXPECT_EQ(*again, *item);
  }
  return *item;
}

TEST(ObjectTest, SymmetricKeyHasTheSpecLayout) {
  const ManagedObject o =
      ManagedObject::SymmetricKey(static_cast<uint32_t>(CryptographicAlgorithm::kAes), Key(32));
  const uint8_t raw[32] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                           0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                           0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
  const Item expected = Item::Structure(
      tag::kSymmetricKey,
      {Item::Structure(tag::kKeyBlock,
                       {Item::Enumeration(tag::kKeyFormatType, 1),
                        Item::Structure(tag::kKeyValue, {Item::ByteString(tag::kKeyMaterial, raw)}),
                        Item::Enumeration(tag::kCryptographicAlgorithm, 3),
                        Item::Integer(tag::kCryptographicLength, 256)})});
  for (ProtocolVersion v : {kKmip10, kKmip14, kKmip21}) EXPECT_EQ(RoundTrip(o, v), expected);
  ManagedObject copy = o.Clone();
  EXPECT_TRUE(copy.key_block->key_material.Equals(o.key_block->key_material));
}

TEST(ObjectTest, ObjectsWithTypeFieldsAndValues) {
  ManagedObject secret;
  secret.type = ObjectType::kSecretData;
  secret.fields = {Item::Enumeration(tag::kSecretDataType, 2)};
  secret.key_block = KeyBlock{};
  secret.key_block->key_format_type = static_cast<uint32_t>(KeyFormatType::kOpaque);
  secret.key_block->key_material = Key(8);
  RoundTrip(secret, kKmip14);

  ManagedObject opaque;
  opaque.type = ObjectType::kOpaqueObject;
  opaque.fields = {Item::Enumeration(tag::kOpaqueDataType, 0x80000001)};
  opaque.value = Key(5, 0xAB);
  Item item = RoundTrip(opaque, kKmip21);
  EXPECT_EQ(item.Find(tag::kOpaqueDataValue)->bytes().size(), 5u);

  ManagedObject cert;
  cert.type = ObjectType::kCertificate;
  cert.fields = {Item::Enumeration(tag::kCertificateType, 1)};
  cert.value = Key(20, 0x30);
  RoundTrip(cert, kKmip14);

  ManagedObject csr;
  csr.type = ObjectType::kCertificateRequest;
  csr.fields = {Item::Enumeration(tag::kCertificateRequestType, 2)};
  csr.value = Key(20, 0x30);
  RoundTrip(csr, kKmip20);
  EXPECT_FALSE(EncodeObject(csr, kKmip14).ok());  // not an object before 2.0

  ManagedObject pgp;
  pgp.type = ObjectType::kPgpKey;
  pgp.fields = {Item::Integer(tag::kPgpKeyVersion, 4)};
  pgp.key_block = KeyBlock{};
  pgp.key_block->key_material = Key(16);
  RoundTrip(pgp, kKmip14);
  EXPECT_FALSE(EncodeObject(pgp, kKmip11).ok());  // PGP Key is 1.2
}

TEST(ObjectTest, SplitKeyFieldsInWireOrder) {
  ManagedObject split;
  split.type = ObjectType::kSplitKey;
  split.fields = {Item::Integer(tag::kSplitKeyParts, 3), Item::Integer(tag::kKeyPartIdentifier, 1),
                  Item::Integer(tag::kSplitKeyThreshold, 2),
                  Item::Enumeration(tag::kSplitKeyMethod, 1)};
  split.key_block = KeyBlock{};
  split.key_block->key_material = Key(16);
  RoundTrip(split, kKmip14);
  const uint8_t prime[8] = {0, 0, 0, 0, 0, 0, 0, 0x65};
  split.fields.push_back(Item::BigInteger(tag::kPrimeFieldSize, prime));
  RoundTrip(split, kKmip21);
  // Out of order, missing or extra fields are errors.
  std::swap(split.fields[0], split.fields[1]);
  EXPECT_FALSE(EncodeObject(split, kKmip14).ok());
  split.fields.erase(split.fields.begin());
  EXPECT_FALSE(EncodeObject(split, kKmip14).ok());
  ManagedObject sym = ManagedObject::SymmetricKey(3, Key(16));
  sym.fields.push_back(Item::Integer(tag::kPgpKeyVersion, 4));
  EXPECT_FALSE(EncodeObject(sym, kKmip14).ok());
}

TEST(ObjectTest, WrappedKeyValueIsAByteString) {
  ManagedObject o;
  o.type = ObjectType::kSymmetricKey;
  o.key_block = KeyBlock{};
  o.key_block->wrapped_key_value = Key(40, 0x5A);
  o.key_block->cryptographic_algorithm = 3;
  o.key_block->cryptographic_length = 256;
  o.key_block->key_wrapping_data = WrappingData();
  Item item = RoundTrip(o, kKmip14);
  const Item* kv = item.Find(tag::kKeyBlock)->Find(tag::kKeyValue);
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->type(), ttlv::ItemType::kByteString);

  // Without Key Wrapping Data a byte-string Key Value is an error both ways.
  o.key_block->key_wrapping_data.reset();
  EXPECT_FALSE(EncodeObject(o, kKmip14).ok());
  Item bad = item;
  auto& block = bad.mutable_children()[0].mutable_children();
  block.pop_back();  // Key Wrapping Data
  EXPECT_FALSE(DecodeObject(bad).ok());
}

TEST(ObjectTest, TransparentKeyMaterialAndKeyValueAttributes) {
  ManagedObject o;
  o.type = ObjectType::kSymmetricKey;
  o.key_block = KeyBlock{};
  o.key_block->key_format_type = static_cast<uint32_t>(KeyFormatType::kTransparentSymmetricKey);
  o.key_block->key_material_structure =
      Item::Structure(tag::kKeyMaterial, {Item::ByteString(0x42003F, Key(16).span())});
  o.key_block->key_value_attributes = {Attribute::Text("x-Origin", "test")};
  // 1.x: Attribute* inside the Key Value; 2.x: an Attributes structure.
  Item v1 = RoundTrip(o, kKmip14);
  EXPECT_NE(v1.Find(tag::kKeyBlock)->Find(tag::kKeyValue)->Find(tag::kAttribute), nullptr);
  Item v2 = RoundTrip(o, kKmip21);
  EXPECT_NE(v2.Find(tag::kKeyBlock)->Find(tag::kKeyValue)->Find(tag::kAttributes), nullptr);
  // Bytes and a structure at once.
  o.key_block->key_material = Key(4);
  EXPECT_FALSE(EncodeObject(o, kKmip14).ok());
}

TEST(ObjectTest, KeyValueMayBeAbsent) {
  ManagedObject o;
  o.type = ObjectType::kPrivateKey;
  o.key_block = KeyBlock{};
  o.key_block->key_format_type = static_cast<uint32_t>(KeyFormatType::kPkcs8);
  Item item = RoundTrip(o, kKmip21);
  EXPECT_EQ(item.Find(tag::kKeyBlock)->Find(tag::kKeyValue), nullptr);
}

TEST(ObjectTest, DecodeErrors) {
  Result<Item> good = EncodeObject(ManagedObject::SymmetricKey(3, Key(16)), kKmip14);
  ASSERT_TRUE(good.ok());
  // An unknown field in the Key Block, the Key Value and the object.
  Item extra = *good;
  extra.mutable_children()[0].Add(Item::Integer(tag::kMaximumItems, 1));
  EXPECT_FALSE(DecodeObject(extra).ok());
  Item extra_kv = *good;
  extra_kv.mutable_children()[0].mutable_children()[1].Add(Item::Integer(tag::kMaximumItems, 1));
  EXPECT_FALSE(DecodeObject(extra_kv).ok());
  Item extra_obj = *good;
  extra_obj.Add(Item::Integer(tag::kMaximumItems, 1));
  EXPECT_FALSE(DecodeObject(extra_obj).ok());
  // Missing Key Format Type; missing Key Block; not an object; a Template.
  Item no_format = *good;
  auto& kb = no_format.mutable_children()[0].mutable_children();
  kb.erase(kb.begin());
  EXPECT_FALSE(DecodeObject(no_format).ok());
  EXPECT_FALSE(DecodeObject(Item::Structure(tag::kSymmetricKey)).ok());
  EXPECT_FALSE(DecodeObject(Item::Structure(tag::kKeyBlock)).ok());
  Result<ManagedObject> templ = DecodeObject(Item::Structure(tag::kTemplate));
  ASSERT_FALSE(templ.ok());
  EXPECT_EQ(templ.status().code(), StatusCode::kUnimplemented);
  // Key Material of the wrong type.
  Item bad_km = *good;
  bad_km.mutable_children()[0].mutable_children()[1].mutable_children()[0] =
      Item::Integer(tag::kKeyMaterial, 1);
  EXPECT_FALSE(DecodeObject(bad_km).ok());
}

TEST(ObjectTest, TagsAndTypes) {
  for (uint32_t t = 1; t <= 10; ++t) {
    const ObjectType type = static_cast<ObjectType>(t);
    EXPECT_EQ(ObjectTypeForTag(ObjectTag(type)), type);
  }
  EXPECT_EQ(ObjectTag(ObjectType::kSymmetricKey), tag::kSymmetricKey);
  EXPECT_EQ(ObjectTag(ObjectType::kPgpKey), tag::kPgpKey);
  EXPECT_FALSE(ObjectTypeForTag(tag::kKeyBlock).has_value());
}

}  // namespace
}  // namespace vmcrypt::kmip
