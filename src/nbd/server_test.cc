// The server around the protocol: listeners, several clients at once,
// misbehaving clients, limits and a graceful Shutdown.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <thread>

#include "protocol.h"
#include "test_fixture.h"

namespace vmcrypt::nbd::testing {
namespace {

using namespace proto;  // NOLINT

TEST_F(NbdTest, ListensOnLoopbackTcpPortZero) {
  disk_ = AddFile("disk");
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  StartServer({{"disk", disk_, ""}}, options);
  ASSERT_NE(server_->port(), 0);
  TestClient c = TestClient::Tcp(server_->port());
  c.Connect("disk");
  EXPECT_EQ(c.Write(0, Pattern(4096, 1)), 0u);
  std::vector<uint8_t> out;
  EXPECT_EQ(c.Read(0, 4096, &out), 0u);
  EXPECT_EQ(out, Pattern(4096, 1));
}

TEST_F(NbdTest, UnixSocketIsPrivateAndRemovedOnShutdown) {
  StartDefault();
  struct stat st {};
  ASSERT_EQ(::lstat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server_->Shutdown();
  EXPECT_NE(::lstat(socket_.c_str(), &st), 0);
}

TEST_F(NbdTest, LiveSocketIsNotStolenStaleSocketIsReplaced) {
  StartDefault();
  ServerOptions options;
  options.unix_path = socket_;
  auto second = Server::Start(options, {{"disk", disk_, ""}});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);

  // A stale socket file (nobody listening) is replaced.
  const std::string stale = dir_ + "/stale.sock";
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, stale.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  options.unix_path = stale;
  auto third = Server::Start(options, {{"disk", disk_, ""}});
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  TestClient c = TestClient::Unix(stale);
  c.Connect("disk");
  EXPECT_EQ(c.Command(kCmdFlush, 0, 0), 0u);
}

TEST_F(NbdTest, StartRejectsBadConfigurations) {
  FileDevice* d = AddFile("d");
  ServerOptions both;
  both.unix_path = dir_ + "/x.sock";
  both.listen = "127.0.0.1:0";
  EXPECT_EQ(Server::Start(both, {{"d", d, ""}}).status().code(), StatusCode::kInvalidArgument);
  ServerOptions neither;
  EXPECT_EQ(Server::Start(neither, {{"d", d, ""}}).status().code(), StatusCode::kInvalidArgument);
  ServerOptions ok;
  ok.unix_path = dir_ + "/y.sock";
  EXPECT_EQ(Server::Start(ok, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Server::Start(ok, {{"d", d, ""}, {"d", d, ""}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Server::Start(ok, {{"d", nullptr, ""}}).status().code(), StatusCode::kInvalidArgument);
  ServerOptions threads = ok;
  threads.threads_per_connection = 0;
  EXPECT_EQ(Server::Start(threads, {{"d", d, ""}}).status().code(), StatusCode::kInvalidArgument);
  // Block sizes must follow proto.md "Block size constraints".
  WrappedDevice odd(d);
  for (uint32_t min : {3u, 8192u, 128u << 10}) {  // not a power of two, > preferred, > 64 KiB
    odd.min_block_ = min;
    EXPECT_EQ(Server::Start(ok, {{"odd", &odd, ""}}).status().code(), StatusCode::kInvalidArgument)
        << min;
  }
  ServerOptions tcp;
  tcp.listen = "localhost:0";  // numeric hosts only
  EXPECT_EQ(Server::Start(tcp, {{"d", d, ""}}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(NbdTest, MisbehavingClientsDoNotDisturbAGoodOne) {
  StartDefault();
  TestClient good = Client();
  good.Connect("disk");
  ASSERT_EQ(good.Write(0, Pattern(8192, 1)), 0u);

  {  // garbage instead of client flags and options
    TestClient g = Client();
    g.Recv(18);
    g.Send(std::vector<uint8_t>(64, 0xff));
    EXPECT_TRUE(g.Closed());
  }
  {  // disconnects mid-handshake
    TestClient h = Client();
    h.Greet();
    h.Send({0x49, 0x48, 0x41});
  }
  {  // disconnects in the middle of a write payload
    TestClient w = Client();
    w.Connect("disk");
    w.SendRequest(0, kCmdWrite, 1, 4096, 65536, Pattern(1000, 9));
  }
  {  // a truncated request header
    TestClient t = Client();
    t.Connect("disk");
    t.Send({0x25, 0x60, 0x95, 0x13, 0, 0});
  }
  {  // garbage after a good GO
    TestClient x = Client();
    x.Connect("disk");
    x.Send(Pattern(4096, 0));
    EXPECT_TRUE(x.Closed());
  }
  // The good client still works, and the half-sent write changed nothing.
  std::vector<uint8_t> out;
  ASSERT_EQ(good.Write(8192, Pattern(4096, 2)), 0u);
  EXPECT_EQ(good.Read(0, 8192, &out), 0u);
  EXPECT_EQ(out, Pattern(8192, 1));
  EXPECT_EQ(good.Read(8192, 4096, &out), 0u);
  EXPECT_EQ(out, Pattern(4096, 2));
}

TEST_F(NbdTest, WriteRequestTruncatedAtEveryLengthWritesNothing) {
  StartDefault();
  std::vector<uint8_t> request(28 + 512);
  PutU32(request.data(), kRequestMagic);
  PutU16(request.data() + 6, kCmdWrite);
  PutU64(request.data() + 8, 1);
  PutU64(request.data() + 16, 65536);
  PutU32(request.data() + 24, 512);
  std::fill(request.begin() + 28, request.end(), 0xa5);
  for (size_t n = 0; n < request.size(); ++n) {
    TestClient c = Client();
    c.Connect("disk");
    c.Send(std::vector<uint8_t>(request.begin(), request.begin() + n));
  }  // each client hangs up mid-request
  TestClient good = Client();
  good.Connect("disk");
  std::vector<uint8_t> out;
  EXPECT_EQ(good.Read(65536, 512, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(512, 0));
  // The whole request, for contrast, does write.
  good.Send(request);
  auto r = good.ReadSimpleReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, 0u);
  EXPECT_EQ(good.Read(65536, 512, &out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(512, 0xa5));
}

TEST_F(NbdTest, RandomBytesNeverHurtTheServer) {
  StartDefault();
  TestClient good = Client();
  good.Connect("disk");
  std::mt19937 rng(1234);
  for (int i = 0; i < 200; ++i) {
    TestClient c = Client();
    const int phase = i % 3;  // garbage instead of flags, of options, of requests
    if (phase >= 1) c.Greet();
    if (phase == 2) {
      c.SendOption(kOptExportName, {'d', 'i', 's', 'k'});
      c.Recv(10);
    }
    std::vector<uint8_t> junk(rng() % 2048);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    // Sometimes a valid-looking magic first, to get past the first check.
    if (junk.size() >= 8 && i % 2 == 0) {
      if (phase == 1) PutU64(junk.data(), kIHaveOpt);
      if (phase == 2) PutU32(junk.data(), kRequestMagic);
    }
    c.Send(junk);
  }
  EXPECT_EQ(good.Write(0, Pattern(4096, 3)), 0u);
  std::vector<uint8_t> out;
  EXPECT_EQ(good.Read(0, 4096, &out), 0u);
  EXPECT_EQ(out, Pattern(4096, 3));
}

TEST_F(NbdTest, ConcurrentClientsOnOneExport) {
  StartDefault();
  constexpr int kClients = 4;
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([this, i] {
      TestClient c = Client();
      c.Connect("disk");
      for (int round = 0; round < 20; ++round) {
        const uint64_t offset = (uint64_t(i) * 20 + round) * 16384;
        const auto data = Pattern(16384, static_cast<uint8_t>(i * 31 + round));
        EXPECT_EQ(c.Write(offset, data), 0u);
        std::vector<uint8_t> out;
        EXPECT_EQ(c.Read(offset, 16384, &out), 0u);
        EXPECT_EQ(out, data);
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every client's data is in the file.
  for (int i = 0; i < kClients; ++i) {
    for (int round = 0; round < 20; ++round) {
      const uint64_t offset = (uint64_t(i) * 20 + round) * 16384;
      std::vector<uint8_t> got(16384);
      ASSERT_TRUE(disk_->Read(offset, got).ok());
      EXPECT_EQ(got, Pattern(16384, static_cast<uint8_t>(i * 31 + round)));
    }
  }
}

TEST_F(NbdTest, ExportsAreServedByName) {
  FileDevice* a = AddFile("a");
  FileDevice* b = AddFile("b");
  StartServer({{"alpha", a, ""}, {"beta", b, ""}});
  TestClient ca = Client();
  ca.Connect("alpha");
  TestClient cb = Client();
  cb.Connect("beta");
  EXPECT_EQ(ca.Write(0, Pattern(512, 1)), 0u);
  EXPECT_EQ(cb.Write(0, Pattern(512, 2)), 0u);
  std::vector<uint8_t> got(512);
  ASSERT_TRUE(a->Read(0, got).ok());
  EXPECT_EQ(got, Pattern(512, 1));
  ASSERT_TRUE(b->Read(0, got).ok());
  EXPECT_EQ(got, Pattern(512, 2));
  // With two exports the empty name is unknown.
  TestClient d = Client();
  d.Greet();
  d.SendOption(kOptGo, TestClient::InfoData("", {}));
  auto r = d.ReadOptionReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, kRepErrUnknown);
}

TEST_F(NbdTest, ConnectionLimitRefusesExtraClients) {
  disk_ = AddFile("disk");
  ServerOptions options;
  options.max_connections = 1;
  StartServer({{"disk", disk_, ""}}, options);
  TestClient first = Client();
  first.Connect("disk");
  TestClient second = Client();
  EXPECT_TRUE(second.Closed());
  EXPECT_EQ(first.Command(kCmdFlush, 0, 0), 0u);
}

TEST_F(NbdTest, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  disk_ = AddFile("disk");
  ServerOptions options;
  options.handshake_timeout = std::chrono::seconds(1);
  StartServer({{"disk", disk_, ""}}, options);
  TestClient c = Client();
  c.Recv(18);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.Closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  // An idle client in transmission is not dropped.
  TestClient idle = Client();
  idle.Connect("disk");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(idle.Command(kCmdFlush, 0, 0), 0u);
}

TEST_F(NbdTest, ShutdownFinishesTheInFlightRequestThenCloses) {
  WrappedDevice slow(AddFile("slow"));
  slow.write_delay_ = std::chrono::milliseconds(500);
  StartServer({{"slow", &slow, ""}});
  TestClient c = Client();
  c.Connect("slow");
  TestClient idle = Client();
  idle.Connect("slow");
  c.SendRequest(0, kCmdWrite, 42, 0, 4096, Pattern(4096, 8));
  while (slow.writes_started_.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread stopper([this] { server_->Shutdown(); });
  auto r = c.ReadSimpleReply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->handle, 42u);
  EXPECT_EQ(r->error, 0u);
  EXPECT_TRUE(c.Closed());
  EXPECT_TRUE(idle.Closed());
  stopper.join();
  EXPECT_EQ(server_->connections(), 0);
  std::vector<uint8_t> got(4096);
  ASSERT_TRUE(slow.Read(0, got).ok());
  EXPECT_EQ(got, Pattern(4096, 8));
  // No one can connect any more.
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_NE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
}

}  // namespace
}  // namespace vmcrypt::nbd::testing
