#include "vmcrypt/base/file_util.h"
#include "src/base/test_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "vmcrypt/base/encoding.h"

namespace vmcrypt {
namespace {

class FileUtilTest : public ::testing::Test {
 protected:
  std::string Path(const char* name) { return dir_[name]; }
  test::TestDir dir_{"file"};
};

TEST_F(FileUtilTest, WritesAtomicallyWithTheGivenMode) {
  const std::string p = Path("secret");
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes("abc"), 0600).ok());
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFileToString(p), "abc");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_.path()), {}), 1);
  // Refuses to overwrite unless asked.
  EXPECT_EQ(WriteFileAtomic(p, AsBytes("x"), 0600).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes("xyz"), 0600, /*overwrite=*/true).ok());
  EXPECT_EQ(*ReadFileToString(p), "xyz");
}

TEST_F(FileUtilTest, SecretFilesMustBePrivate) {
  const std::string p = Path("key");
  ASSERT_TRUE(WriteFileAtomic(p, AsBytes("k3y"), 0600).ok());
  Result<SecretBytes> ok = ReadSecretFile(p);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 3u);
  chmod(p.c_str(), 0644);
  Result<SecretBytes> bad = ReadSecretFile(p);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(bad.status().message().find("has mode 0644 (must be 0600 or stricter)"),
            std::string::npos);
  EXPECT_EQ(bad.status().message().find("k3y"), std::string::npos);
  EXPECT_EQ(ReadSecretFile(Path("missing")).status().code(), StatusCode::kNotFound);
}

TEST(ResolvePathTest, RelativeToTheConfigFolder) {
  EXPECT_EQ(ResolvePath("/etc/vmcrypt", "ca.crt"), "/etc/vmcrypt/ca.crt");
  EXPECT_EQ(ResolvePath("/etc/vmcrypt", "state/db"), "/etc/vmcrypt/state/db");
  EXPECT_EQ(ResolvePath("/etc/vmcrypt", "/var/lib/x.db"), "/var/lib/x.db");
  EXPECT_EQ(ResolvePath("/etc/vmcrypt", ""), "");
  EXPECT_EQ(ResolvePath(".", "kms.db"), "./kms.db");
}

TEST_F(FileUtilTest, MakeDirectoryCreatesOnceAndAcceptsAnExistingOne) {
  const std::string p = Path("state");
  const mode_t mask = umask(0);
  umask(mask);
  ASSERT_TRUE(MakeDirectory(p, 0750).ok());
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0750u & ~mask);
  // Again, with another mode: accepted, and the folder keeps its mode.
  ASSERT_TRUE(MakeDirectory(p, 0700).ok());
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0750u & ~mask);
}

TEST_F(FileUtilTest, MakeDirectoryNamesThePathItCannotCreate) {
  const std::string p = Path("missing") + "/child";
  Status s = MakeDirectory(p, 0700);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("cannot create " + p + ": "), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(p));
}

}  // namespace
}  // namespace vmcrypt
