// Interoperability with a real third-party KMIP server: PyKMIP 0.10 (Debian
// python3-pykmip), started on 127.0.0.1 with a test CA made by the fixture
// tests/pykmip/pykmip_server.py. Our client does Discover Versions, Create
// AES-256, Get, Get Attributes, Locate by name, Activate, Revoke and Destroy
// against it and checks each answer, in KMIP 1.4 and 2.0; it also refuses
// servers it must not trust, and the `vmcrypt kmip call` CLI works end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "vmcrypt/kmip/client.h"

namespace vmcrypt::kmip {
namespace {

namespace fs = std::filesystem;

// Runs a shell command; returns its exit status and standard output.
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

class PyKmipTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new std::string(fs::temp_directory_path() / ("vmcrypt-pykmip-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    auto [status, out] =
        RunCommand("/usr/bin/python3 " + std::string(VMCRYPT_SOURCE_DIR) +
                   "/tests/pykmip/pykmip_server.py start --dir " + *dir_ + " 2>&1");
    if (status != 0) {
      *start_error_ = "PyKMIP fixture failed (needs Debian package python3-pykmip): " + out;
      return;
    }
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (j.is_discarded()) {
      *start_error_ = "PyKMIP fixture printed no JSON: " + out;
      return;
    }
    server_ = new nlohmann::json(j);
  }

  static void TearDownTestSuite() {
    if (dir_ != nullptr) {
      RunCommand("/usr/bin/python3 " + std::string(VMCRYPT_SOURCE_DIR) +
                 "/tests/pykmip/pykmip_server.py stop --dir " + *dir_ + " >/dev/null 2>&1");
      std::error_code ec;
      fs::remove_all(*dir_, ec);
    }
    delete server_;
    delete dir_;
    server_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr) << *start_error_; }

  static ClientOptions Options(ProtocolVersion v) {
    ClientOptions o;
    o.host = (*server_)["host"];
    o.port = (*server_)["port"];
    o.ca_file = (*server_)["ca"];
    o.cert_file = (*server_)["cert"];
    o.key_file = (*server_)["key"];
    o.version = v;
    o.io_timeout = std::chrono::seconds(20);
    return o;
  }

  static std::unique_ptr<Client> MakeClient(ProtocolVersion v) {
    auto c = Client::Create(Options(v));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  static inline std::string* dir_ = nullptr;
  static inline nlohmann::json* server_ = nullptr;
  static inline std::string* start_error_ = new std::string("PyKMIP fixture did not run");
};

CreateRequest Aes256(const std::string& name) {
  CreateRequest r;
  r.attributes = {Attribute::Enum("Cryptographic Algorithm",
                                  static_cast<uint32_t>(CryptographicAlgorithm::kAes)),
                  Attribute::Integer("Cryptographic Length", 256),
                  Attribute::Integer("Cryptographic Usage Mask", usage::kEncrypt | usage::kDecrypt),
                  Attribute::Name(name)};
  return r;
}

void FullLifecycle(Client& client, const std::string& name) {
  // Discover Versions: PyKMIP lists 2.0 down to 1.0.
  auto versions = client.DiscoverVersions();
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_FALSE(versions->versions.empty());
  EXPECT_EQ(versions->versions.front(), kKmip20);
  EXPECT_NE(std::find(versions->versions.begin(), versions->versions.end(), kKmip14),
            versions->versions.end());

  // Create AES-256.
  auto created = client.Create(Aes256(name));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->object_type, ObjectType::kSymmetricKey);
  ASSERT_FALSE(created->uid.empty());
  const std::string uid = created->uid;

  // Get: a Raw 32-byte key.
  GetRequest get;
  get.uid = uid;
  auto got = client.Get(get);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->uid, uid);
  EXPECT_EQ(got->object_type, ObjectType::kSymmetricKey);
  ASSERT_TRUE(got->object.key_block.has_value());
  EXPECT_EQ(got->object.key_block->key_format_type, static_cast<uint32_t>(KeyFormatType::kRaw));
  EXPECT_EQ(got->object.key_block->key_material.size(), 32u);
  EXPECT_EQ(got->object.key_block->cryptographic_algorithm,
            static_cast<uint32_t>(CryptographicAlgorithm::kAes));
  EXPECT_EQ(got->object.key_block->cryptographic_length, 256);

  // Get Attributes: State is Pre-Active; the name is ours.
  auto attrs = client.GetAttributes({uid, {"State", "Name", "Cryptographic Length"}});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  EXPECT_EQ(attrs->uid, uid);
  const Attribute* state = FindAttribute(attrs->attributes, "State");
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(state->value.int_value(), static_cast<int64_t>(State::kPreActive));
  const Attribute* name_attr = FindAttribute(attrs->attributes, "Name");
  ASSERT_NE(name_attr, nullptr);
  ASSERT_NE(name_attr->value.Find(0x420055), nullptr);
  EXPECT_EQ(name_attr->value.Find(0x420055)->text(), name);
  const Attribute* length = FindAttribute(attrs->attributes, "Cryptographic Length");
  ASSERT_NE(length, nullptr);
  EXPECT_EQ(length->value.int_value(), 256);

  // Locate by name finds exactly this key.
  LocateRequest locate;
  locate.attributes = {Attribute::Name(name)};
  auto found = client.Locate(locate);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->uids.size(), 1u);
  EXPECT_EQ(found->uids[0], uid);

  // Destroying an active key is refused; Activate, Revoke, then Destroy work.
  ASSERT_TRUE(client.Activate(uid).ok());
  auto active = client.GetAttributes({uid, {"State"}});
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(FindAttribute(active->attributes, "State")->value.int_value(),
            static_cast<int64_t>(State::kActive));
  Status refused = client.Destroy(uid);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();

  RevokeRequest revoke;
  revoke.uid = uid;
  revoke.reason_code = static_cast<uint32_t>(RevocationReasonCode::kCessationOfOperation);
  Status revoked = client.Revoke(revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.ToString();
  auto deactivated = client.GetAttributes({uid, {"State"}});
  ASSERT_TRUE(deactivated.ok());
  EXPECT_EQ(FindAttribute(deactivated->attributes, "State")->value.int_value(),
            static_cast<int64_t>(State::kDeactivated));

  Status destroyed = client.Destroy(uid);
  ASSERT_TRUE(destroyed.ok()) << destroyed.ToString();
  auto gone = client.Get(get);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
}

TEST_F(PyKmipTest, FullKeyLifecycleKmip14) {
  auto client = MakeClient(kKmip14);
  ASSERT_NE(client, nullptr);
  FullLifecycle(*client, "vmcrypt-interop-14");
  // Every call above went over one reused connection.
  EXPECT_TRUE(client->connected());
}

TEST_F(PyKmipTest, FullKeyLifecycleKmip20) {
  auto client = MakeClient(kKmip20);
  ASSERT_NE(client, nullptr);
  FullLifecycle(*client, "vmcrypt-interop-20");
}

TEST_F(PyKmipTest, BatchOfSeveralOperations) {
  auto client = MakeClient(kKmip12);
  ASSERT_NE(client, nullptr);
  RequestMessage request;
  for (const char* name : {"batch-a", "batch-b"}) {
    auto payload = Aes256(name).Encode(kKmip12);
    ASSERT_TRUE(payload.ok());
    request.items.push_back(
        {Operation::kCreate, std::nullopt, std::nullopt, *payload, std::nullopt});
  }
  auto payload = DiscoverVersionsRequest{}.Encode(kKmip12);
  request.items.push_back(
      {Operation::kDiscoverVersions, std::nullopt, std::nullopt, *payload, std::nullopt});
  auto response = client->Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->items.size(), 3u);
  EXPECT_EQ(response->version, kKmip12);
  EXPECT_EQ(response->items[0].operation, Operation::kCreate);
  EXPECT_EQ(response->items[2].operation, Operation::kDiscoverVersions);
  for (const auto& item : response->items) EXPECT_TRUE(item.ok()) << item.ToStatus().ToString();
}

TEST_F(PyKmipTest, ErrorsCarryTheResultReason) {
  auto client = MakeClient(kKmip14);
  ASSERT_NE(client, nullptr);
  GetRequest get;
  get.uid = "no-such-object";
  auto r = client->Get(get);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("Item Not Found"), std::string::npos) << r.status().message();
}

TEST_F(PyKmipTest, RefusesServersItMustNotTrust) {
  // A "CA" that did not sign the server certificate.
  ClientOptions wrong_ca = Options(kKmip14);
  wrong_ca.ca_file = (*server_)["cert"];
  auto c1 = Client::Create(wrong_ca);
  ASSERT_TRUE(c1.ok());
  auto r1 = (*c1)->DiscoverVersions();
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r1.status().message().find("server certificate verification failed"), std::string::npos)
      << r1.status().message();

  // The right CA, but a name the certificate does not carry.
  ClientOptions wrong_name = Options(kKmip14);
  wrong_name.server_name = "kms.example.com";
  auto c2 = Client::Create(wrong_name);
  ASSERT_TRUE(c2.ok());
  auto r2 = (*c2)->DiscoverVersions();
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("verification failed"), std::string::npos)
      << r2.status().message();

  // Pinning: the server's own certificate is accepted, another is not.
  ClientOptions pinned = Options(kKmip14);
  pinned.ca_file.clear();
  pinned.pinned_server_cert_file = *dir_ + "/server.crt";
  auto c3 = Client::Create(pinned);
  ASSERT_TRUE(c3.ok());
  EXPECT_TRUE((*c3)->DiscoverVersions().ok());
  pinned.pinned_server_cert_file = (*server_)["cert"];  // the client's certificate
  auto c4 = Client::Create(pinned);
  ASSERT_TRUE(c4.ok());
  auto r4 = (*c4)->DiscoverVersions();
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.status().message().find("pinned certificate"), std::string::npos);

  // Nothing listening: a clear connection error, quickly.
  ClientOptions dead = Options(kKmip14);
  dead.port = 1;
  dead.connect_timeout = std::chrono::seconds(3);
  auto c5 = Client::Create(dead);
  ASSERT_TRUE(c5.ok());
  auto r5 = (*c5)->DiscoverVersions();
  ASSERT_FALSE(r5.ok());
  EXPECT_EQ(r5.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r5.status().message().find("cannot connect to 127.0.0.1:1"), std::string::npos)
      << r5.status().message();
}

TEST_F(PyKmipTest, CliCallWorksEndToEnd) {
  const std::string base =
      std::string(VMCRYPT_BINARY_DIR) + "/vmcrypt kmip call --server " +
      std::string((*server_)["host"]) + ":" + std::to_string(int((*server_)["port"])) + " --ca " +
      std::string((*server_)["ca"]) + " --cert " + std::string((*server_)["cert"]) + " --key " +
      std::string((*server_)["key"]);
  auto [s1, out1] = RunCommand(base + " --to json create --name cli-key 2>&1");
  ASSERT_EQ(s1, 0) << out1;
  auto j = nlohmann::json::parse(out1, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out1;
  std::string uid;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& n) {
    if (n.is_object() && n.value("tag", "") == "UniqueIdentifier") uid = n["value"];
    if (n.is_object() && n.contains("value") && n["value"].is_array()) {
      for (const auto& c : n["value"]) walk(c);
    }
  };
  walk(j);
  ASSERT_FALSE(uid.empty()) << out1;

  auto [s2, out2] = RunCommand(base + " get " + uid + " 2>&1");
  ASSERT_EQ(s2, 0) << out2;
  EXPECT_NE(out2.find("<KeyMaterial type=\"ByteString\" value=\"$REDACTED_32_BYTES\"/>"),
            std::string::npos)
      << out2;
  auto [s3, out3] = RunCommand(base + " locate --name cli-key 2>&1");
  ASSERT_EQ(s3, 0) << out3;
  EXPECT_NE(out3.find("value=\"" + uid + "\""), std::string::npos) << out3;
  auto [s4, out4] = RunCommand(base + " get no-such-uid 2>&1");
  EXPECT_EQ(s4, 1);
  EXPECT_NE(out4.find("vmcrypt kmip call: Item Not Found"), std::string::npos) << out4;
}

}  // namespace
}  // namespace vmcrypt::kmip
