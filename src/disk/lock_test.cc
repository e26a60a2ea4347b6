// The advisory lock on a disk's header file (src/disk/io.h LockDisk): one
// writer per disk across processes, readers shared, the tools refused while
// the disk is open elsewhere, the lock gone when the disk is closed.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "src/disk/test_util.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/tools.h"

namespace vmcrypt::disk {
namespace {

using testing::Pattern;
using testing::TempDir;
using testing::TestKek;
using testing::WriteAll;

constexpr uint64_t kMiB = 1 << 20;

Result<std::unique_ptr<EncryptedDisk>> OpenDisk(const std::string& path, bool read_only) {
  OpenOptions o;
  o.read_only = read_only;
  return EncryptedDisk::Open(path, SingleKek(TestKek(1)), o);
}

// Expects `s` to be the "in use" refusal naming `path`.
void ExpectInUse(const Status& s, const std::string& path) {
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(s.message(), "disk " + path + " is in use by another process");
}

std::vector<uint8_t> ReadBack(EncryptedDisk& d, uint64_t off, size_t n) {
  std::vector<uint8_t> out(n);
  EXPECT_TRUE(d.Read(off, out).ok());
  return out;
}

class DiskLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("disk.img");
    ASSERT_TRUE(CreateDisk(path_, 4 * kMiB, TestKek(1), {"prov", "key-1"}).ok());
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(DiskLockTest, AWritableDiskRefusesEveryOtherOpenAndTool) {
  auto d = OpenDisk(path_, false);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const auto data = Pattern(3 * 4096, 7);
  ASSERT_TRUE((*d)->Write(kMiB, data, true).ok());

  ExpectInUse(OpenDisk(path_, false).status(), path_);
  ExpectInUse(OpenDisk(path_, true).status(), path_);
  ExpectInUse(DeepRekey(path_, TestKek(1)), path_);
  ExpectInUse(ShallowRekey(path_, TestKek(1), TestKek(2), {"prov", "key-2"}), path_);
  ExpectInUse(DecryptInPlace(path_, TestKek(1)), path_);
  const std::string out = dir_.File("plain.raw");
  ExpectInUse(DecryptToFile(path_, out, TestKek(1)), path_);
  EXPECT_NE(access(out.c_str(), F_OK), 0);
  EXPECT_NE(access((out + ".partial").c_str(), F_OK), 0);

  // The open disk is untouched, and its own deep rekey runs under its lock.
  EXPECT_EQ(ReadBack(**d, kMiB, data.size()), data);
  ASSERT_TRUE((*d)->BeginDeepRekey(TestKek(1)).ok());
  for (;;) {
    auto done = (*d)->DeepRekeyStep();
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    if (*done) break;
  }
  EXPECT_EQ(ReadBack(**d, kMiB, data.size()), data);

  // Closed: the lock is gone and the tools run.
  d->reset();
  ASSERT_TRUE(ShallowRekey(path_, TestKek(1), TestKek(2), {"prov", "key-2"}).ok());
  auto again = EncryptedDisk::Open(path_, SingleKek(TestKek(2)));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(ReadBack(**again, kMiB, data.size()), data);
}

TEST_F(DiskLockTest, ReadOnlyOpensShareTheDiskButKeepWritersOut) {
  auto r1 = OpenDisk(path_, true);
  auto r2 = OpenDisk(path_, true);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ExpectInUse(OpenDisk(path_, false).status(), path_);
  ExpectInUse(DeepRekey(path_, TestKek(1)), path_);
  // A reader may copy the plaintext out beside another reader.
  EXPECT_TRUE(DecryptToFile(path_, dir_.File("copy.raw"), TestKek(1)).ok());
  r1->reset();
  ExpectInUse(OpenDisk(path_, false).status(), path_);
  r2->reset();
  EXPECT_TRUE(OpenDisk(path_, false).ok());
}

TEST_F(DiskLockTest, ADetachedDiskIsLockedThroughItsHeaderFile) {
  const std::string raw = dir_.File("vm.raw");
  const auto data = Pattern(2 * kMiB, 3);
  WriteAll(raw, data);
  ASSERT_TRUE(EncryptInPlace(raw, TestKek(1), {"prov", "key-1"}).ok());
  auto d = OpenDisk(raw, false);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->paths().header_path, raw + ".hdr");
  ExpectInUse(DecryptInPlace(raw, TestKek(1)), raw);
  ExpectInUse(EncryptInPlace(raw, TestKek(1), {"prov", "key-1"}), raw);
  ExpectInUse(OpenDisk(raw, true).status(), raw);
  d->reset();
  ASSERT_TRUE(DecryptInPlace(raw, TestKek(1)).ok());
  EXPECT_EQ(testing::ReadAll(raw), data);
}

// The lock holds across processes: a forked child cannot open the disk
// while the parent has it open, and can once the parent closed it.
TEST_F(DiskLockTest, AnotherProcessIsRefusedUntilTheDiskIsClosed) {
  auto child_open = [this]() -> int {
    pid_t pid = fork();
    if (pid == 0) {
      auto d = OpenDisk(path_, false);
      if (d.ok()) _exit(0);
      _exit(d.status().code() == StatusCode::kFailedPrecondition ? 2 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  auto d = OpenDisk(path_, false);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(child_open(), 2);
  d->reset();
  EXPECT_EQ(child_open(), 0);
}

}  // namespace
}  // namespace vmcrypt::disk
