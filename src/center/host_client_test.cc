// HostClient against a real host agent (HostAgent + HostApiServer) serving
// HTTPS in-process on 127.0.0.1 (port 0), which trusts center's client
// certificate by fingerprint, as `host init --trust-fingerprint` sets up.
#include "vmcrypt/center/host_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "src/base/test_dir.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/api_server.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/kms/pki.h"

namespace vmcrypt::center {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A TCP socket bound on 127.0.0.1, optionally listening (and never
// accepting: the kernel completes connections, nobody ever answers).
class RawSocket {
 public:
  explicit RawSocket(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    port_ = ntohs(a.sin_port);
    if (listening) {
      EXPECT_EQ(listen(fd_, 4), 0);
    }
  }
  ~RawSocket() { close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class HostClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Center's client identity, from a CA the host does not know.
    auto ca = kms::CertificateAuthority::Create("center CA", 30);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    kms::CertSpec spec;
    spec.common_name = "vmcrypt-center";
    spec.client_auth = true;
    auto issued = ca->Issue(spec);
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    ASSERT_TRUE(WriteFileAtomic(P("center.crt"), AsBytes(issued->cert_pem), 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(P("center.key"), issued->key_pem.span(), 0600).ok());
    auto center_fp = CertificateFingerprint(issued->cert_pem);
    ASSERT_TRUE(center_fp.ok()) << center_fp.status().ToString();

    host::HostInitOptions init;
    init.dir = P("host");
    init.name = "esx-test";
    init.trusted_fingerprints = {*center_fp};
    ASSERT_TRUE(host::InitHostDirectory(init).ok());
    auto config = host::LoadHostConfig(P("host/host.toml"));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->listen = "127.0.0.1:0";
    config->client_ca_file.clear();  // center gets in by its pinned fingerprint only
    auto agent = host::HostAgent::Create(*config);
    ASSERT_TRUE(agent.ok()) << agent.status().ToString();
    agent_ = std::move(*agent);
    auto server = host::HostApiServer::Start(agent_.get(), nullptr);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);

    auto host_pem = ReadFileToString(P("host/host.crt"));
    ASSERT_TRUE(host_pem.ok());
    auto host_fp = CertificateFingerprint(*host_pem);
    ASSERT_TRUE(host_fp.ok()) << host_fp.status().ToString();
    host_fp_ = *host_fp;
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    server_.reset();
    agent_.reset();
  }

  std::unique_ptr<HostClient> Client(const std::string& address, const std::string& fingerprint,
                                     std::chrono::milliseconds timeout = 5000ms) {
    auto c = HostClient::Create({"esx-test", address, fingerprint},
                                {P("center.crt"), P("center.key")}, timeout);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<HostClient> Client() { return Client(address_, host_fp_); }

  std::string P(const std::string& f) const { return dir_[f]; }

  test::TestDir dir_{"hostclient"};
  std::unique_ptr<host::HostAgent> agent_;
  std::unique_ptr<host::HostApiServer> server_;
  std::string host_fp_;
  std::string address_;
};

TEST_F(HostClientTest, StatusOfAPinnedHost) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  auto status = c->GetStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ((*status)["name"], "esx-test");
  EXPECT_EQ((*status)["keys"], 0);
  // The pin is compared whatever the case it was given in.
  std::string lower = host_fp_;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto c2 = Client(address_, lower);
  ASSERT_NE(c2, nullptr);
  EXPECT_TRUE(c2->GetStatus().ok());
}

TEST_F(HostClientTest, APushedKeyMakesAnEncryptedVm) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  SecretBytes kek = *crypto::RandomSecret(32);
  ASSERT_TRUE(c->PutKey("kms1", "kek-a", kek).ok());
  SecretBytes held;
  ASSERT_TRUE(agent_->keys()
                  .With({"kms1", "kek-a"},
                        [&](std::span<const uint8_t> k) {
                          held = SecretBytes(k);
                          return OkStatus();
                        })
                  .ok());
  EXPECT_TRUE(held.Equals(kek));
  Json spec = {{"name", "vm1"},
               {"disks", {1 << 20}},
               {"encrypted", true},
               {"provider", "kms1"},
               {"key_id", "kek-a"}};
  auto vm = c->Call("POST", "/v1/vms", &spec);
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  EXPECT_EQ((*vm)["encrypted"], true);
  EXPECT_EQ((*vm)["key"]["key_id"], "kek-a");
  auto closed = c->Call("POST", "/v1/vms/vm1/close");
  EXPECT_EQ(closed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(closed.status().message(), "host esx-test: VM vm1 is not open");

  // The host's own code is kept: a VM that exists already is AlreadyExists.
  auto dup = c->Call("POST", "/v1/vms", &spec);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists) << dup.status().ToString();

  ASSERT_TRUE(c->DeleteKey("kms1", "kek-a").ok());
  EXPECT_FALSE(agent_->keys().Contains({"kms1", "kek-a"}));
  Status again = c->DeleteKey("kms1", "kek-a");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message().rfind("host esx-test: key not found: provider kms1, key id kek-a", 0),
            0u)
      << again.message();
  EXPECT_EQ(c->PutKey("kms1", "a/b", kek).code(), StatusCode::kInvalidArgument);
}

TEST_F(HostClientTest, HostErrorsKeepTheirCodeAndMessage) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  auto missing = c->Call("GET", "/v1/vms/nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "host esx-test: no VM named nope on this host");
  auto route = c->Call("GET", "/v1/nothing");
  EXPECT_EQ(route.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(route.status().message(), "host esx-test: no such API route: GET /v1/nothing");
  Json bad = Json::array();
  auto invalid = c->Call("POST", "/v1/vms", &bad);
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.status().message(), "host esx-test: the request body must be a JSON object");
}

TEST_F(HostClientTest, AnotherCertificateThanThePinnedOneIsRefused) {
  const std::string wrong =
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
  auto c = Client(address_, wrong);
  ASSERT_NE(c, nullptr);
  SecretBytes kek = *crypto::RandomSecret(32);
  Status s = c->PutKey("kms1", "kek-a", kek);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "host esx-test (" + address_ +
                             ") presented a certificate with SHA-256 fingerprint " + host_fp_ +
                             ", expected the pinned fingerprint " + wrong);
  EXPECT_EQ(agent_->keys().size(), 0u);  // nothing was sent
}

TEST_F(HostClientTest, AnUnreachableHostIsUnavailable) {
  uint16_t closed_port;
  {
    RawSocket s(false);  // bound, not listening: connections are refused
    closed_port = s.port();
    auto c = Client("127.0.0.1:" + std::to_string(closed_port), host_fp_);
    ASSERT_NE(c, nullptr);
    auto st = c->GetStatus();
    EXPECT_EQ(st.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(st.status().message().rfind(
                  "host esx-test (127.0.0.1:" + std::to_string(closed_port) + ") unreachable: ", 0),
              0u)
        << st.status().message();
    auto cert = FetchServerCertificate("127.0.0.1:" + std::to_string(closed_port), 2000ms);
    EXPECT_EQ(cert.status().code(), StatusCode::kUnavailable) << cert.status().ToString();
  }
  // A peer that accepts but never answers: the timeout ends the call.
  RawSocket silent(true);
  auto c = Client("127.0.0.1:" + std::to_string(silent.port()), host_fp_, 300ms);
  ASSERT_NE(c, nullptr);
  const auto start = std::chrono::steady_clock::now();
  auto st = c->GetStatus();
  EXPECT_EQ(st.status().code(), StatusCode::kUnavailable) << st.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  const auto start2 = std::chrono::steady_clock::now();
  auto cert = FetchServerCertificate("127.0.0.1:" + std::to_string(silent.port()), 300ms);
  EXPECT_EQ(cert.status().code(), StatusCode::kUnavailable) << cert.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start2, 5s);
}

// A client certificate the host does not trust is refused by the host.
TEST_F(HostClientTest, AnUntrustedCenterIsRefusedByTheHost) {
  auto other = kms::CertificateAuthority::Create("other CA", 30);
  ASSERT_TRUE(other.ok());
  kms::CertSpec spec;
  spec.common_name = "rogue";
  spec.client_auth = true;
  auto issued = other->Issue(spec);
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(WriteFileAtomic(P("rogue.crt"), AsBytes(issued->cert_pem), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(P("rogue.key"), issued->key_pem.span(), 0600).ok());
  auto c = HostClient::Create({"esx-test", address_, host_fp_}, {P("rogue.crt"), P("rogue.key")},
                              5000ms);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto st = (*c)->GetStatus();
  EXPECT_EQ(st.status().code(), StatusCode::kUnavailable) << st.status().ToString();
}

TEST_F(HostClientTest, BadSettingsAreNamedAtCreate) {
  auto no_files =
      HostClient::Create({"esx-test", address_, host_fp_}, {P("missing.crt"), P("missing.key")});
  EXPECT_EQ(no_files.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_files.status().message().find("missing.crt"), std::string::npos);
  // A key that does not belong to the certificate.
  auto other = kms::CertificateAuthority::Create("x", 1);
  ASSERT_TRUE(other.ok());
  auto other_key = other->key_pem();
  ASSERT_TRUE(other_key.ok());
  ASSERT_TRUE(WriteFileAtomic(P("other.key"), other_key->span(), 0600).ok());
  EXPECT_EQ(HostClient::Create({"esx-test", address_, host_fp_}, {P("center.crt"), P("other.key")})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      HostClient::Create({"esx-test", "no-port", host_fp_}, {P("center.crt"), P("center.key")})
          .status()
          .code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(HostClient::Create({"esx-test", address_, "AB:CD"}, {P("center.crt"), P("center.key")})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST_F(HostClientTest, FetchAndPinTheHostCertificate) {
  auto pem = FetchServerCertificate(address_, 5000ms);
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  auto fp = CertificateFingerprint(*pem);
  ASSERT_TRUE(fp.ok());
  EXPECT_EQ(*fp, host_fp_);
  // The fetched fingerprint is what a client pins.
  auto c = Client(address_, *fp);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->GetStatus().ok());
  EXPECT_EQ(CertificateFingerprint("not a certificate").status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(HostClientTest, KdksArePushedAndRemoved) {
  auto c = Client();
  ASSERT_NE(c, nullptr);
  SecretBytes kdk = *crypto::RandomSecret(32);
  ASSERT_TRUE(c->PutKdk("native1", kdk, false).ok());
  auto kdks = agent_->ListKdks();
  ASSERT_EQ(kdks.size(), 1u);
  EXPECT_EQ(kdks[0].provider, "native1");
  auto status = c->GetStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["kdks"], 1);
  EXPECT_EQ((*status)["tpm"], false);
  // The host makes the key id of a new native key.
  Json spec = {{"name", "nvm"}, {"disks", {1 << 20}}, {"encrypted", true}, {"provider", "native1"}};
  auto vm = c->Call("POST", "/v1/vms", &spec);
  ASSERT_TRUE(vm.ok()) << vm.status().ToString();
  EXPECT_EQ((*vm)["key"]["provider"], "native1");

  Status tpm = c->PutKdk("sealed1", kdk, true);
  EXPECT_EQ(tpm.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(tpm.message(),
            "host esx-test: host esx-test has no TPM; native key provider sealed1 requires one");
  ASSERT_TRUE(c->DeleteKdk("native1").ok());
  EXPECT_TRUE(agent_->ListKdks().empty());
  EXPECT_EQ(agent_->keys().size(), 0u);
  EXPECT_EQ(c->DeleteKdk("native1").code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace vmcrypt::center
