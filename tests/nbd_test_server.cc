// nbd_test_server: serves raw image files over NBD, for the QEMU
// interoperability test (tests/nbd_qemu_test.sh) and the benchmark
// (bench/nbd_bench.sh). Test only; `vmcrypt disk serve` is the real command.
//
//   nbd_test_server (--socket PATH | --listen HOST:PORT) [--read-only]
//                   [--min-block N] FILE...
//
// Each FILE is exported under its base name without the extension (or
// NAME=FILE to choose). Prints "ready port=N" on stdout once accepting
// (N is 0 on a unix socket), logs to stderr, and shuts down gracefully on
// SIGTERM or SIGINT. --min-block N makes the exports refuse requests not
// aligned to N bytes, as an encrypted disk with N-byte sectors would.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vmcrypt/nbd/file_device.h"
#include "vmcrypt/nbd/server.h"

using vmcrypt::Status;
using vmcrypt::nbd::BlockDevice;
using vmcrypt::nbd::Export;
using vmcrypt::nbd::FileDevice;
using vmcrypt::nbd::Server;
using vmcrypt::nbd::ServerOptions;

namespace {

// A FileDevice that advertises a larger minimum block size.
class AlignedDevice : public BlockDevice {
 public:
  AlignedDevice(std::unique_ptr<FileDevice> inner, uint32_t min_block)
      : inner_(std::move(inner)), min_block_(min_block) {}
  uint64_t size() const override { return inner_->size(); }
  uint32_t block_size() const override { return std::max<uint32_t>(4096, min_block_); }
  uint32_t min_block_size() const override { return min_block_; }
  bool read_only() const override { return inner_->read_only(); }
  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    if (offset % min_block_ != 0 || out.size() % min_block_ != 0) std::abort();
    return inner_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const uint8_t> data, bool fua) override {
    if (offset % min_block_ != 0 || data.size() % min_block_ != 0) std::abort();
    return inner_->Write(offset, data, fua);
  }
  Status Flush() override { return inner_->Flush(); }
  Status Trim(uint64_t offset, uint64_t length) override { return inner_->Trim(offset, length); }
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override {
    return inner_->WriteZeroes(offset, length, fua);
  }

 private:
  std::unique_ptr<FileDevice> inner_;
  uint32_t min_block_;
};

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  bool read_only = false;
  uint32_t min_block = 1;
  std::vector<std::pair<std::string, std::string>> files;  // name, path
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--socket" && i + 1 < argc) {
      options.unix_path = argv[++i];
    } else if (arg == "--listen" && i + 1 < argc) {
      options.listen = argv[++i];
    } else if (arg == "--min-block" && i + 1 < argc) {
      min_block = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (arg == "--read-only") {
      read_only = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(
          stderr,
          "usage: %s (--socket PATH | --listen HOST:PORT) [--read-only] [--min-block N] FILE...\n",
          argv[0]);
      return 2;
    } else if (const size_t eq = arg.find('='); eq != std::string::npos) {
      files.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
    } else {
      files.emplace_back(std::filesystem::path(arg).stem().string(), arg);
    }
  }

  std::vector<std::unique_ptr<BlockDevice>> devices;
  std::vector<Export> exports;
  for (const auto& [name, path] : files) {
    auto dev = FileDevice::Open(path, read_only);
    if (!dev.ok()) {
      std::fprintf(stderr, "nbd_test_server: %s\n", dev.status().ToString().c_str());
      return 1;
    }
    if (min_block > 1) {
      devices.push_back(std::make_unique<AlignedDevice>(std::move(*dev), min_block));
    } else {
      devices.push_back(std::move(*dev));
    }
    exports.push_back({name, devices.back().get(), path});
  }

  // Block the signals before any thread starts so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = Server::Start(options, std::move(exports), [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  if (!server.ok()) {
    std::fprintf(stderr, "nbd_test_server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("ready port=%u\n", (*server)->port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "nbd_test_server: signal %d, shutting down\n", sig);
  (*server)->Shutdown();
  return 0;
}
