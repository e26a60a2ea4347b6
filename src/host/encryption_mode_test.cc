// Host encryption mode: the host key set by reference and persisted without
// its bytes, support bundles sealed with it, in-process and over the HTTPS
// API (127.0.0.1, port 0, the admin bundle of `host init`).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "src/base/test_dir.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/api_server.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/host/native_kek.h"
#include "vmcrypt/host/support_bundle.h"

namespace vmcrypt::host {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
constexpr uint64_t kMiB = 1 << 20;

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// The forms key bytes could take in a file: raw, hex (either case), base64.
std::vector<std::string> Forms(const SecretBytes& key) {
  return {std::string(reinterpret_cast<const char*>(key.data()), key.size()), HexEncode(key.span()),
          Upper(HexEncode(key.span())), Base64Encode(key.span())};
}

// How many files under `dir` hold `key` in any of its forms.
int FilesHolding(const fs::path& dir, const SecretBytes& key) {
  int found = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    auto text = ReadFileToString(e.path().string());
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) continue;
    for (const std::string& form : Forms(key)) {
      if (text->find(form) != std::string::npos) ++found;
    }
  }
  return found;
}

class HostEncryptionModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostInitOptions init;
    init.dir = dir_.path().string();
    init.name = "esx-enc";
    ASSERT_TRUE(InitHostDirectory(init).ok());
    auto config = LoadHostConfig(P("host.toml"));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->listen = "127.0.0.1:0";
    config_ = *config;
    ASSERT_NO_FATAL_FAILURE(NewAgent());
    kek_ = *crypto::RandomSecret(32);
  }
  void TearDown() override {
    server_.reset();
    agent_.reset();
  }

  // A fresh agent on the same configuration (a restart).
  void NewAgent() {
    server_.reset();
    agent_.reset();
    auto agent = HostAgent::Create(config_);
    ASSERT_TRUE(agent.ok()) << agent.status().ToString();
    agent_ = std::move(*agent);
  }
  void Push() { ASSERT_TRUE(agent_->keys().Put(host_key_, kek_.span()).ok()); }

  void Serve() {
    auto server = HostApiServer::Start(agent_.get(), nullptr);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  std::unique_ptr<httplib::SSLClient> Client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port(),
                                                  P("clients/admin.crt"), P("clients/admin.key"));
    c->set_ca_cert_path(P("ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(10);
    return c;
  }

  std::string P(const std::string& f) const { return dir_[f]; }
  std::string StateFile() const { return P("state/encryption-mode.json"); }

  test::TestDir dir_{"hostenc"};  // created empty; init fills it
  HostConfig config_;
  std::unique_ptr<HostAgent> agent_;
  std::unique_ptr<HostApiServer> server_;
  const KeyRef host_key_{"kms1", "host-key-esx-enc"};
  SecretBytes kek_;
};

TEST_F(HostEncryptionModeTest, InitCreatesThePrivateStateFolder) {
  EXPECT_EQ(config_.state_dir, P("state"));
  struct stat st;
  ASSERT_EQ(stat(config_.state_dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(HostEncryptionModeTest, EnablesWithAPushedKey) {
  EncryptionMode before = agent_->encryption_mode();
  EXPECT_FALSE(before.enabled);
  EXPECT_FALSE(before.host_key.has_value());
  EXPECT_STREQ(before.crypto_state(), "prepared");

  ASSERT_NO_FATAL_FAILURE(Push());
  auto mode = agent_->EnableEncryptionMode(host_key_);
  ASSERT_TRUE(mode.ok()) << mode.status().ToString();
  EXPECT_TRUE(mode->enabled);
  EXPECT_EQ(mode->host_key, host_key_);
  EXPECT_STREQ(mode->crypto_state(), "safe");
  EXPECT_EQ(agent_->encryption_mode().host_key, host_key_);

  struct stat st;
  ASSERT_EQ(stat(StateFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A retried request changes nothing; disabling is refused.
  EXPECT_TRUE(agent_->EnableEncryptionMode(host_key_).ok());
  Status off = agent_->DisableEncryptionMode();
  EXPECT_EQ(off.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(off.message(), "host encryption mode cannot be disabled once enabled");
  EXPECT_TRUE(agent_->encryption_mode().enabled);
}

TEST_F(HostEncryptionModeTest, AnUnknownKeyIsNotFoundAndChangesNothing) {
  auto mode = agent_->EnableEncryptionMode({"kms1", "never-pushed"});
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.status().code(), StatusCode::kNotFound);
  EXPECT_NE(mode.status().message().find("key not found: provider kms1, key id never-pushed"),
            std::string::npos)
      << mode.status().message();
  EXPECT_FALSE(agent_->encryption_mode().enabled);
  EXPECT_FALSE(fs::exists(StateFile()));
  EXPECT_EQ(agent_->EnableEncryptionMode({"kms1", ""}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(HostEncryptionModeTest, ANativeKeyIsDerivedFromTheKdk) {
  SecretBytes kdk = *crypto::RandomSecret(kKdkSize);
  ASSERT_TRUE(agent_->PutKdk("native1", kdk.span(), false).ok());
  const KeyRef key{"native1", "host-key-n"};
  auto mode = agent_->EnableEncryptionMode(key);
  ASSERT_TRUE(mode.ok()) << mode.status().ToString();
  EXPECT_EQ(mode->host_key, key);
  // The bundle is sealed with the derived KEK.
  auto bundle = agent_->WriteSupportBundle();
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  SecretBytes kek = *DeriveNativeKek(kdk, "native1", "host-key-n");
  auto opened = OpenSupportBundle(*ReadFileToString(bundle->file), kek.span());
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
}

TEST_F(HostEncryptionModeTest, TheReferenceSurvivesARestartButNeverTheKeyBytes) {
  ASSERT_NO_FATAL_FAILURE(Push());
  ASSERT_TRUE(agent_->EnableEncryptionMode(host_key_).ok());
  ASSERT_NO_FATAL_FAILURE(NewAgent());

  EncryptionMode mode = agent_->encryption_mode();
  EXPECT_TRUE(mode.enabled);
  EXPECT_EQ(mode.host_key, host_key_);
  EXPECT_EQ(agent_->keys().size(), 0u);  // a restarted agent holds no keys
  const json state = json::parse(*ReadFileToString(StateFile()));
  EXPECT_EQ(state["provider"], "kms1");
  EXPECT_EQ(state["key_id"], "host-key-esx-enc");
  EXPECT_EQ(FilesHolding(config_.state_dir, kek_), 0);

  // Until the control plane pushes the key again, no bundle can be sealed.
  auto locked = agent_->WriteSupportBundle();
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().code(), StatusCode::kNotFound);
  EXPECT_NE(locked.status().message().find("key not found: provider kms1, key id "
                                           "host-key-esx-enc"),
            std::string::npos);
  ASSERT_NO_FATAL_FAILURE(Push());
  ASSERT_TRUE(agent_->WriteSupportBundle().ok());
  EXPECT_EQ(FilesHolding(config_.state_dir, kek_), 0);
}

TEST_F(HostEncryptionModeTest, ADamagedStateFileStopsTheAgentWithAClearError) {
  ASSERT_NO_FATAL_FAILURE(Push());
  ASSERT_TRUE(agent_->EnableEncryptionMode(host_key_).ok());
  agent_.reset();
  ASSERT_TRUE(WriteFileAtomic(StateFile(), AsBytes("{\"format\": 1"), 0600, true).ok());
  auto agent = HostAgent::Create(config_);
  ASSERT_FALSE(agent.ok());
  EXPECT_EQ(agent.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(agent.status().message().find("encryption-mode.json (the host encryption mode state) "
                                          "is damaged"),
            std::string::npos)
      << agent.status().message();
}

TEST_F(HostEncryptionModeTest, ABundleIsRefusedWhileTheModeIsOff) {
  ASSERT_NO_FATAL_FAILURE(Push());  // a held key is not enough: the mode is the switch
  auto bundle = agent_->WriteSupportBundle();
  ASSERT_FALSE(bundle.ok());
  EXPECT_EQ(bundle.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(bundle.status().message(),
            "host encryption mode is off: enable it before collecting a support bundle (it may "
            "hold key material)");
  EXPECT_FALSE(fs::exists(P("state/bundles")));
}

TEST_F(HostEncryptionModeTest, ABundleIsSealedForTheHostKey) {
  ASSERT_NO_FATAL_FAILURE(Push());
  VmSpec web{"web01", {1 * kMiB}, false, std::nullopt, false};
  VmSpec db{"payroll-db", {1 * kMiB}, true, host_key_, false};
  ASSERT_TRUE(agent_->CreateVm(web).ok());
  ASSERT_TRUE(agent_->CreateVm(db).ok());
  ASSERT_TRUE(agent_->EnableEncryptionMode(host_key_).ok());

  auto bundle = agent_->WriteSupportBundle();
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  const fs::path file(bundle->file);
  EXPECT_EQ(file.parent_path(), fs::path(P("state/bundles")));
  EXPECT_EQ(file.filename().string().rfind("bundle-", 0), 0u);
  EXPECT_EQ(file.extension(), ".vmcb");
  struct stat st;
  ASSERT_EQ(stat(bundle->file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), bundle->size);

  const std::string text = *ReadFileToString(bundle->file);
  EXPECT_EQ(*SupportBundleKey(text), host_key_);
  auto opened = OpenSupportBundle(text, kek_.span());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  const json content = json::parse(*opened);
  ASSERT_EQ(content["vms"].size(), 2u);
  EXPECT_EQ(content["vms"][0]["name"], "payroll-db");
  EXPECT_EQ(content["vms"][0]["key"]["key_id"], "host-key-esx-enc");
  EXPECT_EQ(content["vms"][1]["name"], "web01");
  EXPECT_EQ(content["status"]["name"], "esx-enc");
  EXPECT_EQ(content["status"]["crypto_state"], "safe");
  EXPECT_EQ(content["config"]["state_dir"], P("state"));
  EXPECT_EQ(content["encryption_mode"]["key_id"], "host-key-esx-enc");

  // Neither the content nor the key is in the file in clear.
  EXPECT_EQ(text.find("payroll-db"), std::string::npos);
  EXPECT_EQ(text.find("web01"), std::string::npos);
  EXPECT_EQ(text.find(content["vms"].dump()), std::string::npos);
  EXPECT_EQ(FilesHolding(P("state"), kek_), 0);

  // A second bundle gets its own file.
  auto second = agent_->WriteSupportBundle();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->file, bundle->file);

  // Tampered: one bit of the sealed content flipped.
  json envelope = json::parse(text);
  std::vector<uint8_t> sealed = *Base64Decode(envelope["sealed"].get<std::string>());
  sealed[sealed.size() / 2] ^= 0x04;
  envelope["sealed"] = Base64Encode(sealed);
  auto tampered = OpenSupportBundle(envelope.dump(), kek_.span());
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.status().code(), StatusCode::kDataLoss);
}

TEST_F(HostEncryptionModeTest, OverHttps) {
  ASSERT_NO_FATAL_FAILURE(Serve());
  auto c = Client();
  auto status = c->Get("/v1/status");
  ASSERT_TRUE(status) << httplib::to_string(status.error());
  EXPECT_EQ(json::parse(status->body)["crypto_state"], "prepared");
  auto off = c->Get("/v1/encryption-mode");
  ASSERT_TRUE(off);
  EXPECT_EQ(json::parse(off->body), json::parse(R"({"enabled":false,"provider":null,"key_id":null,
                            "crypto_state":"prepared"})"));

  auto refused = c->Post("/v1/support-bundle", "", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409);
  EXPECT_EQ(json::parse(refused->body)["error"],
            "host encryption mode is off: enable it before collecting a support bundle (it may "
            "hold key material)");

  const std::string body = json{{"provider", "kms1"}, {"key_id", "host-key-esx-enc"}}.dump();
  auto unknown = c->Put("/v1/encryption-mode", body, "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(json::parse(unknown->body)["error"].get<std::string>().find("key not found"),
            std::string::npos);
  auto bad = c->Put("/v1/encryption-mode", R"({"provider":"kms1"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  const std::string b64 = Base64Encode(kek_.span());
  auto push =
      c->Put("/v1/keys/kms1/host-key-esx-enc", json{{"key", b64}}.dump(), "application/json");
  ASSERT_TRUE(push);
  ASSERT_EQ(push->status, 200) << push->body;
  auto on = c->Put("/v1/encryption-mode", body, "application/json");
  ASSERT_TRUE(on);
  EXPECT_EQ(on->status, 200) << on->body;
  const json enabled = json::parse(R"({"enabled":true,"provider":"kms1",
                                       "key_id":"host-key-esx-enc","crypto_state":"safe"})");
  EXPECT_EQ(json::parse(on->body), enabled);
  auto get = c->Get("/v1/encryption-mode");
  ASSERT_TRUE(get);
  EXPECT_EQ(json::parse(get->body), enabled);
  EXPECT_EQ(json::parse(c->Get("/v1/status")->body)["crypto_state"], "safe");

  auto disable = c->Delete("/v1/encryption-mode");
  ASSERT_TRUE(disable);
  EXPECT_EQ(disable->status, 409);
  EXPECT_EQ(json::parse(disable->body)["error"],
            "host encryption mode cannot be disabled once enabled");

  auto vm = c->Post("/v1/vms", R"({"name":"web01","disks":[1048576]})", "application/json");
  ASSERT_TRUE(vm);
  ASSERT_EQ(vm->status, 201) << vm->body;
  auto made = c->Post("/v1/support-bundle", "", "application/json");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 200) << made->body;
  const json reply = json::parse(made->body);
  const std::string file = reply["file"];
  const std::string text = *ReadFileToString(file);
  EXPECT_EQ(reply["size"], text.size());
  auto opened = OpenSupportBundle(text, kek_.span());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(json::parse(*opened)["vms"][0]["name"], "web01");
  for (const std::string* r : {&on->body, &get->body, &made->body}) {
    EXPECT_EQ(r->find(b64), std::string::npos);
  }
}

}  // namespace
}  // namespace vmcrypt::host
