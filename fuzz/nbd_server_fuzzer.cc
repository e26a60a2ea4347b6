// Fuzz target: the NBD server's parsing of untrusted client bytes (option
// haggling in src/nbd/handshake.cc, request headers and payloads in
// src/nbd/transmission.cc).
//
// Those parsers read from a socket (there is no bytes-in function to call),
// so each input is played as one client session over a socketpair: a writer
// thread sends the input and half-closes, a drainer thread reads and drops
// every reply, and the connection runs on the other end with one export
// backed by memory, one request at a time (deterministic). The device aborts
// on any access outside the export, so a request the server failed to bound
// is found as a crash, as are sanitizer reports and hangs.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "src/nbd/connection.h"
#include "vmcrypt/nbd/block_device.h"
#include "vmcrypt/nbd/server.h"

namespace {

using vmcrypt::OkStatus;
using vmcrypt::Status;

constexpr uint64_t kExportSize = 256 * 1024;

// A BlockDevice in memory that aborts on an out-of-range access.
class MemoryDevice final : public vmcrypt::nbd::BlockDevice {
 public:
  MemoryDevice() : bytes_(kExportSize) {}
  uint64_t size() const override { return bytes_.size(); }
  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    Bound(offset, out.size());
    std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return OkStatus();
  }
  Status Write(uint64_t offset, std::span<const uint8_t> data, bool) override {
    Bound(offset, data.size());
    std::memcpy(bytes_.data() + offset, data.data(), data.size());
    return OkStatus();
  }
  Status Flush() override { return OkStatus(); }
  Status Trim(uint64_t offset, uint64_t length) override {
    return WriteZeroes(offset, length, false);
  }
  Status WriteZeroes(uint64_t offset, uint64_t length, bool) override {
    Bound(offset, length);
    std::memset(bytes_.data() + offset, 0, length);
    return OkStatus();
  }

 private:
  void Bound(uint64_t offset, uint64_t length) const {
    if (offset > bytes_.size() || length > bytes_.size() - offset) std::abort();
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)init;
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  const int server_fd = fds[0];
  const int client_fd = fds[1];

  std::thread writer([&] {
    size_t done = 0;
    while (done < size) {
      ssize_t n = send(client_fd, data + done, size - done, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server closed: the rest is never read
      done += static_cast<size_t>(n);
    }
    shutdown(client_fd, SHUT_WR);
  });
  std::thread drainer([&] {
    uint8_t buf[65536];
    while (recv(client_fd, buf, sizeof(buf), 0) > 0) {
    }
  });

  MemoryDevice device;
  const std::vector<vmcrypt::nbd::Export> exports = {{"disk", &device, "fuzzed export"}};
  vmcrypt::nbd::ServerOptions options;
  options.threads_per_connection = 1;
  options.handshake_timeout = std::chrono::seconds(5);
  options.send_timeout = std::chrono::seconds(5);
  // NBD_FUZZ_LOG=1 prints the connection's log (to see what an input does).
  static const bool verbose = std::getenv("NBD_FUZZ_LOG") != nullptr;
  const vmcrypt::nbd::Server::Logger log = [](const std::string& line) {
    if (verbose) std::fprintf(stderr, "nbd: %s\n", line.c_str());
  };
  {
    vmcrypt::nbd::Connection connection(server_fd, "fuzz", &exports, &options, &log);
    connection.Run();
  }
  shutdown(server_fd, SHUT_RDWR);
  writer.join();
  drainer.join();
  close(server_fd);
  close(client_fd);
  return 0;
}
