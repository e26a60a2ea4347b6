#include "vmcrypt/kmip/replay.h"

#include <gtest/gtest.h>

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

TEST(ReplayTest, ATypeDifferenceIsReportedEvenForAPlaceholder) {
  ReplaySession s(FixedNow);
  const std::string as_int = R"(<UniqueIdentifier type="Integer" value="7"/>)";
  EXPECT_EQ(
      s.Compare(Xml(Response("$NOW", Uid("$UNIQUE_IDENTIFIER_0"))), Xml(Response("$NOW", as_int))),
      "/ResponseMessage/BatchItem[0]/ResponsePayload/UniqueIdentifier: expected type "
      "TextString, got Integer");
  EXPECT_TRUE(s.bindings().empty());
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
