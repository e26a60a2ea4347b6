// The fixed newstyle handshake, byte for byte (proto.md "Fixed newstyle
// negotiation", "Option types", "Option reply types").
#include <cstring>

#include "protocol.h"
#include "test_fixture.h"

namespace vmcrypt::nbd::testing {
namespace {

using namespace proto;  // NOLINT

// HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_TRIM | SEND_WRITE_ZEROES | CAN_MULTI_CONN
constexpr uint16_t kRwFlags = 0x016d;

std::vector<uint8_t> Text(const std::string& s) { return {s.begin(), s.end()}; }

TEST_F(NbdTest, GreetingIsFixedNewstyleWithNoZeroes) {
  StartDefault();
  TestClient c = Client();
  auto hello = c.Recv(18);
  ASSERT_TRUE(hello);
  const uint8_t expected[18] = {'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C',  'I',
                                'H', 'A', 'V', 'E', 'O', 'P', 'T', 0x00, 0x03};
  EXPECT_EQ(0, std::memcmp(hello->data(), expected, 18));
}

TEST_F(NbdTest, ExportNameWithNoZeroesRepliesTenBytes) {
  StartDefault();
  TestClient c = Client();
  c.Greet(kClientFlagFixedNewstyle | kClientFlagNoZeroes);
  c.SendOption(kOptExportName, Text("disk"));
  auto reply = c.Recv(10);
  ASSERT_TRUE(reply);
  EXPECT_EQ(GetU64(reply->data()), kSize);
  EXPECT_EQ(GetU16(reply->data() + 8), kRwFlags);
  // Transmission starts right after: a read works.
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(0, 512, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(512, 0));
}

TEST_F(NbdTest, ExportNameWithoutNoZeroesSendsThe124Zeroes) {
  StartDefault();
  TestClient c = Client();
  c.Greet(kClientFlagFixedNewstyle);
  c.SendOption(kOptExportName, Text("disk"));
  auto reply = c.Recv(134);
  ASSERT_TRUE(reply);
  EXPECT_EQ(GetU64(reply->data()), kSize);
  EXPECT_EQ(std::vector<uint8_t>(reply->begin() + 10, reply->end()), std::vector<uint8_t>(124, 0));
  EXPECT_EQ(c.Command(kCmdFlush, 0, 0), 0u);
}

TEST_F(NbdTest, EmptyNameSelectsTheOnlyExport) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptExportName, {});
  auto reply = c.Recv(10);
  ASSERT_TRUE(reply);
  EXPECT_EQ(GetU64(reply->data()), kSize);
}

TEST_F(NbdTest, UnknownExportNameClosesTheConnection) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptExportName, Text("nope"));
  EXPECT_TRUE(c.Closed());
}

TEST_F(NbdTest, UnknownClientFlagsCloseTheConnection) {
  StartDefault();
  TestClient c = Client();
  c.Greet(0x7);
  EXPECT_TRUE(c.Closed());
}

TEST_F(NbdTest, BadOptionMagicClosesTheConnection) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.Send(std::vector<uint8_t>(16, 0x41));
  EXPECT_TRUE(c.Closed());
}

TEST_F(NbdTest, ListNamesEveryExportThenAcks) {
  FileDevice* a = AddFile("a");
  FileDevice* b = AddFile("b", 1 << 20);
  StartServer({{"alpha", a, ""}, {"beta", b, ""}});
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptList, {});
  std::vector<std::string> names;
  for (;;) {
    auto r = c.ReadOptionReply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->magic, kOptReplyMagic);
    EXPECT_EQ(r->option, kOptList);
    if (r->type == kRepAck) break;
    ASSERT_EQ(r->type, kRepServer);
    ASSERT_GE(r->data.size(), 4u);
    const uint32_t len = GetU32(r->data.data());
    ASSERT_EQ(r->data.size(), 4u + len);
    names.emplace_back(r->data.begin() + 4, r->data.end());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "beta"}));
}

TEST_F(NbdTest, ListWithDataIsInvalidAndNegotiationContinues) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptList, Text("x"));
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepErrInvalid);
  EXPECT_FALSE(r->data.empty());  // a message for humans
  c.SendOption(kOptGo, TestClient::InfoData("disk", {kInfoBlockSize}));
  auto info = c.ReadOptionReply();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, kRepInfo);
}

TEST_F(NbdTest, InfoRepliesExportNameBlockSizeThenAckAndStaysInNegotiation) {
  FileDevice* a = AddFile("a");
  StartServer({{"alpha", a, "the first disk"}});
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptInfo,
               TestClient::InfoData("alpha", {kInfoName, kInfoDescription, kInfoBlockSize}));
  bool saw_export = false, saw_name = false, saw_description = false, saw_sizes = false;
  for (;;) {
    auto r = c.ReadOptionReply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->option, kOptInfo);
    if (r->type == kRepAck) break;
    ASSERT_EQ(r->type, kRepInfo);
    ASSERT_GE(r->data.size(), 2u);
    switch (GetU16(r->data.data())) {
      case kInfoExport:
        ASSERT_EQ(r->data.size(), 12u);
        EXPECT_EQ(GetU64(r->data.data() + 2), kSize);
        EXPECT_EQ(GetU16(r->data.data() + 10), kRwFlags);
        saw_export = true;
        break;
      case kInfoName:
        EXPECT_EQ(std::string(r->data.begin() + 2, r->data.end()), "alpha");
        saw_name = true;
        break;
      case kInfoDescription:
        EXPECT_EQ(std::string(r->data.begin() + 2, r->data.end()), "the first disk");
        saw_description = true;
        break;
      case kInfoBlockSize:
        ASSERT_EQ(r->data.size(), 14u);
        EXPECT_EQ(GetU32(r->data.data() + 2), 1u);
        EXPECT_EQ(GetU32(r->data.data() + 6), 4096u);
        EXPECT_EQ(GetU32(r->data.data() + 10), 32u << 20);
        saw_sizes = true;
        break;
      default:
        ADD_FAILURE() << "unexpected info type";
    }
  }
  EXPECT_TRUE(saw_export && saw_name && saw_description && saw_sizes);
  // INFO does not end negotiation: LIST still works.
  c.SendOption(kOptList, {});
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepServer);
}

TEST_F(NbdTest, GoToUnknownExportIsErrUnknownAndNegotiationContinues) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptGo, TestClient::InfoData("missing", {}));
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepErrUnknown);
  EXPECT_NE(std::string(r->data.begin(), r->data.end()).find("missing"), std::string::npos);
  c.SendOption(kOptGo, TestClient::InfoData("disk", {}));
  auto ok = c.ReadOptionReply();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->type, kRepInfo);
}

TEST_F(NbdTest, MalformedInfoIsErrInvalid) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  std::vector<uint8_t> good = TestClient::InfoData("disk", {kInfoBlockSize});
  // Every truncation, a trailing byte and a name length past the end.
  std::vector<std::vector<uint8_t>> bad;
  for (size_t n = 0; n < good.size(); ++n) bad.emplace_back(good.begin(), good.begin() + n);
  bad.push_back(good);
  bad.back().push_back(0);
  bad.push_back(good);
  PutU32(bad.back().data(), 1000);
  for (const auto& data : bad) {
    c.SendOption(kOptInfo, data);
    auto r = c.ReadOptionReply();
    ASSERT_TRUE(r) << "size " << data.size();
    EXPECT_EQ(r->type, kRepErrInvalid) << "size " << data.size();
  }
}

TEST_F(NbdTest, UnknownOptionsAndStartTlsAreUnsupported) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  for (uint32_t option : {kOptStartTls, kOptListMetaContext, kOptSetMetaContext, 4u, 42u}) {
    c.SendOption(option, Text("whatever"));
    auto r = c.ReadOptionReply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->option, option);
    EXPECT_EQ(r->type, kRepErrUnsup) << option;
  }
}

TEST_F(NbdTest, OversizeOptionIsTooBigAndSkipped) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptList, std::vector<uint8_t>(kMaxOptionLength + 1, 'x'));
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepErrTooBig);
  c.SendOption(kOptList, {});
  r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepServer);
}

TEST_F(NbdTest, StructuredReplyIsAckedOnlyWithoutData) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptStructuredReply, Text("x"));
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepErrInvalid);
  c.SendOption(kOptStructuredReply, {});
  r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepAck);
  EXPECT_TRUE(r->data.empty());
  // With structured replies the export also advertises DF.
  c.SendOption(kOptGo, TestClient::InfoData("disk", {kInfoBlockSize}));
  r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->type, kRepInfo);
  EXPECT_EQ(GetU16(r->data.data() + 10), kRwFlags | kFlagSendDf);
}

TEST_F(NbdTest, AbortIsAckedThenClosed) {
  StartDefault();
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptAbort, {});
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->option, kOptAbort);
  EXPECT_EQ(r->type, kRepAck);
  EXPECT_TRUE(c.Closed());
}

TEST_F(NbdTest, ReadOnlyExportFlags) {
  WrappedDevice ro(AddFile("ro"));
  ro.read_only_ = true;
  StartServer({{"ro", &ro, ""}});
  TestClient c = Client();
  const uint64_t flags = c.Connect("ro");
  EXPECT_EQ(flags,
            kFlagHasFlags | kFlagReadOnly | kFlagSendFlush | kFlagSendFua | kFlagCanMultiConn);
}

TEST_F(NbdTest, AlignedExportNeedsBlockSizeRequestForGo) {
  WrappedDevice aligned(AddFile("aligned"));
  aligned.min_block_ = 512;
  StartServer({{"aligned", &aligned, ""}});
  TestClient c = Client();
  c.Greet();
  c.SendOption(kOptGo, TestClient::InfoData("aligned", {}));
  auto r = c.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepErrBlockSizeReqd);
  // INFO without the request is fine and advertises the minimum.
  c.SendOption(kOptInfo, TestClient::InfoData("aligned", {}));
  for (;;) {
    r = c.ReadOptionReply();
    ASSERT_TRUE(r);
    if (r->type == kRepAck) break;
    if (GetU16(r->data.data()) == kInfoBlockSize) {
      EXPECT_EQ(GetU32(r->data.data() + 2), 512u);
    }
  }
}

TEST_F(NbdTest, NonFixedNewstyleClientGetsNoRepliesToOtherOptions) {
  StartDefault();
  TestClient c = Client();
  c.Greet(0);
  c.SendOption(kOptList, {});
  EXPECT_TRUE(c.Closed());
  TestClient d = Client();
  d.Greet(0);
  d.SendOption(kOptExportName, Text("disk"));
  auto reply = d.Recv(134);
  ASSERT_TRUE(reply);
  EXPECT_EQ(GetU64(reply->data()), kSize);
}

}  // namespace
}  // namespace vmcrypt::nbd::testing
