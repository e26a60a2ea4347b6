#include "vmcrypt/kms/init.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "src/base/test_dir.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"

namespace vmcrypt::kms {
namespace {

class InitTest : public ::testing::Test {
 protected:
  std::string P(const char* f) { return dir_[f]; }
  test::TestDir dir_{"init"};  // created empty: init fills an existing folder too
};

TEST_F(InitTest, WritesAReadyFolder) {
  InitOptions o;
  o.dir = dir_.path().string();
  o.sans = {"kms.example.com", "10.1.2.3"};
  auto r = InitKmsDirectory(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->files, (std::vector<std::string>{"ca.crt", "ca.key", "server.crt", "server.key",
                                                "root.key", "clients/admin.crt",
                                                "clients/admin.key", "kms.db", "kms.toml"}));
  for (const char* key : {"ca.key", "server.key", "root.key", "clients/admin.key"}) {
    struct stat st;
    ASSERT_EQ(stat(P(key).c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  // The CA reloads from its files and signed both certificates.
  auto ca =
      CertificateAuthority::Load(*ReadFileToString(P("ca.crt")), *ReadSecretFile(P("ca.key")));
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  auto server = DescribeCertificate(*ReadFileToString(P("server.crt")));
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(server->subject, "CN=kms1,O=vmcrypt");
  EXPECT_EQ(server->issuer, "CN=kms1 CA,O=vmcrypt");
  EXPECT_EQ(DescribeCertificate(*ReadFileToString(P("clients/admin.crt")))->subject,
            "CN=admin,O=vmcrypt");
  EXPECT_TRUE(SoftwareRootKey::Load(P("root.key")).ok());
  std::string config = *ReadFileToString(P("kms.toml"));
  EXPECT_NE(config.find("listen = \"0.0.0.0:5696\""), std::string::npos);
  EXPECT_NE(config.find("file = \"root.key\""), std::string::npos);
}

TEST_F(InitTest, NeverOverwrites) {
  InitOptions o;
  o.dir = dir_.path().string();
  ASSERT_TRUE(InitKmsDirectory(o).ok());
  const std::string root_before = *ReadFileToString(P("ca.crt"));
  auto again = InitKmsDirectory(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFileToString(P("ca.crt")), root_before);
  // Even without the config, existing key material is kept.
  std::filesystem::remove(P("kms.toml"));
  auto third = InitKmsDirectory(o);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.status().message().find("refusing to overwrite key material"), std::string::npos);
}

}  // namespace
}  // namespace vmcrypt::kms
