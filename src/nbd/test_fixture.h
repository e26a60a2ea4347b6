// A gtest fixture for the NBD tests: a temp folder, raw image files served by
// an nbd::Server on a unix socket, and helpers to reach them. Test only.
#ifndef VMCRYPT_SRC_NBD_TEST_FIXTURE_H_
#define VMCRYPT_SRC_NBD_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_client.h"
#include "vmcrypt/nbd/file_device.h"
#include "vmcrypt/nbd/server.h"

namespace vmcrypt::nbd::testing {

// Wraps a device to change what it advertises or to slow it down.
class WrappedDevice : public BlockDevice {
 public:
  explicit WrappedDevice(BlockDevice* inner) : inner_(inner) {}
  uint64_t size() const override { return inner_->size(); }
  uint32_t block_size() const override { return inner_->block_size(); }
  uint32_t min_block_size() const override { return min_block_; }
  bool read_only() const override { return read_only_; }
  Status Read(uint64_t offset, std::span<uint8_t> out) override {
    return inner_->Read(offset, out);
  }
  Status Write(uint64_t offset, std::span<const uint8_t> data, bool fua) override {
    writes_started_++;
    std::this_thread::sleep_for(write_delay_);
    if (fail_writes_) return InternalError("injected failure at /secret/path");
    return inner_->Write(offset, data, fua);
  }
  Status Flush() override {
    flushes_++;
    return inner_->Flush();
  }
  Status Trim(uint64_t offset, uint64_t length) override { return inner_->Trim(offset, length); }
  Status WriteZeroes(uint64_t offset, uint64_t length, bool fua) override {
    write_zeroes_++;
    return inner_->WriteZeroes(offset, length, fua);
  }

  uint32_t min_block_ = 1;
  bool read_only_ = false;
  bool fail_writes_ = false;
  std::chrono::milliseconds write_delay_{0};
  std::atomic<int> writes_started_{0};
  std::atomic<int> flushes_{0};
  std::atomic<int> write_zeroes_{0};

 private:
  BlockDevice* inner_;
};

class NbdTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 4 << 20;

  void SetUp() override {
    char tmpl[] = "/tmp/nbd_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/nbd.sock";
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Creates a sparse raw image `name`.img of `size` bytes.
  FileDevice* AddFile(const std::string& name, uint64_t size = kSize) {
    auto dev = FileDevice::Create(dir_ + "/" + name + ".img", size);
    EXPECT_TRUE(dev.ok()) << dev.status().ToString();
    devices_.push_back(std::move(*dev));
    return devices_.back().get();
  }

  // Serves `exports` on the unix socket.
  void StartServer(std::vector<Export> exports, ServerOptions options = {}) {
    if (options.listen.empty()) options.unix_path = socket_;
    auto server = Server::Start(options, std::move(exports), [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // One export "disk" over a fresh image.
  void StartDefault() {
    disk_ = AddFile("disk");
    StartServer({{"disk", disk_, "test disk"}});
  }

  TestClient Client() { return TestClient::Unix(socket_); }

  std::vector<std::string> Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  std::string dir_;
  std::string socket_;
  std::vector<std::unique_ptr<FileDevice>> devices_;
  FileDevice* disk_ = nullptr;
  std::unique_ptr<Server> server_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

inline std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 9));
  return v;
}

}  // namespace vmcrypt::nbd::testing

#endif  // VMCRYPT_SRC_NBD_TEST_FIXTURE_H_
