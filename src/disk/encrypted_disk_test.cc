#include "vmcrypt/disk/encrypted_disk.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "src/disk/test_util.h"
#include "vmcrypt/disk/header.h"
#include "vmcrypt/disk/tools.h"

namespace vmcrypt::disk {
namespace {

using testing::AllocatedBytes;
using testing::Contains;
using testing::FlipByte;
using testing::Pattern;
using testing::ReadAll;
using testing::TempDir;
using testing::TestKek;

constexpr uint64_t kMiB = 1 << 20;

std::unique_ptr<EncryptedDisk> OpenOk(const std::string& path, uint8_t kek_seed = 1) {
  auto d = EncryptedDisk::Open(path, SingleKek(TestKek(kek_seed)));
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? std::move(d).value() : nullptr;
}

// The DEK(s) of a disk, unwrapped from its header by the test itself.
std::vector<SecretBytes> DeksOf(const std::string& header_path, uint8_t kek_seed) {
  const auto bytes = ReadAll(header_path);
  std::vector<SecretBytes> out;
  auto d = DecodeHeader(std::span(bytes).first(kHeaderCopySize));
  if (!d.ok()) return out;
  for (const auto& e : d->header.entries) {
    auto k = UnwrapDek(e, TestKek(kek_seed));
    if (k.ok()) out.push_back(std::move(k).value());
  }
  return out;
}

class EncryptedDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("disk.img");
    ASSERT_TRUE(CreateDisk(path_, 8 * kMiB, TestKek(1), {"prov", "key-1"}).ok());
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(EncryptedDiskTest, UnwrittenSectorsReadAsZeros) {
  auto disk = OpenOk(path_);
  ASSERT_NE(disk, nullptr);
  EXPECT_EQ(disk->size(), 8 * kMiB);
  std::vector<uint8_t> buf(3 * 4096 + 5, 0xee);
  ASSERT_TRUE(disk->Read(4096 * 7 + 3, buf).ok());
  EXPECT_EQ(buf, std::vector<uint8_t>(buf.size(), 0));
}

TEST_F(EncryptedDiskTest, WriteReadRoundTripAlignedAndUnaligned) {
  auto disk = OpenOk(path_);
  ASSERT_NE(disk, nullptr);
  const auto a = Pattern(64 * 1024, 1);
  ASSERT_TRUE(disk->Write(kMiB - 8192, a, false).ok());  // spans two chunks
  const auto b = Pattern(777, 2);
  ASSERT_TRUE(disk->Write(kMiB + 100, b, true).ok());  // inside a, unaligned
  std::vector<uint8_t> expected = a;
  std::copy(b.begin(), b.end(), expected.begin() + 8192 + 100);
  std::vector<uint8_t> got(a.size());
  ASSERT_TRUE(disk->Read(kMiB - 8192, got).ok());
  EXPECT_EQ(got, expected);
  // After reopening, the same bytes.
  disk.reset();
  disk = OpenOk(path_);
  std::vector<uint8_t> again(a.size());
  ASSERT_TRUE(disk->Read(kMiB - 8192, again).ok());
  EXPECT_EQ(again, expected);
  // Neither the plaintext nor key material is in the file.
  const auto file = ReadAll(path_);
  EXPECT_FALSE(Contains(file, std::span(a).first(64)));
  for (const SecretBytes& dek : DeksOf(path_, 1)) {
    EXPECT_FALSE(Contains(file, dek.span().first(16)));
    EXPECT_FALSE(Contains(file, dek.span().last(16)));
  }
  EXPECT_FALSE(Contains(file, TestKek(1).span().first(16)));
}

TEST_F(EncryptedDiskTest, OutOfRangeAndReadOnly) {
  auto disk = OpenOk(path_);
  std::vector<uint8_t> buf(4096);
  EXPECT_EQ(disk->Read(8 * kMiB - 100, buf).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(disk->Write(8 * kMiB, buf, false).code(), StatusCode::kOutOfRange);
  disk.reset();
  OpenOptions ro;
  ro.read_only = true;
  auto r = EncryptedDisk::Open(path_, SingleKek(TestKek(1)), ro);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->read_only());
  EXPECT_FALSE((*r)->Write(0, buf, false).ok());
}

TEST_F(EncryptedDiskTest, SparseUntilWrittenAndTrimPunchesHoles) {
  const std::string big = dir_.File("big.img");
  ASSERT_TRUE(CreateDisk(big, uint64_t{100} << 30, TestKek(1), {"", "k"}).ok());
  EXPECT_LT(AllocatedBytes(big), 1 * kMiB);
  auto disk = OpenOk(big);
  ASSERT_NE(disk, nullptr);
  const auto data = Pattern(4 * kMiB, 3);
  ASSERT_TRUE(disk->Write(uint64_t{50} << 30, data, true).ok());
  EXPECT_GE(AllocatedBytes(big), 4 * kMiB);
  // Writing zeros and trimming deallocate.
  ASSERT_TRUE(disk->Write(uint64_t{50} << 30, std::vector<uint8_t>(kMiB, 0), false).ok());
  ASSERT_TRUE(disk->Trim((uint64_t{50} << 30) + kMiB + 100, 3 * kMiB - 100).ok());
  EXPECT_LT(AllocatedBytes(big), 1 * kMiB);
  std::vector<uint8_t> got(4 * kMiB);
  ASSERT_TRUE(disk->Read(uint64_t{50} << 30, got).ok());
  std::vector<uint8_t> expected(4 * kMiB, 0);
  std::copy_n(data.begin() + kMiB, 100, expected.begin() + kMiB);
  EXPECT_EQ(got, expected);
  ASSERT_TRUE(disk->WriteZeroes(uint64_t{50} << 30, kMiB + 100, true).ok());
  ASSERT_TRUE(disk->Read(uint64_t{50} << 30, got).ok());
  EXPECT_EQ(got, std::vector<uint8_t>(got.size(), 0));
}

TEST_F(EncryptedDiskTest, WrongKekNamesProviderAndKeyId) {
  auto r = EncryptedDisk::Open(path_, SingleKek(TestKek(9)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("provider \"prov\", key id \"key-1\""), std::string::npos)
      << r.status().message();
}

TEST_F(EncryptedDiskTest, FlippedByteInOneCopyUsesTheOtherAndRepairs) {
  const auto data = Pattern(8192, 4);
  {
    auto disk = OpenOk(path_);
    ASSERT_TRUE(disk->Write(0, data, true).ok());
  }
  const auto pristine = ReadAll(path_);
  // Byte offsets: magic, the size, inside the key safe (key id), inside the
  // wrapped DEK, the MAC.
  for (uint64_t copy : {uint64_t{0}, uint64_t{4096}}) {
    for (uint64_t off : {0, 44, 150, 170, 230, 260}) {
      FlipByte(path_, copy + off);
      auto disk = OpenOk(path_);
      ASSERT_NE(disk, nullptr) << copy << "+" << off;
      EXPECT_TRUE(disk->header_repaired());
      std::vector<uint8_t> got(data.size());
      ASSERT_TRUE(disk->Read(0, got).ok());
      EXPECT_EQ(got, data);
      disk.reset();
      const auto repaired = ReadAll(path_);
      EXPECT_TRUE(std::equal(repaired.begin(), repaired.begin() + 8192, pristine.begin()))
          << copy << "+" << off;
    }
  }
}

// Recomputes a header copy's checksum after an edit, as an attacker would.
void ResealCopy(const std::string& path, uint64_t base) {
  auto file = ReadAll(path);
  std::vector<uint8_t> copy(file.begin() + base, file.begin() + base + kHeaderCopySize);
  const size_t n = (copy[10] << 8) | copy[11];
  const auto sum = Sha256(std::span(copy).first(n - 32));
  std::copy(sum.begin(), sum.end(), file.begin() + base + (n - 32));
  testing::WriteAll(path, file);
}

TEST_F(EncryptedDiskTest, ResealedDamageToAWrappedKeyFallsBackToTheOtherCopy) {
  FlipByte(path_, 170);  // copy A's wrapped DEK
  ResealCopy(path_, 0);
  auto disk = OpenOk(path_);
  ASSERT_NE(disk, nullptr);
  EXPECT_TRUE(disk->header_repaired());
}

TEST_F(EncryptedDiskTest, InterruptedShallowRekeyOpensOnlyWithTheNewKek) {
  const auto before = ReadAll(path_);
  ASSERT_TRUE(ShallowRekey(path_, TestKek(1), TestKek(2), {"prov", "key-2"}).ok());
  // Put the old copy B back: the state after a crash between the two writes.
  auto file = ReadAll(path_);
  std::copy(before.begin() + 4096, before.begin() + 8192, file.begin() + 4096);
  testing::WriteAll(path_, file);
  auto old_kek = EncryptedDisk::Open(path_, SingleKek(TestKek(1)));
  ASSERT_FALSE(old_kek.ok());
  EXPECT_NE(old_kek.status().message().find("key id \"key-2\""), std::string::npos)
      << old_kek.status().message();
  auto disk = OpenOk(path_, 2);
  ASSERT_NE(disk, nullptr);
  EXPECT_TRUE(disk->header_repaired());
  disk.reset();
  EXPECT_FALSE(EncryptedDisk::Open(path_, SingleKek(TestKek(1))).ok());
}

TEST_F(EncryptedDiskTest, SameFlipInBothCopiesIsAClearError) {
  FlipByte(path_, 150);
  FlipByte(path_, 4096 + 150);
  auto r = EncryptedDisk::Open(path_, SingleKek(TestKek(1)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("no valid header"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
}

TEST_F(EncryptedDiskTest, TruncatedFileIsAClearError) {
  ASSERT_EQ(truncate(path_.c_str(), kAttachedDataOffset + 4 * kMiB), 0);
  auto r = EncryptedDisk::Open(path_, SingleKek(TestKek(1)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos);
  // Copy B cut short: copy A still opens the header, the data is missing.
  ASSERT_EQ(truncate(path_.c_str(), 5000), 0);
  r = EncryptedDisk::Open(path_, SingleKek(TestKek(1)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  ASSERT_EQ(truncate(path_.c_str(), 2000), 0);
  r = EncryptedDisk::Open(path_, SingleKek(TestKek(1)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no valid header"), std::string::npos)
      << r.status().message();
}

TEST_F(EncryptedDiskTest, DeepRekeyOfASparseDiskSkipsHoles) {
  const std::string big = dir_.File("big.img");
  ASSERT_TRUE(CreateDisk(big, uint64_t{100} << 30, TestKek(1), {"", "k"}).ok());
  auto disk = OpenOk(big);
  ASSERT_NE(disk, nullptr);
  const auto a = Pattern(2 * kMiB, 7);
  const auto b = Pattern(4096, 8);
  ASSERT_TRUE(disk->Write(uint64_t{50} << 30, a, false).ok());
  ASSERT_TRUE(disk->Write((uint64_t{100} << 30) - 4096, b, false).ok());
  ASSERT_TRUE(disk->BeginDeepRekey(TestKek(1)).ok());
  int steps = 0;
  for (;;) {
    auto done = disk->DeepRekeyStep();
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    ++steps;
    if (*done) break;
    ASSERT_LT(steps, 50) << "holes are not skipped";
  }
  std::vector<uint8_t> got(a.size());
  ASSERT_TRUE(disk->Read(uint64_t{50} << 30, got).ok());
  EXPECT_EQ(got, a);
  std::vector<uint8_t> got_b(4096);
  ASSERT_TRUE(disk->Read((uint64_t{100} << 30) - 4096, got_b).ok());
  EXPECT_EQ(got_b, b);
  EXPECT_LT(AllocatedBytes(big), 8 * kMiB);
}

TEST_F(EncryptedDiskTest, DeepRekeyUnderConcurrentWrites) {
  auto disk = OpenOk(path_);
  ASSERT_NE(disk, nullptr);
  std::vector<uint8_t> model(8 * kMiB, 0);
  const auto base = Pattern(6 * kMiB, 5);
  ASSERT_TRUE(disk->Write(0, base, false).ok());
  std::copy(base.begin(), base.end(), model.begin());
  const auto old_deks = DeksOf(path_, 1);
  ASSERT_EQ(old_deks.size(), 1u);

  ASSERT_TRUE(disk->BeginDeepRekey(TestKek(1)).ok());
  // Two writers on disjoint stripes of the disk while the rekey runs; each
  // keeps its own model region, so the final check covers every byte.
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto writer = [&](int id) {
    uint32_t n = 0;
    while (!stop.load()) {
      const uint64_t off = (static_cast<uint64_t>(id) * 4 * kMiB) + (n * 12289) % (4 * kMiB - 9000);
      auto data = Pattern(9000, id * 1000 + n);
      if (!disk->Write(off, data, false).ok()) failures++;
      std::copy(data.begin(), data.end(), model.begin() + off);
      std::vector<uint8_t> back(9000);
      if (!disk->Read(off, back).ok() || back != data) failures++;
      ++n;
    }
  };
  std::thread t0(writer, 0), t1(writer, 1);
  for (;;) {
    auto done = disk->DeepRekeyStep();
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    if (*done) break;
  }
  stop = true;
  t0.join();
  t1.join();
  EXPECT_EQ(failures.load(), 0);
  std::vector<uint8_t> got(8 * kMiB);
  ASSERT_TRUE(disk->Read(0, got).ok());
  EXPECT_TRUE(got == model);
  EXPECT_EQ(disk->header().entries.size(), 1u);
  EXPECT_EQ(disk->header().operation, Operation::kNone);
  disk.reset();
  // A new DEK, and the data survives reopening.
  const auto new_deks = DeksOf(path_, 1);
  ASSERT_EQ(new_deks.size(), 1u);
  EXPECT_FALSE(new_deks[0].Equals(old_deks[0]));
  disk = OpenOk(path_);
  ASSERT_TRUE(disk->Read(0, got).ok());
  EXPECT_TRUE(got == model);
}

}  // namespace
}  // namespace vmcrypt::disk
