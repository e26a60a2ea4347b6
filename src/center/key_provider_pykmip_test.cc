// A standard key provider against a real third-party KMIP server: PyKMIP
// 0.10 (Debian python3-pykmip), started on 127.0.0.1 by the fixture
// tests/pykmip/pykmip_server.py. Center fetches and pins the server's
// certificate, uses the fixture's client bundle, and does CreateKey, GetKey,
// TagKey and CheckKey, in KMIP 1.4 and 2.0.
//
// PyKMIP keeps no custom attributes: Create with x-Vendor/x-Product/
// x-Product_Version is refused ("Invalid Field: The x-Vendor attribute is
// unsupported."; in 2.0 it cannot parse them), it cannot parse Add
// Attribute, and in 2.0 it never answers a Get Attributes that finds
// nothing. The provider creates keys without the custom attributes there,
// and TagKey records nothing (and succeeds).
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "src/base/test_dir.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/center/key_provider.h"
#include "vmcrypt/kmip/client.h"

namespace vmcrypt::center {
namespace {

namespace fs = std::filesystem;

std::pair<int, std::string> RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kFixture = std::string(VMCRYPT_SOURCE_DIR) + "/tests/pykmip/pykmip_server.py";

class PyKmipProviderTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto [status, out] =
        RunCommand("/usr/bin/python3 " + kFixture + " start --dir " + dir_.string() + " 2>&1");
    ASSERT_EQ(status, 0) << "PyKMIP fixture failed (needs Debian package python3-pykmip): " << out;
    server_ = nlohmann::json::parse(out, nullptr, false);
    ASSERT_FALSE(server_.is_discarded()) << out;
    started_ = true;
  }
  void TearDown() override {
    if (started_) {
      RunCommand("/usr/bin/python3 " + kFixture + " stop --dir " + dir_.string() +
                 " >/dev/null 2>&1");
    }
  }

  std::string Address() const {
    return server_["host"].get<std::string>() + ":" + std::to_string(server_["port"].get<int>());
  }

  test::TestDir tmp_{"center-pykmip"};
  const fs::path& dir_ = tmp_.path();
  nlohmann::json server_;
  bool started_ = false;
};

TEST_P(PyKmipProviderTest, CreateGetTagCheck) {
  auto doc = NewStandardProvider("pykmip", {Address()});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  (*doc)["version"] = GetParam();
  Status pinned = TrustFetchServerCertificates(*doc, std::chrono::milliseconds(10000));
  ASSERT_TRUE(pinned.ok()) << pinned.ToString();
  auto key_pem = ReadSecretFile(server_["key"].get<std::string>());
  auto cert_pem = ReadFileToString(server_["cert"].get<std::string>());
  ASSERT_TRUE(key_pem.ok() && cert_pem.ok());
  ProviderContext ctx;
  ctx.provider_dir = (dir_ / "center" / "pykmip").string();
  ctx.timeout = std::chrono::milliseconds(10000);
  ASSERT_TRUE(ImportClientCertificateAndKey(*doc, ctx.provider_dir, *cert_pem, *key_pem).ok());

  auto provider = MakeKeyProvider(*doc, ctx);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  auto uid = (*provider)->CreateKey();
  ASSERT_TRUE(uid.ok()) << uid.status().ToString();
  ASSERT_FALSE(uid->empty());

  auto a = (*provider)->GetKey(*uid);
  auto b = (*provider)->GetKey(*uid);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->size(), 32u);
  EXPECT_TRUE(a->Equals(*b));

  Status tagged = (*provider)->TagKey(*uid, {"VM", "web-01", "vm-42"});
  EXPECT_TRUE(tagged.ok()) << tagged.ToString();
  Status retagged = (*provider)->TagKey(*uid, {"VM", "web-02", "vm-42"});
  EXPECT_TRUE(retagged.ok()) << retagged.ToString();

  KeyCheck check = (*provider)->CheckKey(*uid);
  EXPECT_EQ(check.state, KeyState::kAvailable) << check.reason;
  KeyCheck missing = (*provider)->CheckKey("999999");
  EXPECT_EQ(missing.state, KeyState::kMissing) << missing.reason;
  EXPECT_EQ((*provider)->GetKey("999999").status().code(), StatusCode::kNotFound);

  // The key is Active with the usages vCenter needs, as PyKMIP reports it.
  kmip::ClientOptions o;
  o.host = server_["host"].get<std::string>();
  o.port = static_cast<uint16_t>(server_["port"].get<int>());
  o.ca_file = server_["ca"].get<std::string>();
  o.cert_file = server_["cert"].get<std::string>();
  o.key_file = server_["key"].get<std::string>();
  kmip::ParseProtocolVersion(GetParam(), &o.version);
  auto client = kmip::Client::Create(o);
  ASSERT_TRUE(client.ok());
  auto attrs = (*client)->GetAttributes({*uid, {"State", "Cryptographic Usage Mask"}});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  const kmip::Attribute* state = kmip::FindAttribute(attrs->attributes, "State");
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->value.int_value(), static_cast<int64_t>(kmip::State::kActive));
  const kmip::Attribute* mask = kmip::FindAttribute(attrs->attributes, "Cryptographic Usage Mask");
  ASSERT_NE(mask, nullptr);
  EXPECT_EQ(mask->value.int_value(), kmip::usage::kEncrypt | kmip::usage::kDecrypt |
                                         kmip::usage::kWrapKey | kmip::usage::kUnwrapKey);

  // Revoked: no longer usable.
  kmip::RevokeRequest revoke;
  revoke.uid = *uid;
  revoke.reason_code = static_cast<uint32_t>(kmip::RevocationReasonCode::kCessationOfOperation);
  ASSERT_TRUE((*client)->Revoke(revoke).ok());
  KeyCheck revoked = (*provider)->CheckKey(*uid);
  EXPECT_EQ(revoked.state, KeyState::kUnusable);
  EXPECT_EQ(revoked.reason, "key " + *uid + " is Deactivated");
}

// PyKMIP speaks KMIP 1.0 to 2.0.
INSTANTIATE_TEST_SUITE_P(Versions, PyKmipProviderTest, ::testing::Values("1.4", "2.0"),
                         [](const auto& info) {
                           return info.param == "1.4" ? std::string("Kmip14")
                                                      : std::string("Kmip20");
                         });

}  // namespace
}  // namespace vmcrypt::center
