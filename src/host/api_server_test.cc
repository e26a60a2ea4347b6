// The host agent's HTTPS API in-process on 127.0.0.1 (port 0), driven by
// cpp-httplib's client with the admin bundle from `host init`.
#include "vmcrypt/host/api_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>

#include <httplib.h>

#include "src/base/test_dir.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/kms/pki.h"

namespace vmcrypt::host {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class HostApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostInitOptions init;
    init.dir = dir_.path().string();
    init.name = "esx-test";
    ASSERT_TRUE(InitHostDirectory(init).ok());
  }
  void TearDown() override {
    server_.reset();
    agent_.reset();
  }

  void Start(const std::vector<std::string>& pinned = {}) {
    auto config = LoadHostConfig(P("host.toml"));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->listen = "127.0.0.1:0";
    config->trusted_fingerprints = pinned;
    auto agent = HostAgent::Create(*config);
    ASSERT_TRUE(agent.ok()) << agent.status().ToString();
    agent_ = std::move(*agent);
    auto server = HostApiServer::Start(agent_.get(), [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      log_ += line + "\n";
    });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  std::unique_ptr<httplib::SSLClient> Client(const std::string& cert = "clients/admin.crt",
                                             const std::string& key = "clients/admin.key") {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port(), P(cert), P(key));
    c->set_ca_cert_path(P("ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(5);
    return c;
  }

  std::string P(const std::string& f) const { return dir_[f]; }
  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  test::TestDir dir_{"host"};  // created empty; init fills it
  std::unique_ptr<HostAgent> agent_;
  std::unique_ptr<HostApiServer> server_;
  std::mutex mu_;
  std::string log_;
};

TEST_F(HostApiTest, KeysArePushedListedByIdAndRemoved) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto c = Client();
  auto status = c->Get("/v1/status");
  ASSERT_TRUE(status) << httplib::to_string(status.error());
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(json::parse(status->body)["name"], "esx-test");

  SecretBytes kek = *crypto::RandomSecret(32);
  const std::string b64 = Base64Encode(kek.span());
  auto put = c->Put("/v1/keys/kms-a/uid-1", json{{"key", b64}}.dump(), "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(put->body.find(b64), std::string::npos);

  // The agent holds it, and lends it only inside the process.
  SecretBytes held;
  ASSERT_TRUE(agent_->keys()
                  .With({"kms-a", "uid-1"},
                        [&](std::span<const uint8_t> k) {
                          held = SecretBytes(k);
                          return OkStatus();
                        })
                  .ok());
  EXPECT_TRUE(held.Equals(kek));

  auto list = c->Get("/v1/keys");
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body),
            json::parse(R"({"keys":[{"provider":"kms-a","key_id":"uid-1"}]})"));

  auto del = c->Delete("/v1/keys/kms-a/uid-1");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  EXPECT_FALSE(agent_->keys().Contains({"kms-a", "uid-1"}));
  auto again = c->Delete("/v1/keys/kms-a/uid-1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  EXPECT_NE(json::parse(again->body)["error"].get<std::string>().find(
                "key not found: provider kms-a, key id uid-1"),
            std::string::npos)
      << again->body;
  // The access log names the client, never the key.
  const std::string l = log();
  EXPECT_NE(l.find("PUT /v1/keys/kms-a/uid-1 -> 200"), std::string::npos) << l;
  EXPECT_NE(l.find("CN=admin"), std::string::npos) << l;
  EXPECT_EQ(l.find(b64), std::string::npos);
}

TEST_F(HostApiTest, BadRequestsGetClearErrors) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto c = Client();
  struct Case {
    std::string body;
    std::string error;
  };
  for (const Case& k :
       {Case{"not json", "must be a JSON object"}, Case{"[1,2]", "must be a JSON object"},
        Case{R"({"nokey":1})", "\"key\" (base64) is missing"},
        Case{R"({"key":"%%%"})", "not base64"},
        Case{R"({"key":"AAAA"})", "a KEK is 32 bytes (AES-256), not 3"}}) {
    auto r = c->Put("/v1/keys/p/k", k.body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << k.body;
    EXPECT_NE(json::parse(r->body)["error"].get<std::string>().find(k.error), std::string::npos)
        << r->body;
  }
  auto unknown = c->Get("/v1/nothing");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("no such API route: GET /v1/nothing"), std::string::npos);
  EXPECT_EQ(agent_->keys().size(), 0u);
}

// A client certificate from another CA is refused in the handshake (and
// logged with subject and fingerprint) unless its fingerprint is pinned.
TEST_F(HostApiTest, OnlyTrustedControlPlanesGetIn) {
  auto other = kms::CertificateAuthority::Create("rogue CA", 30);
  ASSERT_TRUE(other.ok());
  kms::CertSpec spec;
  spec.common_name = "rogue-center";
  spec.client_auth = true;
  auto issued = other->Issue(spec);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(WriteFileAtomic(P("rogue.crt"), AsBytes(issued->cert_pem), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(P("rogue.key"), issued->key_pem.span(), 0600).ok());
  auto info = kms::DescribeCertificate(issued->cert_pem);
  ASSERT_TRUE(info.ok());

  ASSERT_NO_FATAL_FAILURE(Start());
  auto refused = Client("rogue.crt", "rogue.key")->Get("/v1/status");
  EXPECT_FALSE(refused);
  EXPECT_NE(log().find("refused control-plane client"), std::string::npos) << log();
  EXPECT_NE(log().find(info->sha256_fingerprint), std::string::npos) << log();
  // No certificate at all: refused too.
  httplib::SSLClient anonymous("127.0.0.1", server_->port());
  anonymous.enable_server_certificate_verification(false);
  EXPECT_FALSE(anonymous.Get("/v1/status"));
  // The admin still gets in.
  auto ok = Client()->Get("/v1/status");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);

  // Pinned by fingerprint (how a self-signed control plane is trusted).
  server_.reset();
  agent_.reset();
  ASSERT_NO_FATAL_FAILURE(Start({info->sha256_fingerprint}));
  auto pinned = Client("rogue.crt", "rogue.key")->Get("/v1/status");
  ASSERT_TRUE(pinned) << httplib::to_string(pinned.error());
  EXPECT_EQ(pinned->status, 200);
}

// Native key providers over the API: a KDK is pushed, listed by name only,
// makes encrypted VMs with key ids of the host's own, and is wiped again.
TEST_F(HostApiTest, KdksArePushedUsedListedWithoutBytesAndRemoved) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto c = Client();
  SecretBytes kdk = *crypto::RandomSecret(32);
  const std::string b64 = Base64Encode(kdk.span());
  std::string hex_upper = HexEncode(kdk.span());
  for (char& ch : hex_upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto no_key_bytes = [&](const std::string& text) {
    EXPECT_EQ(text.find(b64), std::string::npos) << text;
    EXPECT_EQ(text.find(HexEncode(kdk.span())), std::string::npos) << text;
    EXPECT_EQ(text.find(hex_upper), std::string::npos) << text;
  };

  auto put = c->Put("/v1/kdks/native1", json{{"kdk", b64}}.dump(), "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << put->body;
  no_key_bytes(put->body);
  // A provider that requires a TPM is refused by a host without one.
  auto tpm = c->Put("/v1/kdks/sealed1", json{{"kdk", b64}, {"tpm_required", true}}.dump(),
                    "application/json");
  ASSERT_TRUE(tpm);
  EXPECT_EQ(tpm->status, 409);
  EXPECT_EQ(json::parse(tpm->body)["error"],
            "host esx-test has no TPM; native key provider sealed1 requires one");
  auto bad = c->Put("/v1/kdks/native2", json{{"kdk", "AAAA"}}.dump(), "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("32 bytes, not 3"), std::string::npos) << bad->body;

  auto list = c->Get("/v1/kdks");
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body),
            json::parse(R"({"kdks":[{"provider":"native1","tpm_required":false}]})"));
  no_key_bytes(list->body);
  auto status = c->Get("/v1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(json::parse(status->body)["tpm"], false);
  EXPECT_EQ(json::parse(status->body)["kdks"], 1);
  no_key_bytes(status->body);

  // An encrypted VM with the provider and no key id: the host makes the key.
  auto made =
      c->Post("/v1/vms", R"({"name":"n1","disks":[1048576],"encrypted":true,"provider":"native1"})",
              "application/json");
  ASSERT_TRUE(made);
  ASSERT_EQ(made->status, 201) << made->body;
  const json vm = json::parse(made->body);
  EXPECT_EQ(vm["key"]["provider"], "native1");
  const std::string key_id = vm["key"]["key_id"].get<std::string>();
  EXPECT_EQ(key_id.size(), 36u);
  auto keys = c->Get("/v1/keys");
  ASSERT_TRUE(keys);
  EXPECT_EQ(json::parse(keys->body)["keys"][0]["key_id"], key_id);  // derived and cached
  no_key_bytes(keys->body);
  auto plain = c->Post("/v1/vms", R"({"name":"n2","disks":[1048576]})", "application/json");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 201) << plain->body;
  auto enc = c->Post("/v1/vms/n2/encrypt", R"({"provider":"native1"})", "application/json");
  ASSERT_TRUE(enc);
  ASSERT_EQ(enc->status, 200) << enc->body;
  EXPECT_NE(json::parse(enc->body)["key"]["key_id"], key_id);
  auto opened = c->Post("/v1/vms/n1/open", "", "application/json");
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->status, 200) << opened->body;
  ASSERT_EQ(c->Post("/v1/vms/n1/close", "", "application/json")->status, 200);

  auto del = c->Delete("/v1/kdks/native1");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200) << del->body;
  EXPECT_EQ(agent_->keys().size(), 0u);  // the derived KEKs went with it
  auto locked = c->Post("/v1/vms/n1/open", "", "application/json");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 404);
  EXPECT_NE(locked->body.find("key not found: provider native1, key id " + key_id),
            std::string::npos)
      << locked->body;
  auto again = c->Delete("/v1/kdks/native1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);
  auto none = c->Get("/v1/kdks");
  ASSERT_TRUE(none);
  EXPECT_EQ(json::parse(none->body), json::parse(R"({"kdks":[]})"));
  no_key_bytes(log());
}

// `host init --trust-fingerprint`: the fingerprint lands in host.toml and
// that client certificate gets in; a malformed one is refused up front.
TEST_F(HostApiTest, InitWritesTrustedFingerprints) {
  auto ca = kms::CertificateAuthority::Create("center CA", 30);
  ASSERT_TRUE(ca.ok());
  kms::CertSpec spec;
  spec.common_name = "center";
  spec.client_auth = true;
  auto issued = ca->Issue(spec);
  ASSERT_TRUE(issued.ok());
  auto info = kms::DescribeCertificate(issued->cert_pem);
  ASSERT_TRUE(info.ok());
  std::string lower = info->sha256_fingerprint;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));

  HostInitOptions init;
  init.dir = P("second");
  init.trusted_fingerprints = {"AB:CD"};
  auto refused = InitHostDirectory(init);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("\"AB:CD\" is not a SHA-256 certificate fingerprint"),
            std::string::npos)
      << refused.status().message();
  EXPECT_FALSE(fs::exists(P("second/host.toml")));
  init.trusted_fingerprints = {lower};
  ASSERT_TRUE(InitHostDirectory(init).ok());
  auto config = LoadHostConfig(P("second/host.toml"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->trusted_fingerprints, std::vector<std::string>{info->sha256_fingerprint});
  EXPECT_EQ(config->tpm_device, "");

  ASSERT_TRUE(WriteFileAtomic(P("center.crt"), AsBytes(issued->cert_pem), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(P("center.key"), issued->key_pem.span(), 0600).ok());
  config->listen = "127.0.0.1:0";
  auto agent = HostAgent::Create(*config);
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  agent_ = std::move(*agent);
  auto server = HostApiServer::Start(agent_.get(), nullptr);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  server_ = std::move(*server);
  httplib::SSLClient c("127.0.0.1", server_->port(), P("center.crt"), P("center.key"));
  c.set_ca_cert_path(P("second/ca.crt").c_str());
  c.enable_server_certificate_verification(true);
  auto r = c.Get("/v1/status");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace vmcrypt::host
