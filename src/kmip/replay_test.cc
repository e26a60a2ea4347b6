#include "vmcrypt/kmip/replay.h"

#include <gtest/gtest.h>

#include <set>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/tags.h"
#include "vmcrypt/ttlv/xml.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
namespace tag = ttlv::tag;

constexpr int64_t kNow = 1700000000;
int64_t FixedNow() { return kNow; }

Item Xml(const std::string& text) {
  Result<std::vector<Item>> items = ttlv::ParseXml(text);
  EXPECT_TRUE(items.ok()) << items.status().ToString();
  return items.ok() && !items->empty() ? (*items)[0] : Item();
}

// A 1.4 response with one Create batch item; `payload` and `extra` are XML.
std::string Response(
    const std::string& time, const std::string& payload,
    const std::string& result = R"(<ResultStatus type="Enumeration" value="Success"/>)") {
  return R"(<ResponseMessage><ResponseHeader><ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/>
      </ProtocolVersion><TimeStamp type="DateTime" value=")" +
         time + R"("/><BatchCount type="Integer" value="1"/></ResponseHeader>
      <BatchItem><Operation type="Enumeration" value="Create"/>)" +
         result + "<ResponsePayload>" + payload +
         "</ResponsePayload></BatchItem></ResponseMessage>";
}

std::string Uid(const std::string& v) {
  return R"(<UniqueIdentifier type="TextString" value=")" + v + R"("/>)";
}

TEST(ReplayTest, RecognisesPlaceholders) {
  EXPECT_EQ(PlaceholderText(Item::TextString(tag::kUniqueIdentifier, "$UNIQUE_IDENTIFIER_0")),
            "$UNIQUE_IDENTIFIER_0");
  EXPECT_EQ(PlaceholderText(
                Item::Placeholder(tag::kActivationDate, ttlv::ItemType::kDateTime, "$NOW-3600")),
            "$NOW-3600");
  EXPECT_FALSE(PlaceholderText(Item::TextString(tag::kUniqueIdentifier, "$5 off")));
  EXPECT_FALSE(PlaceholderText(Item::TextString(tag::kUniqueIdentifier, "key-1")));
  EXPECT_EQ(NowOffset("$NOW"), 0);
  EXPECT_EQ(NowOffset("$NOW-3600"), -3600);
  EXPECT_EQ(NowOffset("$NOW+60"), 60);
  EXPECT_FALSE(NowOffset("$NOWHERE"));
  EXPECT_FALSE(NowOffset("$NOW+"));
  EXPECT_FALSE(NowOffset("$DATA_0"));
}

TEST(ReplayTest, BindsFromTheExpectedResponseAndSubstitutesInRequests) {
  ReplaySession s(FixedNow);
  Item expected = Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0")));
  Item actual = Xml(Response("2023-11-14T22:13:20Z", Uid("key-17")));
  EXPECT_EQ(s.Compare(expected, actual), std::nullopt);
  ASSERT_EQ(s.bindings().count("$UNIQUE_IDENTIFIER_0"), 1u);

  Item request = Item::Structure(tag::kRequestPayload);
  request.Add(Item::TextString(tag::kUniqueIdentifier, "$UNIQUE_IDENTIFIER_0"));
  request.Add(Item::Placeholder(tag::kActivationDate, ttlv::ItemType::kDateTime, "$NOW-3600"));
  Result<Item> prepared = s.PrepareRequest(request);
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->Find(tag::kUniqueIdentifier)->text(), "key-17");
  EXPECT_FALSE(prepared->Find(tag::kUniqueIdentifier)->is_placeholder());
  EXPECT_EQ(prepared->Find(tag::kActivationDate)->int_value(), kNow - 3600);
}

TEST(ReplayTest, UnboundRequestPlaceholderIsAnError) {
  ReplaySession s(FixedNow);
  Item request = Item::Structure(tag::kRequestPayload);
  request.Add(Item::TextString(tag::kUniqueIdentifier, "$UNIQUE_IDENTIFIER_3"));
  Result<Item> prepared = s.PrepareRequest(request);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.status().message().find("$UNIQUE_IDENTIFIER_3"), std::string::npos);
}

TEST(ReplayTest, ABoundPlaceholderMustKeepItsValue) {
  ReplaySession s(FixedNow);
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0"))),
                      Xml(Response("$NOW", Uid("a")))),
            std::nullopt);
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0"))),
                      Xml(Response("$NOW", Uid("b")))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected "
            "$UNIQUE_IDENTIFIER_0 = \"a\", got \"b\"");
}

TEST(ReplayTest, ReportsTheFirstDifferenceWithAPath) {
  ReplaySession s(FixedNow);
  const std::string two = Uid("x") + R"(<ObjectType type="Enumeration" value="SymmetricKey"/>)";
  const std::string other = Uid("x") + R"(<ObjectType type="Enumeration" value="SecretData"/>)";
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", two)), Xml(Response("$NOW", other))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/ObjectType: expected SymmetricKey, "
            "got SecretData");
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", two)), Xml(Response("$NOW", Uid("x")))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/ObjectType: expected SymmetricKey, "
            "got nothing");
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", Uid("x"))), Xml(Response("$NOW", two))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/ObjectType: expected nothing, got "
            "SymmetricKey");
  const std::string twice = Uid("x") + Uid("y");
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", twice)), Xml(Response("$NOW", Uid("x") + Uid("z")))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier[1]: expected \"y\", "
            "got \"z\"");
}

TEST(ReplayTest, ToleratesTimeStampAndResultMessageButNotResultReason) {
  ReplaySession s(FixedNow);
  // A concrete expected Time Stamp still matches any time.
  EXPECT_EQ(s.Compare(Xml(Response("2019-01-01T00:00:00Z", Uid("x"))),
                      Xml(Response("2023-11-14T22:13:20Z", Uid("x")))),
            std::nullopt);
  auto failed = [](const std::string& reason, const std::string& message) {
    return R"(<ResultStatus type="Enumeration" value="OperationFailed"/>
              <ResultReason type="Enumeration" value=")" +
           reason + R"("/><ResultMessage type="TextString" value=")" + message + R"("/>)";
  };
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", "", failed("ItemNotFound", "not found"))),
                      Xml(Response("$NOW", "", failed("ItemNotFound", "no such object")))),
            std::nullopt);
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", "", failed("ItemNotFound", "x"))),
                      Xml(Response("$NOW", "", failed("PermissionDenied", "x")))),
            "/ResponseMessage/BatchItem[0]/ResultReason: expected ItemNotFound, got "
            "PermissionDenied");
  // A Date-Time elsewhere is compared unless it is a placeholder.
  const std::string date = R"(<InitialDate type="DateTime" value="2019-01-01T00:00:00Z"/>)";
  const std::string later = R"(<InitialDate type="DateTime" value="2019-01-01T00:00:01Z"/>)";
  EXPECT_NE(s.Compare(Xml(Response("$NOW", date)), Xml(Response("$NOW", later))), std::nullopt);
}

// Difference 6: the generator a server reports is its own; the attribute
// must still be there, as a structure, in its place.
TEST(ReplayTest, TheRandomNumberGeneratorAttributeMayDescribeAnotherGenerator) {
  ReplaySession s(FixedNow);
  auto attr = [](const std::string& algorithm) {
    return R"(<Attribute><AttributeName type="TextString" value="Random Number Generator"/>
              <AttributeValue><RNGAlgorithm type="Enumeration" value=")" +
           algorithm + R"("/></AttributeValue></Attribute>)";
  };
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", Uid("x") + attr("ANSIX9_31"))),
                      Xml(Response("$NOW", Uid("x") + attr("DRBG")))),
            std::nullopt);
  // Missing, or another attribute in its place: a difference.
  EXPECT_NE(s.Compare(Xml(Response("$NOW", Uid("x") + attr("ANSIX9_31"))),
                      Xml(Response("$NOW", Uid("x")))),
            std::nullopt);
  const std::string other =
      R"(<Attribute><AttributeName type="TextString" value="Object Group"/>
         <AttributeValue type="TextString" value="g"/></Attribute>)";
  EXPECT_NE(s.Compare(Xml(Response("$NOW", Uid("x") + attr("ANSIX9_31"))),
                      Xml(Response("$NOW", Uid("x") + other))),
            std::nullopt);
  // 2.x form.
  const std::string v2 = R"(<RandomNumberGenerator><RNGAlgorithm type="Enumeration" value=")";
  EXPECT_EQ(s.Compare(Xml(Response("$NOW", v2 + R"(ANSIX9_31"/></RandomNumberGenerator>)")),
                      Xml(Response("$NOW", v2 + R"(DRBG"/></RandomNumberGenerator>)"))),
            std::nullopt);
}

TEST(ReplayTest, ATypeDifferenceIsReportedEvenForAPlaceholder) {
  ReplaySession s(FixedNow);
  const std::string as_int = R"(<UniqueIdentifier type="Integer" value="7"/>)";
  EXPECT_EQ(
      s.Compare(Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0"))), Xml(Response("$NOW", as_int))),
      "/ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected type "
      "TextString, got Integer");
  EXPECT_TRUE(s.bindings().empty());
}

// A 1.4 response or request of one batch item of `op` with `payload` (XML).
std::string ResponseOf(const std::string& op, const std::string& payload) {
  return R"(<ResponseMessage><ResponseHeader><ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/>
      </ProtocolVersion><TimeStamp type="DateTime" value="$NOW"/><BatchCount type="Integer" value="1"/>
      </ResponseHeader><BatchItem><Operation type="Enumeration" value=")" +
         op + R"("/><ResultStatus type="Enumeration" value="Success"/><ResponsePayload>)" +
         payload + "</ResponsePayload></BatchItem></ResponseMessage>";
}
std::string RequestOf(const std::string& op, const std::string& payload) {
  return R"(<RequestMessage><RequestHeader><ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/>
      </ProtocolVersion><BatchCount type="Integer" value="1"/></RequestHeader>
      <BatchItem><Operation type="Enumeration" value=")" +
         op + R"("/><RequestPayload>)" + payload + "</RequestPayload></BatchItem></RequestMessage>";
}
std::string Bytes(const std::string& tag, const std::string& hex) {
  return "<" + tag + R"( type="ByteString" value=")" + hex + R"("/>)";
}
std::string GetPayload(const std::string& uid, const std::string& key_hex) {
  return Uid(uid) + R"(<ObjectType type="Enumeration" value="SymmetricKey"/><SymmetricKey><KeyBlock>
      <KeyFormatType type="Enumeration" value="Raw"/><KeyValue>)" +
         Bytes("KeyMaterial", key_hex) + R"(</KeyValue>
      <CryptographicAlgorithm type="Enumeration" value="AES"/>
      <CryptographicLength type="Integer" value="128"/></KeyBlock></SymmetricKey>)";
}
const std::string kKeyA = "000102030405060708090a0b0c0d0e0f";
const std::string kKeyB = "f0e0d0c0b0a090807060504030201000";

TEST(ReplayTest, KeyMaterialTheServerGeneratedMayDifferButKeepsItsLength) {
  ReplaySession s(FixedNow);
  const std::string created = Uid("$UNIQUE_IDENTIFIER_0");
  ASSERT_EQ(s.Compare(Xml(ResponseOf("Create", created)), Xml(ResponseOf("Create", Uid("k1")))),
            std::nullopt);
  EXPECT_EQ(s.generated(), (std::set<std::string>{"k1"}));
  EXPECT_EQ(s.Compare(Xml(ResponseOf("Get", GetPayload("$UNIQUE_IDENTIFIER_0", kKeyA))),
                      Xml(ResponseOf("Get", GetPayload("k1", kKeyB)))),
            std::nullopt);
  // Bound now: the same object must keep the same bytes.
  EXPECT_EQ(s.Compare(Xml(ResponseOf("Get", GetPayload("$UNIQUE_IDENTIFIER_0", kKeyA))),
                      Xml(ResponseOf("Get", GetPayload("k1", kKeyA)))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/"
            "KeyMaterial: expected the same 16 random bytes as before, got others");
  // A different length is a difference, and no byte is shown.
  ReplaySession t(FixedNow);
  ASSERT_EQ(t.Compare(Xml(ResponseOf("Create", created)), Xml(ResponseOf("Create", Uid("k1")))),
            std::nullopt);
  EXPECT_EQ(t.Compare(Xml(ResponseOf("Get", GetPayload("$UNIQUE_IDENTIFIER_0", kKeyA))),
                      Xml(ResponseOf("Get", GetPayload("k1", kKeyA + "0011")))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/"
            "KeyMaterial: expected 16 bytes drawn at random, got 18");
}

TEST(ReplayTest, KeyMaterialOfARegisteredKeyIsComparedExactly) {
  ReplaySession s(FixedNow);
  ASSERT_EQ(s.Compare(Xml(ResponseOf("Register", Uid("$UNIQUE_IDENTIFIER_0"))),
                      Xml(ResponseOf("Register", Uid("k1")))),
            std::nullopt);
  EXPECT_TRUE(s.generated().empty());
  EXPECT_EQ(s.Compare(Xml(ResponseOf("Get", GetPayload("$UNIQUE_IDENTIFIER_0", kKeyA))),
                      Xml(ResponseOf("Get", GetPayload("k1", kKeyB)))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/SymmetricKey/KeyBlock/KeyValue/"
            "KeyMaterial: expected <16 bytes of key material>, got 16 different bytes");
  // Nor does a generated key excuse another object's material.
  ASSERT_EQ(s.Compare(Xml(ResponseOf("Create", Uid("$UNIQUE_IDENTIFIER_1"))),
                      Xml(ResponseOf("Create", Uid("k2")))),
            std::nullopt);
  EXPECT_NE(s.Compare(Xml(ResponseOf("Get", GetPayload("$UNIQUE_IDENTIFIER_0", kKeyA))),
                      Xml(ResponseOf("Get", GetPayload("k1", kKeyB)))),
            std::nullopt);
  // A failed Create generated nothing.
  ReplaySession t(FixedNow);
  Item failed = Xml(ResponseOf("Create", Uid("k3")));
  failed.mutable_children()[1].mutable_children()[1] =
      Item::Enumeration(tag::kResultStatus, static_cast<uint32_t>(ResultStatus::kOperationFailed));
  EXPECT_NE(t.Compare(Xml(ResponseOf("Create", Uid("$UNIQUE_IDENTIFIER_0"))), failed),
            std::nullopt);
  EXPECT_TRUE(t.generated().empty());
}

TEST(ReplayTest, DigestOfAGeneratedKeyAndRngDataKeepTheirLength) {
  ReplaySession s(FixedNow);
  ASSERT_EQ(s.Compare(Xml(ResponseOf("Create", Uid("$UNIQUE_IDENTIFIER_0"))),
                      Xml(ResponseOf("Create", Uid("k1")))),
            std::nullopt);
  auto digest = [](const std::string& uid, const std::string& hex) {
    return Uid(uid) + R"(<Attribute><AttributeName type="TextString" value="Digest"/>
        <AttributeValue><HashingAlgorithm type="Enumeration" value="SHA_256"/>)" +
           Bytes("DigestValue", hex) + R"(<KeyFormatType type="Enumeration" value="Raw"/>
        </AttributeValue></Attribute>)";
  };
  EXPECT_EQ(s.Compare(Xml(ResponseOf("GetAttributes", digest("$UNIQUE_IDENTIFIER_0", kKeyA))),
                      Xml(ResponseOf("GetAttributes", digest("k1", kKeyB)))),
            std::nullopt);
  EXPECT_EQ(s.Compare(Xml(ResponseOf("RNGRetrieve", Bytes("Data", kKeyA))),
                      Xml(ResponseOf("RNGRetrieve", Bytes("Data", kKeyB)))),
            std::nullopt);
  EXPECT_EQ(s.Compare(Xml(ResponseOf("RNGRetrieve", Bytes("Data", "0102"))),
                      Xml(ResponseOf("RNGRetrieve", Bytes("Data", "010203")))),
            "/ResponseMessage/BatchItem[0]/ResponsePayload/Data: expected 2 bytes drawn at "
            "random, got 3");
  // A Hashing Algorithm or Key Format Type is no random value.
  std::string other = digest("k1", kKeyB);
  other.replace(other.find("Raw"), 3, "TransparentSymmetricKey");
  EXPECT_NE(s.Compare(Xml(ResponseOf("GetAttributes", digest("$UNIQUE_IDENTIFIER_0", kKeyB))),
                      Xml(ResponseOf("GetAttributes", other))),
            std::nullopt);
}

TEST(ReplayTest, CiphertextOfAGeneratedKeyIsSentBackAndItsDecryptionComparedExactly) {
  const std::string plain = "01020304050607080910111213141516";
  const std::string doc_cipher = "fd912d102dbb482f6f6e91bd57119095";
  const std::string our_cipher = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  std::vector<Item> doc = {
      Xml(RequestOf("Create", R"(<ObjectType type="Enumeration" value="SymmetricKey"/>)")),
      Xml(ResponseOf("Create", Uid("$UNIQUE_IDENTIFIER_0"))),
      Xml(RequestOf("Encrypt", Uid("$UNIQUE_IDENTIFIER_0") + Bytes("Data", plain))),
      Xml(ResponseOf("Encrypt", Uid("$UNIQUE_IDENTIFIER_0") + Bytes("Data", doc_cipher))),
      Xml(RequestOf("Decrypt", Uid("$UNIQUE_IDENTIFIER_0") + Bytes("Data", doc_cipher))),
      Xml(ResponseOf("Decrypt", Uid("$UNIQUE_IDENTIFIER_0") + Bytes("Data", plain))),
  };
  // A toy cipher: Encrypt maps `plain` to `our_cipher`; Decrypt inverts it,
  // or returns `decrypt_other` for any other input.
  std::vector<std::string> decrypt_inputs;
  std::string decrypt_other = "ffffffffffffffffffffffffffffffff";
  bool wrong_plain = false;
  SendFn server = [&](const RequestMessage& r) -> Result<ResponseMessage> {
    ResponseMessage m;
    m.time_stamp = kNow;
    ResponseBatchItem item;
    item.operation = r.items[0].operation;
    item.payload = Item::Structure(tag::kResponsePayload);
    item.payload->Add(Item::TextString(tag::kUniqueIdentifier, "k1"));
    if (item.operation != Operation::kCreate) {
      const std::string in = HexEncode(r.items[0].payload.Find(tag::kData)->bytes());
      std::string out = our_cipher;
      if (item.operation == Operation::kDecrypt) {
        decrypt_inputs.push_back(in);
        out = in == our_cipher && !wrong_plain ? plain : decrypt_other;
      }
      item.payload->Add(Item::ByteString(tag::kData, *HexDecode(out)));
    }
    m.items.push_back(item);
    return m;
  };
  ReplayOutcome ok = ReplayDocument(doc, server, FixedNow);
  EXPECT_TRUE(ok.passed) << ok.failure;
  EXPECT_EQ(decrypt_inputs, (std::vector<std::string>{our_cipher}));
  // The server's own ciphertext went back: a wrong decryption is a FAIL.
  wrong_plain = true;
  ReplayOutcome bad = ReplayDocument(doc, server, FixedNow);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.failure,
            "message 3: /ResponseMessage/BatchItem[0]/ResponsePayload/Data: expected " + plain +
                ", got " + decrypt_other);
}

TEST(ReplayTest, ReplaysADocumentAgainstAFakeServer) {
  const std::string request = R"(<RequestMessage><RequestHeader><ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/>
      </ProtocolVersion><BatchCount type="Integer" value="1"/></RequestHeader>
      <BatchItem><Operation type="Enumeration" value="Create"/><RequestPayload>
      <ObjectType type="Enumeration" value="SymmetricKey"/>)" +
                              Uid("$UNIQUE_IDENTIFIER_0") +
                              "</RequestPayload></BatchItem></RequestMessage>";
  // The first Create binds the identifier; the second sends it back.
  const std::string first_request = request.substr(0, request.find("<UniqueIdentifier")) +
                                    "</RequestPayload></BatchItem></RequestMessage>";
  std::vector<Item> doc = {Xml(first_request), Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0"))),
                           Xml(request), Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0")))};
  std::vector<std::string> seen;
  SendFn server = [&seen](const RequestMessage& r) -> Result<ResponseMessage> {
    EXPECT_EQ(r.version, kKmip14);
    const Item* uid = r.items[0].payload.Find(tag::kUniqueIdentifier);
    seen.push_back(uid != nullptr ? std::string(uid->text()) : "");
    ResponseMessage m;
    m.time_stamp = kNow;
    ResponseBatchItem item;
    item.operation = Operation::kCreate;
    item.unique_batch_item_id = ttlv::Bytes{1, 2, 3};  // as if the client had numbered it
    item.payload = Item::Structure(tag::kResponsePayload);
    item.payload->Add(Item::TextString(tag::kUniqueIdentifier, "k1"));
    m.items.push_back(item);
    return m;
  };
  ReplayOutcome ok = ReplayDocument(doc, server, FixedNow);
  EXPECT_TRUE(ok.passed) << ok.failure;
  EXPECT_EQ(seen, (std::vector<std::string>{"", "k1"}));

  doc[3] = Xml(Response("$NOW", Uid("other")));
  ReplayOutcome bad = ReplayDocument(doc, server, FixedNow);
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(bad.failure,
            "message 2: /ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected "
            "\"other\", got \"k1\"");

  SendFn down = [](const RequestMessage&) -> Result<ResponseMessage> {
    return InvalidArgumentError("connection refused");
  };
  EXPECT_EQ(ReplayDocument(doc, down, FixedNow).failure, "message 1: connection refused");
  EXPECT_FALSE(ReplayDocument({doc[0]}, server, FixedNow).passed);
}

}  // namespace
}  // namespace vmcrypt::kmip
