// Tests of the XML and JSON encodings on small hand-written documents. The
// full OASIS test-case corpus is exercised in tests/kmip_testcases_test.cc.
#include <gtest/gtest.h>

#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/json.h"
#include "vmcrypt/ttlv/tags.h"
#include "vmcrypt/ttlv/xml.h"

namespace vmcrypt::ttlv {
namespace {

constexpr char kCreate14[] = R"(<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="4"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Create"/>
    <RequestPayload>
      <ObjectType type="Enumeration" value="SymmetricKey"/>
      <TemplateAttribute>
        <Attribute>
          <AttributeName type="TextString" value="Cryptographic Algorithm"/>
          <AttributeValue type="Enumeration" value="AES"/>
        </Attribute>
        <Attribute>
          <AttributeName type="TextString" value="Cryptographic Usage Mask"/>
          <AttributeValue type="Integer" value="Encrypt Decrypt"/>
        </Attribute>
        <Attribute>
          <AttributeName type="TextString" value="x-custom"/>
          <AttributeValue type="DateTime" value="2000-01-01T00:00:00+10:00"/>
        </Attribute>
      </TemplateAttribute>
    </RequestPayload>
  </BatchItem>
</RequestMessage>
)";

TEST(XmlTest, ParsesNamesMasksAndAttributeValues) {
  Result<std::vector<Item>> r = ParseXml(kCreate14);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const Item& msg = (*r)[0];
  EXPECT_EQ(msg.tag(), tag::kRequestMessage);
  const Item* payload = msg.Find(tag::kBatchItem)->Find(tag::kRequestPayload);
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(payload->Find(tag::kObjectType)->int_value(), 2);  // Symmetric Key
  auto attrs = payload->Find(tag::kTemplateAttribute)->FindAll(tag::kAttribute);
  ASSERT_EQ(attrs.size(), 3u);
  EXPECT_EQ(attrs[0]->Find(tag::kAttributeValue)->int_value(), 3);     // AES
  EXPECT_EQ(attrs[1]->Find(tag::kAttributeValue)->int_value(), 0x0C);  // Encrypt|Decrypt
  EXPECT_EQ(attrs[2]->Find(tag::kAttributeValue)->int_value(), 946648800);
}

TEST(XmlTest, WritesTheSameDocumentBack) {
  Result<std::vector<Item>> r = ParseXml(kCreate14);
  ASSERT_TRUE(r.ok());
  std::string out = WriteXml((*r)[0]);
  // The only change: the date-time is normalized to UTC.
  std::string expected = kCreate14;
  expected.replace(expected.find("2000-01-01T00:00:00+10:00"), 25, "1999-12-31T14:00:00+00:00");
  EXPECT_EQ(out, expected);
}

TEST(XmlTest, UnknownTagsUseTheTtlvElement) {
  Item item = Item::Structure(
      0x540000, {Item::TextString(0x540001, "v"), Item::Enumeration(0x420057, 0x80000001)});
  std::string xml = WriteXml(item);
  EXPECT_EQ(xml,
            "<TTLV tag=\"0x540000\">\n"
            "  <TTLV tag=\"0x540001\" type=\"TextString\" value=\"v\"/>\n"
            "  <ObjectType type=\"Enumeration\" value=\"0x80000001\"/>\n"
            "</TTLV>\n");
  EXPECT_EQ((*ParseXml(xml))[0], item);
}

TEST(XmlTest, EscapesText) {
  Item item = Item::TextString(0x420055, "a<b>&\"c\"\n");
  std::string xml = WriteXml(item);
  EXPECT_EQ((*ParseXml(xml))[0], item);
}

TEST(XmlTest, ErrorsNameTheLine) {
  const std::pair<const char*, const char*> kBad[] = {
      {"<RequestMessage>\n  <Bogus type=\"Integer\" value=\"1\"/>\n</RequestMessage>",
       "line 2: unknown tag name 'Bogus'"},
      {"<RequestMessage>\n\n  <BatchCount type=\"Integer\" value=\"x\"/>\n</RequestMessage>",
       "line 3: bad Integer 'x'"},
      {"<RequestMessage>\n  <BatchCount type=\"Int\" value=\"1\"/>\n</RequestMessage>",
       "line 2: unknown type 'Int'"},
      {"<RequestMessage>\n  <BatchCount type=\"Integer\"/>\n</RequestMessage>",
       "line 2: missing value attribute"},
      {"<RequestMessage>\n  <Operation type=\"Enumeration\" value=\"Fly\"/>\n</RequestMessage>",
       "line 2: unknown Operation enumeration value 'Fly'"},
      {"<RequestMessage>\n  <BatchCount type=\"Integer\" value=\"1\">\n</RequestMessage>",
       "line 3: XML error: Start-end tags mismatch"},
      {"<RequestMessage>\n  <Data type=\"ByteString\" value=\"0g\"/>\n</RequestMessage>",
       "line 2: invalid hex digit at offset 1"},
      {"<RequestMessage>\n  <NameValue type=\"TextString\" value=\"a\xff\"/>\n</RequestMessage>",
       "line 2: invalid UTF-8 in TextString at character 1"},
  };
  for (const auto& [doc, expected] : kBad) {
    Result<std::vector<Item>> r = ParseXml(doc);
    ASSERT_FALSE(r.ok()) << doc;
    EXPECT_EQ(r.status().message(), expected);
  }
}

TEST(XmlTest, KmipWrapperHoldsSeveralMessagesInOrder) {
  Item a = Item::Structure(tag::kRequestMessage, {Item::Integer(tag::kBatchCount, 1)});
  Item b = Item::Structure(tag::kResponseMessage, {Item::Integer(tag::kBatchCount, 2)});
  std::string doc = WriteXmlDocument({a, b});
  Result<std::vector<Item>> r = ParseXml(doc);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], a);
  EXPECT_EQ((*r)[1], b);
}

TEST(JsonTest, RoundTripsAllTypes) {
  const uint8_t bytes[] = {0, 1, 0xfe};
  Item item = Item::Structure(
      tag::kRequestMessage,
      {Item::Integer(tag::kBatchCount, -7), Item::LongInteger(0x420003, int64_t{1} << 60),
       Item::LongInteger(0x420003, 16), Item::BigInteger(0x420004, bytes),
       Item::Enumeration(tag::kOperation, 10), Item::Boolean(tag::kAsynchronousIndicator, true),
       Item::TextString(tag::kUniqueIdentifier, "uid-\u00e9"), Item::ByteString(tag::kData, bytes),
       Item::DateTime(tag::kActivationDate, 1700000000), Item::Interval(0x42003F, 3600),
       Item::DateTimeExtended(0x420001, 1700000000123456),
       Item::Integer(tag::kCryptographicUsageMask, 0x0C),
       Item::Placeholder(tag::kTimeStamp, ItemType::kDateTime, "$NOW")});
  std::string json = WriteJson(item);
  EXPECT_NE(json.find("\"Encrypt|Decrypt\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"Get\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"0x1000000000000000\""), std::string::npos) << json;
  Result<std::vector<Item>> r = ParseJson(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0], item);
}

TEST(JsonTest, ErrorsNameTheLineOrPath) {
  Result<std::vector<Item>> r = ParseJson("{\n \"tag\": \"RequestMessage\",\n \"value\": [\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("line 4: JSON error:", 0), 0u) << r.status().message();

  r = ParseJson(
      R"({"tag":"RequestMessage","value":[{"tag":"BatchCount","type":"Integer","value":"x"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "/RequestMessage/BatchCount: bad Integer 'x'");

  r = ParseJson(R"({"tag":"Nope","value":[]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "/: unknown tag name 'Nope'");
}

TEST(JsonTest, DeepNestingIsRejected) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "[";
  Result<std::vector<Item>> r = ParseJson(deep);
  ASSERT_FALSE(r.ok());
}

// Found by the JSON fuzzer: a child whose "tag" is not a string made the
// Attribute Name look-up throw (terminate) instead of failing cleanly.
TEST(JsonTest, ANonStringTagInAStructureIsAnErrorNotACrash) {
  Result<std::vector<Item>> r =
      ParseJson(R"({"tag":"RequestMessage","value":[{"tag":["RequestHeader"],"value":[]}]})");
  ASSERT_FALSE(r.ok());
  r = ParseJson(R"({"tag":"RequestMessage","value":[{"tag":7,"value":[]}]})");
  ASSERT_FALSE(r.ok());
}

}  // namespace
}  // namespace vmcrypt::ttlv
