#include "vmcrypt/nbd/file_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "test_fixture.h"

namespace vmcrypt::nbd::testing {
namespace {

class FileDeviceTest : public NbdTest {};

TEST_F(FileDeviceTest, CreateIsSparseAndPrivate) {
  auto dev = FileDevice::Create(dir_ + "/a.img", 64 << 20);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ((*dev)->size(), 64u << 20);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/a.img").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);
  std::vector<uint8_t> out(4096, 0xff);
  ASSERT_TRUE((*dev)->Read(60 << 20, out).ok());
  EXPECT_EQ(out, std::vector<uint8_t>(4096, 0));
  EXPECT_FALSE(FileDevice::Create(dir_ + "/b.img", 1000).ok());  // not a multiple of 512
}

TEST_F(FileDeviceTest, WriteReadFlushAndBounds) {
  auto dev = FileDevice::Create(dir_ + "/a.img", 1 << 20);
  ASSERT_TRUE(dev.ok());
  const auto data = Pattern(10000, 4);
  ASSERT_TRUE((*dev)->Write(12345, data, true).ok());
  ASSERT_TRUE((*dev)->Flush().ok());
  std::vector<uint8_t> out(data.size());
  ASSERT_TRUE((*dev)->Read(12345, out).ok());
  EXPECT_EQ(out, data);
  std::vector<uint8_t> big(4096);
  EXPECT_EQ((*dev)->Read((1 << 20) - 100, big).code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*dev)->Write((1 << 20) - 100, big, false).code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*dev)->Trim(1 << 20, 1).code(), StatusCode::kOutOfRange);
}

TEST_F(FileDeviceTest, OpenExistingRoundsDownAndChecksKind) {
  {
    auto dev = FileDevice::Create(dir_ + "/a.img", 1 << 20);
    ASSERT_TRUE(dev.ok());
    ASSERT_TRUE((*dev)->Write(0, Pattern(512, 7), false).ok());
  }
  ASSERT_EQ(::truncate((dir_ + "/a.img").c_str(), (1 << 20) + 100), 0);
  auto dev = FileDevice::Open(dir_ + "/a.img");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ((*dev)->size(), 1u << 20);
  std::vector<uint8_t> out(512);
  ASSERT_TRUE((*dev)->Read(0, out).ok());
  EXPECT_EQ(out, Pattern(512, 7));

  EXPECT_EQ(FileDevice::Open(dir_ + "/missing.img").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(FileDevice::Open(dir_).status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(::truncate((dir_ + "/a.img").c_str(), 100), 0);
  EXPECT_EQ(FileDevice::Open(dir_ + "/a.img").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FileDeviceTest, ReadOnlyRefusesChanges) {
  { ASSERT_TRUE(FileDevice::Create(dir_ + "/a.img", 1 << 20).ok()); }
  auto dev = FileDevice::Open(dir_ + "/a.img", /*read_only=*/true);
  ASSERT_TRUE(dev.ok());
  EXPECT_TRUE((*dev)->read_only());
  EXPECT_EQ((*dev)->Write(0, Pattern(512, 1), false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*dev)->Trim(0, 512).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*dev)->WriteZeroes(0, 512, false).code(), StatusCode::kPermissionDenied);
}

TEST_F(FileDeviceTest, TrimAndWriteZeroesReadBackZeros) {
  auto dev = FileDevice::Create(dir_ + "/a.img", 4 << 20);
  ASSERT_TRUE(dev.ok());
  ASSERT_TRUE((*dev)->Write(0, Pattern(4 << 20, 2), false).ok());
  ASSERT_TRUE((*dev)->Trim(4096, 1 << 20).ok());
  ASSERT_TRUE((*dev)->WriteZeroes(2 << 20, 100, true).ok());  // unaligned: partial block zeroed
  std::vector<uint8_t> all(4 << 20);
  ASSERT_TRUE((*dev)->Read(0, all).ok());
  const auto expected_data = Pattern(4 << 20, 2);
  for (size_t i = 0; i < all.size(); ++i) {
    const bool zero =
        (i >= 4096 && i < 4096 + (1 << 20)) || (i >= (2 << 20) && i < (2 << 20) + 100);
    ASSERT_EQ(all[i], zero ? 0 : expected_data[i]) << "byte " << i;
  }
}

TEST_F(FileDeviceTest, ConcurrentWritersDoNotInterfere) {
  auto dev = FileDevice::Create(dir_ + "/a.img", 8 << 20);
  ASSERT_TRUE(dev.ok());
  FileDevice* d = dev->get();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([d, t] {
      for (int i = 0; i < 64; ++i) {
        const uint64_t offset = (uint64_t(i) * 4 + t) * 8192;
        EXPECT_TRUE(d->Write(offset, Pattern(8192, static_cast<uint8_t>(t + i)), false).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 64; ++i) {
      std::vector<uint8_t> out(8192);
      ASSERT_TRUE(d->Read((uint64_t(i) * 4 + t) * 8192, out).ok());
      EXPECT_EQ(out, Pattern(8192, static_cast<uint8_t>(t + i)));
    }
  }
}

}  // namespace
}  // namespace vmcrypt::nbd::testing
