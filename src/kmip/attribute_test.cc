#include "vmcrypt/kmip/attribute.h"

#include <gtest/gtest.h>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
namespace tag = ttlv::tag;

// A custom Structure value: { Name Value "a", Attribute Index 1 } under any tag.
Item StructureValue() {
  return Item::Structure(tag::kAttributeValue, {Item::TextString(tag::kNameValue, "a"),
                                                Item::Integer(tag::kAttributeIndex, 1)});
}

TEST(AttributeTest, V1EncodesNameIndexAndValue) {
  Attribute a = Attribute::Enum("Cryptographic Algorithm", 3);
  a.index = 2;
  const Item expected = Item::Structure(
      tag::kAttribute,
      {Item::TextString(tag::kAttributeName, "Cryptographic Algorithm"),
       Item::Integer(tag::kAttributeIndex, 2), Item::Enumeration(tag::kAttributeValue, 3)});
  EXPECT_EQ(EncodeAttribute1(a), expected);
  Result<Attribute> back = DecodeAttribute1(expected);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, a);
}

TEST(AttributeTest, V2EncodesUnderTheAttributesOwnTag) {
  Result<Item> item = EncodeAttribute2(Attribute::Integer("Cryptographic Length", 256));
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_EQ(*item, Item::Integer(tag::kCryptographicLength, 256));
  Result<Attribute> back = DecodeAttribute2(*item);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "Cryptographic Length");
  EXPECT_EQ(back->value.int_value(), 256);
  EXPECT_FALSE(back->is_custom());

  Result<Item> name = EncodeAttribute2(Attribute::Name("key-1"));
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->tag(), tag::kName);
  ASSERT_EQ(name->children().size(), 2u);
  EXPECT_EQ(name->children()[0].text(), "key-1");
}

// Custom attributes of several types: 1.x keeps the "x-" name, 2.x splits it
// into Vendor Identification "x" and Attribute Name.
TEST(AttributeTest, CustomAttributesOfSeveralTypes) {
  const std::vector<Attribute> attrs = {
      Attribute::Text("x-Text", "hello"),
      Attribute::Integer("x-Int", -5),
      Attribute::DateTime("x-When", 1700000000),
      Attribute{"x-Struct", std::nullopt, StructureValue()},
      Attribute::Boolean("y-Flag", true),
  };
  for (const Attribute& a : attrs) {
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(a.is_custom());
    // 1.x
    Result<Attribute> v1 = DecodeAttribute1(EncodeAttribute1(a));
    ASSERT_TRUE(v1.ok()) << v1.status().ToString();
    EXPECT_EQ(*v1, a);
    // 2.x
    Result<Item> item = EncodeAttribute2(a);
    ASSERT_TRUE(item.ok()) << item.status().ToString();
    EXPECT_EQ(item->tag(), tag::kAttribute);
    ASSERT_EQ(item->children().size(), 3u);
    EXPECT_EQ(item->children()[0].tag(), tag::kVendorIdentification);
    EXPECT_EQ(item->children()[1].tag(), tag::kAttributeName);
    EXPECT_EQ(item->children()[2].type(), a.value.type());
    Result<Attribute> v2 = DecodeAttribute2(*item);
    ASSERT_TRUE(v2.ok()) << v2.status().ToString();
    EXPECT_EQ(*v2, a);
  }
}

TEST(AttributeTest, VendorAttributeNameMapping) {
  Result<Item> item = EncodeAttribute2(Attribute::Text("x-ID", "42"));
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->Find(tag::kVendorIdentification)->text(), "x");
  EXPECT_EQ(item->Find(tag::kAttributeName)->text(), "ID");
  const Item vendor =
      Item::Structure(tag::kAttribute, {Item::TextString(tag::kVendorIdentification, "acme"),
                                        Item::TextString(tag::kAttributeName, "Owner"),
                                        Item::TextString(tag::kAttributeValue, "bob")});
  Result<Attribute> a = DecodeAttribute2(vendor);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->name, "acme-Owner");
}

TEST(AttributeTest, ContainersInBothVersions) {
  const AttributeList attrs = {Attribute::Enum("Cryptographic Algorithm", 3),
                               Attribute::Integer("Cryptographic Length", 128),
                               Attribute::Text("x-Purpose", "disk")};
  Result<Item> v1 = EncodeAttributes(attrs, kKmip14, tag::kTemplateAttribute, tag::kAttributes);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->tag(), tag::kTemplateAttribute);
  EXPECT_EQ(v1->children().size(), 3u);
  Result<Item> v2 = EncodeAttributes(attrs, kKmip21, tag::kTemplateAttribute, tag::kAttributes);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->tag(), tag::kAttributes);
  EXPECT_EQ(v2->children()[0].tag(), tag::kCryptographicAlgorithm);
  for (const Item* container : {&*v1, &*v2}) {
    Result<AttributeList> back = DecodeAttributes(*container);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), 3u);
    EXPECT_EQ((*back)[2].name, "x-Purpose");
    EXPECT_EQ(FindAttribute(*back, "Cryptographic Length")->value.int_value(), 128);
    EXPECT_EQ(FindAttribute(*back, "Nope"), nullptr);
  }
}

TEST(AttributeTest, ReferencesInBothVersions) {
  Result<Item> v1 = EncodeAttributeReference("State", kKmip14);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, Item::TextString(tag::kAttributeName, "State"));
  Result<Item> v2 = EncodeAttributeReference("State", kKmip20);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, Item::Enumeration(tag::kAttributeReference, tag::kState));
  Result<Item> vendor = EncodeAttributeReference("x-ID", kKmip21);
  ASSERT_TRUE(vendor.ok());
  EXPECT_TRUE(vendor->is_structure());
  for (const auto& [item, name] :
       {std::pair{*v1, "State"}, std::pair{*v2, "State"}, std::pair{*vendor, "x-ID"}}) {
    Result<std::string> back = DecodeAttributeReference(item);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, name);
  }
}

TEST(AttributeTest, Errors) {
  // A name that is neither in the specification nor vendor-name.
  EXPECT_FALSE(EncodeAttribute2(Attribute::Text("Frobnication", "x")).ok());
  EXPECT_FALSE(EncodeAttributeReference("Frobnication", kKmip21).ok());
  // A 1.x-only attribute in 2.x.
  EXPECT_FALSE(EncodeAttribute2(Attribute::Text("Certificate Identifier", "x")).ok());
  // 1.x Attribute without a value, or with a negative index.
  EXPECT_FALSE(DecodeAttribute1(
                   Item::Structure(tag::kAttribute, {Item::TextString(tag::kAttributeName, "x")}))
                   .ok());
  EXPECT_FALSE(
      DecodeAttribute1(Item::Structure(tag::kAttribute, {Item::TextString(tag::kAttributeName, "x"),
                                                         Item::Integer(tag::kAttributeIndex, -1),
                                                         Item::Integer(tag::kAttributeValue, 1)}))
          .ok());
  EXPECT_FALSE(DecodeAttribute1(Item::Integer(tag::kAttribute, 1)).ok());
  // An unknown tag in 2.x; a vendor attribute without a value.
  EXPECT_FALSE(DecodeAttribute2(Item::Integer(0x54FFFF, 1)).ok());
  EXPECT_FALSE(DecodeAttribute2(Item::Structure(tag::kAttribute,
                                                {Item::TextString(tag::kVendorIdentification, "x"),
                                                 Item::TextString(tag::kAttributeName, "y")}))
                   .ok());
  // Named templates in a 1.x Template-Attribute are not supported.
  Result<AttributeList> templ = DecodeAttributes(
      Item::Structure(tag::kTemplateAttribute,
                      {Item::Structure(tag::kName, {Item::TextString(tag::kNameValue, "t")})}));
  ASSERT_FALSE(templ.ok());
  EXPECT_EQ(templ.status().code(), StatusCode::kUnimplemented);
  // References to unknown tags, or not references at all.
  EXPECT_FALSE(
      DecodeAttributeReference(Item::Enumeration(tag::kAttributeReference, 0x54FFFF)).ok());
  EXPECT_FALSE(DecodeAttributeReference(Item::TextString(tag::kNameValue, "x")).ok());
}

}  // namespace
}  // namespace vmcrypt::kmip
