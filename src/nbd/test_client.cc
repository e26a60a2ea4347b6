#include "test_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "protocol.h"

namespace vmcrypt::nbd::testing {

using namespace proto;  // NOLINT

uint16_t GetU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t GetU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint64_t GetU64(const uint8_t* p) { return (uint64_t{GetU32(p)} << 32) | GetU32(p + 4); }

TestClient TestClient::Unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect " << path << ": " << std::strerror(errno);
    fd.Reset();
  }
  SetReceiveTimeout(fd.get(), std::chrono::seconds(10));
  return TestClient(std::move(fd));
}

TestClient TestClient::Tcp(uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect 127.0.0.1:" << port << ": " << std::strerror(errno);
    fd.Reset();
  }
  SetReceiveTimeout(fd.get(), std::chrono::seconds(10));
  return TestClient(std::move(fd));
}

void TestClient::Send(const std::vector<uint8_t>& bytes) {
  Status s = WriteFull(fd_.get(), bytes);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

std::optional<std::vector<uint8_t>> TestClient::Recv(size_t n) {
  std::vector<uint8_t> out(n);
  if (!ReadFull(fd_.get(), out).ok()) return std::nullopt;
  return out;
}

bool TestClient::Closed() {
  pollfd p{fd_.get(), POLLIN, 0};
  if (::poll(&p, 1, 5000) <= 0) return false;
  uint8_t b;
  const ssize_t n = ::recv(fd_.get(), &b, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

std::vector<uint8_t> TestClient::Greet(uint32_t client_flags) {
  auto hello = Recv(18);
  EXPECT_TRUE(hello.has_value());
  std::vector<uint8_t> flags(4);
  PutU32(flags.data(), client_flags);
  Send(flags);
  return hello.value_or(std::vector<uint8_t>{});
}

void TestClient::SendOption(uint32_t option, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> msg(16 + data.size());
  PutU64(msg.data(), kIHaveOpt);
  PutU32(msg.data() + 8, option);
  PutU32(msg.data() + 12, static_cast<uint32_t>(data.size()));
  std::copy(data.begin(), data.end(), msg.begin() + 16);
  Send(msg);
}

std::optional<OptionReply> TestClient::ReadOptionReply() {
  auto h = Recv(20);
  if (!h) return std::nullopt;
  OptionReply r;
  r.magic = GetU64(h->data());
  r.option = GetU32(h->data() + 8);
  r.type = GetU32(h->data() + 12);
  auto data = Recv(GetU32(h->data() + 16));
  if (!data) return std::nullopt;
  r.data = std::move(*data);
  return r;
}

std::vector<uint8_t> TestClient::InfoData(const std::string& name, std::vector<uint16_t> requests) {
  std::vector<uint8_t> d(4 + name.size() + 2 + 2 * requests.size());
  PutU32(d.data(), static_cast<uint32_t>(name.size()));
  std::memcpy(d.data() + 4, name.data(), name.size());
  PutU16(d.data() + 4 + name.size(), static_cast<uint16_t>(requests.size()));
  for (size_t i = 0; i < requests.size(); ++i) {
    PutU16(d.data() + 6 + name.size() + 2 * i, requests[i]);
  }
  return d;
}

uint64_t TestClient::Connect(const std::string& name, bool structured) {
  Greet();
  if (structured) {
    SendOption(kOptStructuredReply, {});
    auto r = ReadOptionReply();
    EXPECT_TRUE(r && r->type == kRepAck);
  }
  SendOption(kOptGo, InfoData(name, {kInfoBlockSize}));
  uint64_t flags = ~uint64_t{0};
  for (;;) {
    auto r = ReadOptionReply();
    if (!r) {
      ADD_FAILURE() << "connection closed during GO";
      return flags;
    }
    if (r->type == kRepAck) return flags;
    if (r->type != kRepInfo) {
      ADD_FAILURE() << "GO failed with reply type " << std::hex << r->type;
      return flags;
    }
    if (r->data.size() == 12 && GetU16(r->data.data()) == kInfoExport) {
      flags = GetU16(r->data.data() + 10);
    }
  }
}

void TestClient::SendRequest(uint16_t flags, uint16_t type, uint64_t handle, uint64_t offset,
                             uint32_t length, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> msg(28 + payload.size());
  PutU32(msg.data(), kRequestMagic);
  PutU16(msg.data() + 4, flags);
  PutU16(msg.data() + 6, type);
  PutU64(msg.data() + 8, handle);
  PutU64(msg.data() + 16, offset);
  PutU32(msg.data() + 24, length);
  std::copy(payload.begin(), payload.end(), msg.begin() + 28);
  Send(msg);
}

std::optional<SimpleReply> TestClient::ReadSimpleReply() {
  auto h = Recv(16);
  if (!h) return std::nullopt;
  return SimpleReply{GetU32(h->data()), GetU32(h->data() + 4), GetU64(h->data() + 8)};
}

std::optional<Chunk> TestClient::ReadChunk() {
  auto h = Recv(20);
  if (!h) return std::nullopt;
  Chunk c;
  c.magic = GetU32(h->data());
  c.flags = GetU16(h->data() + 4);
  c.type = GetU16(h->data() + 6);
  c.handle = GetU64(h->data() + 8);
  auto payload = Recv(GetU32(h->data() + 16));
  if (!payload) return std::nullopt;
  c.payload = std::move(*payload);
  return c;
}

uint32_t TestClient::Write(uint64_t offset, const std::vector<uint8_t>& data, uint16_t flags) {
  const uint64_t handle = next_handle_++;
  SendRequest(flags, kCmdWrite, handle, offset, static_cast<uint32_t>(data.size()), data);
  auto r = ReadSimpleReply();
  if (!r) {
    ADD_FAILURE() << "no reply to write";
    return ~0U;
  }
  EXPECT_EQ(r->magic, kSimpleReplyMagic);
  EXPECT_EQ(r->handle, handle);
  return r->error;
}

uint32_t TestClient::Read(uint64_t offset, uint32_t length, std::vector<uint8_t>* out) {
  const uint64_t handle = next_handle_++;
  SendRequest(0, kCmdRead, handle, offset, length);
  auto r = ReadSimpleReply();
  if (!r) {
    ADD_FAILURE() << "no reply to read";
    return ~0U;
  }
  EXPECT_EQ(r->magic, kSimpleReplyMagic);
  EXPECT_EQ(r->handle, handle);
  if (r->error == 0) {
    auto data = Recv(length);
    if (!data) {
      ADD_FAILURE() << "read data missing";
      return ~0U;
    }
    *out = std::move(*data);
  }
  return r->error;
}

uint32_t TestClient::Command(uint16_t type, uint64_t offset, uint32_t length, uint16_t flags) {
  const uint64_t handle = next_handle_++;
  SendRequest(flags, type, handle, offset, length);
  auto r = ReadSimpleReply();
  if (!r) {
    ADD_FAILURE() << "no reply to command " << type;
    return ~0U;
  }
  EXPECT_EQ(r->magic, kSimpleReplyMagic);
  EXPECT_EQ(r->handle, handle);
  return r->error;
}

}  // namespace vmcrypt::nbd::testing
