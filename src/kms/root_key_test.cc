#include "vmcrypt/kms/root_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/test_dir.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"

namespace vmcrypt::kms {
namespace {

class RootKeyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(SoftwareRootKey::Generate(path_).ok()); }
  test::TestDir dir_{"rk"};
  const std::string path_ = dir_["root.key"];
};

TEST_F(RootKeyTest, FileIsPrivateAndRefusesToBeOverwritten) {
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(SoftwareRootKey::Generate(path_).code(), StatusCode::kAlreadyExists);
  chmod(path_.c_str(), 0644);
  auto loose = SoftwareRootKey::Load(path_);
  ASSERT_FALSE(loose.ok());
  EXPECT_EQ(loose.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(RootKeyTest, WrapsBoundToTheObjectAndDetectsTampering) {
  auto rk = SoftwareRootKey::Load(path_);
  ASSERT_TRUE(rk.ok()) << rk.status().ToString();
  EXPECT_EQ((*rk)->version(), 1u);
  const uint8_t kek[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                           17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  SecretBytes key{std::span<const uint8_t>(kek)};
  auto wrapped = (*rk)->Wrap(key, AsBytes("object-1"));
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->root_key_version, 1u);
  // The key bytes do not appear in the blob.
  std::string blob(wrapped->blob.begin(), wrapped->blob.end());
  EXPECT_EQ(blob.find(std::string(reinterpret_cast<const char*>(kek), 32)), std::string::npos);

  auto back = (*rk)->Unwrap(*wrapped, AsBytes("object-1"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->Equals(key));
  // Another object's identifier, a flipped byte, a truncated blob, an unknown
  // version: all refused, none with key bytes in the message.
  EXPECT_EQ((*rk)->Unwrap(*wrapped, AsBytes("object-2")).status().code(), StatusCode::kDataLoss);
  for (size_t i = 0; i < wrapped->blob.size(); ++i) {
    WrappedKey bad = *wrapped;
    bad.blob[i] ^= 0x01;
    ASSERT_EQ((*rk)->Unwrap(bad, AsBytes("object-1")).status().code(), StatusCode::kDataLoss);
  }
  WrappedKey cut = *wrapped;
  cut.blob.resize(cut.blob.size() - 1);
  EXPECT_EQ((*rk)->Unwrap(cut, AsBytes("object-1")).status().code(), StatusCode::kDataLoss);
  WrappedKey other_version = *wrapped;
  other_version.root_key_version = 2;
  EXPECT_EQ((*rk)->Unwrap(other_version, AsBytes("object-1")).status().code(),
            StatusCode::kNotFound);
  // Two wraps of one key differ (random IV).
  auto again = (*rk)->Wrap(key, AsBytes("object-1"));
  EXPECT_NE(again->blob, wrapped->blob);
}

TEST_F(RootKeyTest, RejectsMalformedFiles) {
  const std::string bad = dir_["bad.key"];
  ASSERT_TRUE(WriteFileAtomic(bad, AsBytes("version=1\nkey=c2hvcnQ=\n"), 0600).ok());
  auto r = SoftwareRootKey::Load(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not 32 bytes of base64"), std::string::npos);
  const std::string nover = dir_["nover.key"];
  ASSERT_TRUE(WriteFileAtomic(nover, AsBytes("key=AAAA\n"), 0600).ok());
  EXPECT_FALSE(SoftwareRootKey::Load(nover).ok());
}

}  // namespace
}  // namespace vmcrypt::kms
