// A tiny raw-socket NBD client for tests: it sends and reads exact bytes so
// the tests can check the server's wire format and its error paths. Test
// only; fails the current gtest on I/O errors rather than returning them.
#ifndef VMCRYPT_SRC_NBD_TEST_CLIENT_H_
#define VMCRYPT_SRC_NBD_TEST_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "socket_io.h"

namespace vmcrypt::nbd::testing {

struct OptionReply {
  uint64_t magic = 0;
  uint32_t option = 0;
  uint32_t type = 0;
  std::vector<uint8_t> data;
};

struct SimpleReply {
  uint32_t magic = 0;
  uint32_t error = 0;
  uint64_t handle = 0;
};

struct Chunk {
  uint32_t magic = 0;
  uint16_t flags = 0;
  uint16_t type = 0;
  uint64_t handle = 0;
  std::vector<uint8_t> payload;
};

uint16_t GetU16(const uint8_t* p);
uint32_t GetU32(const uint8_t* p);
uint64_t GetU64(const uint8_t* p);

class TestClient {
 public:
  static TestClient Unix(const std::string& path);
  static TestClient Tcp(uint16_t port);

  int fd() const { return fd_.get(); }
  bool ok() const { return fd_.valid(); }

  void Send(const std::vector<uint8_t>& bytes);
  // Reads exactly n bytes; std::nullopt if the server closed first.
  std::optional<std::vector<uint8_t>> Recv(size_t n);
  // True when the server has closed the connection (reads EOF within 5 s).
  bool Closed();

  // Reads the 18-byte greeting and sends the client flags.
  std::vector<uint8_t> Greet(uint32_t client_flags = 3);
  void SendOption(uint32_t option, const std::vector<uint8_t>& data);
  std::optional<OptionReply> ReadOptionReply();
  // NBD_OPT_GO/INFO data for `name` with the given information requests.
  static std::vector<uint8_t> InfoData(const std::string& name, std::vector<uint16_t> requests);
  // Greet, optionally negotiate structured replies, GO to `name` asking for
  // block sizes; returns the NBD_INFO_EXPORT transmission flags (or 0xffff..
  // on failure, with a gtest failure).
  uint64_t Connect(const std::string& name, bool structured = false);

  void SendRequest(uint16_t flags, uint16_t type, uint64_t handle, uint64_t offset, uint32_t length,
                   const std::vector<uint8_t>& payload = {});
  std::optional<SimpleReply> ReadSimpleReply();
  std::optional<Chunk> ReadChunk();

  // Convenience round trips with simple replies; return the NBD error.
  uint32_t Write(uint64_t offset, const std::vector<uint8_t>& data, uint16_t flags = 0);
  uint32_t Read(uint64_t offset, uint32_t length, std::vector<uint8_t>* out);
  uint32_t Command(uint16_t type, uint64_t offset, uint32_t length, uint16_t flags = 0);

 private:
  explicit TestClient(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  uint64_t next_handle_ = 1;
};

}  // namespace vmcrypt::nbd::testing

#endif  // VMCRYPT_SRC_NBD_TEST_CLIENT_H_
