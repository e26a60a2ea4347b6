// Key providers against real parts: standard providers talk to our key
// server, run in-process as two KMIP servers on 127.0.0.1 (port 0) over one
// engine and one store (so either can serve any key), with the trust set-up
// vCenter offers; native providers seal with a software root key and back up
// to PKCS#12.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "src/base/test_dir.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/center/key_provider.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::center {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A port on 127.0.0.1 that nothing listens on: bound, then closed.
std::string DeadAddress() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// A listener that never accepts: connections complete (backlog) but no TLS
// handshake ever answers, so a client times out.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd_, 16);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  ~BlackHole() { close(fd_); }
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// Our key server: one store and engine, two TLS listeners.
class TwoServerKms {
 public:
  // `tag` names the folder (test::TestDir: empty now, removed after the
  // servers stop).
  explicit TwoServerKms(const std::string& tag) : tmp_(tag), dir_(tmp_.path()) {}
  ~TwoServerKms() { StopAll(); }

  void Start() {
    kms::InitOptions init;
    init.dir = dir_.string();
    ASSERT_TRUE(kms::InitKmsDirectory(init).ok());
    auto store = store::OpenSqliteStore(P("kms.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto rk = kms::SoftwareRootKey::Load(P("root.key"));
    ASSERT_TRUE(rk.ok());
    root_key_ = std::move(*rk);
    engine_ = std::make_unique<kms::Engine>(store_.get(), root_key_.get(), kms::EngineOptions{});
    for (auto& server : servers_) {
      kms::ServerOptions o;
      o.listen = "127.0.0.1:0";
      o.cert_file = P("server.crt");
      o.key_file = P("server.key");
      o.idle_timeout = std::chrono::seconds(5);
      o.io_timeout = std::chrono::seconds(5);
      o.threads = 2;
      auto s =
          kms::KmsServer::Start(o, engine_.get(), store_.get(), nullptr, [](const std::string&) {});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      server = std::move(*s);
    }
  }
  void Stop(int i) {
    if (servers_[i]) servers_[i]->Shutdown();
  }
  void StopAll() {
    for (auto& s : servers_) {
      if (s) s->Shutdown();
    }
    servers_ = {};
    engine_.reset();
    store_.reset();
  }

  std::string P(const std::string& f) const { return (dir_ / f).string(); }
  std::string Address(int i) const { return "127.0.0.1:" + std::to_string(servers_[i]->port()); }
  std::string Read(const std::string& f) const { return *ReadFileToString(P(f)); }
  store::ObjectStore& store() { return *store_; }

  kms::CertificateAuthority Ca() const {
    auto ca = kms::CertificateAuthority::Load(Read("ca.crt"), *ReadSecretFile(P("ca.key")));
    EXPECT_TRUE(ca.ok());
    return std::move(*ca);
  }
  // Registers a client certificate so the server admits it.
  void Register(const std::string& name, const std::string& cert_pem) {
    auto info = kms::DescribeCertificate(cert_pem);
    ASSERT_TRUE(info.ok());
    ASSERT_TRUE(
        store_->PutClient({name, "default", info->subject, info->sha256_fingerprint, cert_pem, 0})
            .ok());
  }
  // An admin KMIP client, to look at what the provider did.
  std::unique_ptr<kmip::Client> Admin() {
    kmip::ClientOptions o;
    o.port = servers_[1]->port();
    o.ca_file = P("ca.crt");
    o.cert_file = P("clients/admin.crt");
    o.key_file = P("clients/admin.key");
    auto c = kmip::Client::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }

 private:
  test::TestDir tmp_;
  fs::path dir_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<kms::SoftwareRootKey> root_key_;
  std::unique_ptr<kms::Engine> engine_;
  std::array<std::unique_ptr<kms::KmsServer>, 2> servers_;
};

class StandardProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(kms_.Start());
    ctx_.provider_dir = (center_dir_ / "providers" / "kmsc").string();
    ctx_.timeout = std::chrono::milliseconds(2000);
  }
  // A provider document over `addresses`, trusting the KMS CA and using the
  // admin bundle as center's client identity.
  Json Doc(const std::vector<std::string>& addresses) {
    auto doc = NewStandardProvider("kmsc", addresses);
    EXPECT_TRUE(doc.ok()) << doc.status().ToString();
    EXPECT_TRUE(TrustServerCa(*doc, kms_.Read("ca.crt")).ok());
    SecretBytes key(AsBytes(kms_.Read("clients/admin.key")));
    Status imported =
        ImportClientCertificateAndKey(*doc, ctx_.provider_dir, kms_.Read("clients/admin.crt"), key);
    EXPECT_TRUE(imported.ok()) << imported.ToString();
    return *doc;
  }
  std::unique_ptr<KeyProvider> Make(const Json& doc) {
    auto p = MakeKeyProvider(doc, ctx_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }
  std::string Text(kmip::Client& c, const std::string& uid, const std::string& name) {
    auto a = c.GetAttributes({uid, {name}});
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    if (!a.ok()) return "";
    const kmip::Attribute* attr = kmip::FindAttribute(a->attributes, name);
    return attr == nullptr ? "<absent>" : std::string(attr->value.text());
  }
  size_t Count(kmip::Client& c, const std::string& uid, const std::string& name) {
    auto a = c.GetAttributes({uid, {name}});
    if (!a.ok()) return 0;
    size_t n = 0;
    for (const auto& attr : a->attributes) n += attr.name == name;
    return n;
  }

  TwoServerKms kms_{"provider-kms"};
  test::TestDir center_{"provider-center"};
  const fs::path& center_dir_ = center_.path();
  ProviderContext ctx_;
};

TEST_F(StandardProviderTest, CreateKeySetsVendorAttributesAndActivates) {
  ctx_.product_version = "9.8.7";
  auto provider = Make(Doc({kms_.Address(0)}));
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->name(), "kmsc");
  EXPECT_EQ(provider->type(), "standard");
  auto uid = provider->CreateKey();
  ASSERT_TRUE(uid.ok()) << uid.status().ToString();

  auto admin = kms_.Admin();
  EXPECT_EQ(Text(*admin, *uid, "x-Vendor"), "vmcrypt");
  EXPECT_EQ(Text(*admin, *uid, "x-Product"), "vmcrypt center");
  EXPECT_EQ(Text(*admin, *uid, "x-Product_Version"), "9.8.7");
  auto attrs =
      admin->GetAttributes({*uid, {"State", "Cryptographic Usage Mask", "Cryptographic Length"}});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  EXPECT_EQ(kmip::FindAttribute(attrs->attributes, "State")->value.int_value(),
            static_cast<int64_t>(kmip::State::kActive));
  EXPECT_EQ(kmip::FindAttribute(attrs->attributes, "Cryptographic Length")->value.int_value(), 256);
  EXPECT_EQ(kmip::FindAttribute(attrs->attributes, "Cryptographic Usage Mask")->value.int_value(),
            kmip::usage::kEncrypt | kmip::usage::kDecrypt | kmip::usage::kWrapKey |
                kmip::usage::kUnwrapKey);
  EXPECT_EQ(provider->CheckKey(*uid).state, KeyState::kAvailable);
}

TEST_F(StandardProviderTest, GetKeyReturnsTheSame32BytesAsTheServerHolds) {
  auto provider = Make(Doc({kms_.Address(0)}));
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  ASSERT_TRUE(uid.ok()) << uid.status().ToString();
  auto a = provider->GetKey(*uid);
  auto b = provider->GetKey(*uid);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_TRUE(a->Equals(*b));

  kmip::GetRequest get;
  get.uid = *uid;
  auto direct = kms_.Admin()->Get(get);
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(a->Equals(direct->object.key_block->key_material));

  auto missing = provider->GetKey("no-such-key");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST_F(StandardProviderTest, TagKeyAddsThenModifiesAndReTagsWithoutFailing) {
  auto provider = Make(Doc({kms_.Address(0)}));
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  ASSERT_TRUE(uid.ok());
  ASSERT_TRUE(provider->TagKey(*uid, {"VM", "web-01", "vm-42"}).ok());
  auto admin = kms_.Admin();
  EXPECT_EQ(Text(*admin, *uid, "x-Component"), "VM");
  EXPECT_EQ(Text(*admin, *uid, "x-Name"), "web-01");
  EXPECT_EQ(Text(*admin, *uid, "x-Identifier"), "vm-42");

  // The same tag again, then a rename: one instance each, holding the last.
  Status again = provider->TagKey(*uid, {"VM", "web-01", "vm-42"});
  EXPECT_TRUE(again.ok()) << again.ToString();
  Status renamed = provider->TagKey(*uid, {"VM", "web-02", "vm-42"});
  EXPECT_TRUE(renamed.ok()) << renamed.ToString();
  EXPECT_EQ(Text(*admin, *uid, "x-Name"), "web-02");
  EXPECT_EQ(Count(*admin, *uid, "x-Name"), 1u);
  EXPECT_EQ(Count(*admin, *uid, "x-Component"), 1u);

  EXPECT_EQ(provider->TagKey("no-such-key", {"VM", "a", "b"}).code(), StatusCode::kNotFound);
}

TEST_F(StandardProviderTest, TagKeyInKmip20) {
  Json doc = Doc({kms_.Address(0)});
  doc["version"] = "2.0";
  auto provider = Make(doc);
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  ASSERT_TRUE(uid.ok()) << uid.status().ToString();
  ASSERT_TRUE(provider->TagKey(*uid, {"Host", "esx-1", "host-7"}).ok());
  Status renamed = provider->TagKey(*uid, {"Host", "esx-2", "host-7"});
  ASSERT_TRUE(renamed.ok()) << renamed.ToString();
  auto admin = kms_.Admin();
  EXPECT_EQ(Text(*admin, *uid, "x-Name"), "esx-2");
  EXPECT_EQ(Text(*admin, *uid, "x-Vendor"), "vmcrypt");
}

TEST_F(StandardProviderTest, CheckKeyReportsEachState) {
  auto provider = Make(Doc({kms_.Address(0)}));
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  ASSERT_TRUE(uid.ok());
  EXPECT_EQ(provider->CheckKey(*uid).state, KeyState::kAvailable);
  EXPECT_EQ(provider->CheckKey(*uid).reason, "");

  KeyCheck missing = provider->CheckKey("no-such-key");
  EXPECT_EQ(missing.state, KeyState::kMissing);
  EXPECT_NE(missing.reason.find("no-such-key"), std::string::npos) << missing.reason;

  auto admin = kms_.Admin();
  kmip::RevokeRequest revoke;
  revoke.uid = *uid;
  revoke.reason_code = static_cast<uint32_t>(kmip::RevocationReasonCode::kCessationOfOperation);
  ASSERT_TRUE(admin->Revoke(revoke).ok());
  KeyCheck revoked = provider->CheckKey(*uid);
  EXPECT_EQ(revoked.state, KeyState::kUnusable);
  EXPECT_EQ(revoked.reason, "key " + *uid + " is Deactivated");

  ASSERT_TRUE(admin->Destroy(*uid).ok());
  EXPECT_EQ(provider->CheckKey(*uid).state, KeyState::kMissing);

  kms_.StopAll();
  KeyCheck down = provider->CheckKey(*uid);
  EXPECT_EQ(down.state, KeyState::kUnreachable);
  EXPECT_NE(down.reason.find("key server cluster kmsc unreachable"), std::string::npos)
      << down.reason;
  EXPECT_STREQ(KeyStateName(down.state), "unreachable");
}

TEST_F(StandardProviderTest, FailsOverToTheNextServerAndRemembersIt) {
  BlackHole hole;
  ctx_.timeout = std::chrono::milliseconds(1500);
  auto provider = Make(Doc({hole.address(), DeadAddress(), kms_.Address(0)}));
  ASSERT_NE(provider, nullptr);

  // The first call waits out the silent server, skips the refused one.
  auto t0 = Clock::now();
  auto first = provider->CreateKey();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(1400));

  // The next goes straight to the server that answered.
  t0 = Clock::now();
  auto second = provider->CreateKey();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1400));
  EXPECT_NE(*first, *second);
}

TEST_F(StandardProviderTest, ServersShareTheStoreSoTheSecondServesWhenTheFirstStops) {
  auto provider = Make(Doc({kms_.Address(0), kms_.Address(1)}));
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  ASSERT_TRUE(uid.ok());
  auto before = provider->GetKey(*uid);
  ASSERT_TRUE(before.ok());

  kms_.Stop(0);
  auto after = provider->GetKey(*uid);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(before->Equals(*after));
  // A KMIP error from the server that answers is the answer: no failover.
  auto missing = provider->GetKey("no-such-key");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
}

TEST_F(StandardProviderTest, AllServersDownIsUnavailableNamingEach) {
  const std::string a = DeadAddress();
  const std::string b = DeadAddress();
  auto provider = Make(Doc({a, b}));
  ASSERT_NE(provider, nullptr);
  auto created = provider->CreateKey();
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  const std::string& m = created.status().message();
  EXPECT_EQ(m.rfind("key server cluster kmsc unreachable: " + a + ": ", 0), 0u) << m;
  EXPECT_NE(m.find("; " + b + ": "), std::string::npos) << m;
  EXPECT_EQ(provider->CheckKey("k").state, KeyState::kUnreachable);
}

TEST_F(StandardProviderTest, FetchAndPinServerCertificates) {
  auto doc = NewStandardProvider("kmsc", {kms_.Address(0), kms_.Address(1)});
  ASSERT_TRUE(doc.ok());
  // No trust yet: no server is usable, and the reason says what to do.
  auto untrusted = Make(*doc);
  ASSERT_NE(untrusted, nullptr);
  auto refused = untrusted->CreateKey();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("no server certificate or CA trusted yet"),
            std::string::npos)
      << refused.status().message();

  Status fetched = TrustFetchServerCertificates(*doc, std::chrono::milliseconds(3000));
  ASSERT_TRUE(fetched.ok()) << fetched.ToString();
  for (const Json& s : (*doc)["servers"]) {
    EXPECT_EQ(s["pinned_cert"].get<std::string>(), kms_.Read("server.crt"));
    EXPECT_FALSE(s.contains("ca_cert"));
  }
  SecretBytes key(AsBytes(kms_.Read("clients/admin.key")));
  ASSERT_TRUE(
      ImportClientCertificateAndKey(*doc, ctx_.provider_dir, kms_.Read("clients/admin.crt"), key)
          .ok());
  auto pinned = Make(*doc);
  ASSERT_NE(pinned, nullptr);
  auto uid = pinned->CreateKey();
  EXPECT_TRUE(uid.ok()) << uid.status().ToString();

  // A pin of another certificate (the CA's) is refused by every server.
  for (Json& s : (*doc)["servers"]) s["pinned_cert"] = kms_.Read("ca.crt");
  auto wrong = Make(*doc);
  ASSERT_NE(wrong, nullptr);
  auto denied = wrong->CreateKey();
  EXPECT_EQ(denied.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(denied.status().message().find("did not present the pinned certificate"),
            std::string::npos)
      << denied.status().message();

  // Fetching from a dead server fails and leaves the document as it was.
  Json dead = *NewStandardProvider("dead", {kms_.Address(0), DeadAddress()});
  Json dead_before = dead;
  EXPECT_EQ(TrustFetchServerCertificates(dead, std::chrono::milliseconds(1000)).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(dead, dead_before);
}

TEST_F(StandardProviderTest, TrustServerCaRejectsGarbage) {
  auto doc = NewStandardProvider("kmsc", {kms_.Address(0)});
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(TrustServerCa(*doc, "not a certificate").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE((*doc)["servers"][0].contains("ca_cert"));
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST_F(StandardProviderTest, CsrSignedByTheKmsCaIsImportedAndUsed) {
  auto doc = NewStandardProvider("kmsc", {kms_.Address(0)});
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(TrustServerCa(*doc, kms_.Read("ca.crt")).ok());
  auto csr = MakeClientCsr(*doc, ctx_.provider_dir, "vcenter-01");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  EXPECT_EQ(csr->rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);
  EXPECT_EQ((*doc)["pending_csr"].get<std::string>(), *csr);
  const std::string pending = (*doc)["pending_key_file"].get<std::string>();
  EXPECT_EQ(fs::path(pending).parent_path(), fs::path(ctx_.provider_dir));
  EXPECT_EQ(Mode(pending), 0600u);

  kms::CertSpec spec;
  spec.client_auth = true;
  kms::CertificateAuthority ca = kms_.Ca();
  auto cert = ca.SignCsr(*csr, spec);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();

  // A certificate for another key is refused.
  spec.common_name = "other";
  auto other = ca.Issue(spec);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(ImportSignedClientCertificate(*doc, other->cert_pem).code(),
            StatusCode::kInvalidArgument);

  ASSERT_TRUE(ImportSignedClientCertificate(*doc, *cert).ok());
  EXPECT_FALSE(doc->contains("pending_csr"));
  EXPECT_FALSE(doc->contains("pending_key_file"));
  EXPECT_FALSE(fs::exists(pending));
  const std::string key_file = (*doc)["client_key_file"].get<std::string>();
  EXPECT_EQ(fs::path(key_file).parent_path(), fs::path(ctx_.provider_dir));
  EXPECT_EQ(Mode(key_file), 0600u);
  EXPECT_EQ(doc->dump().find("PRIVATE KEY"), std::string::npos);

  // Not yet registered at the KMS: refused during the handshake.
  auto provider = Make(*doc);
  ASSERT_NE(provider, nullptr);
  EXPECT_FALSE(provider->CreateKey().ok());

  ASSERT_NO_FATAL_FAILURE(kms_.Register("vcenter-01", *cert));
  provider = Make(*doc);
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  EXPECT_TRUE(uid.ok()) << uid.status().ToString();

  EXPECT_EQ(ImportSignedClientCertificate(*doc, *cert).code(), StatusCode::kFailedPrecondition);
}

TEST_F(StandardProviderTest, SelfSignedClientCertificateOnceRegistered) {
  auto doc = NewStandardProvider("kmsc", {kms_.Address(0)});
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(TrustServerCa(*doc, kms_.Read("ca.crt")).ok());
  auto cert = MakeSelfSignedClientCertificate(*doc, ctx_.provider_dir, "vcenter-self");
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  auto info = kms::DescribeCertificate(*cert);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, info->issuer);
  EXPECT_EQ(Mode((*doc)["client_key_file"].get<std::string>()), 0600u);
  ASSERT_NO_FATAL_FAILURE(kms_.Register("vcenter-self", *cert));
  auto provider = Make(*doc);
  ASSERT_NE(provider, nullptr);
  auto uid = provider->CreateKey();
  EXPECT_TRUE(uid.ok()) << uid.status().ToString();
}

TEST_F(StandardProviderTest, ImportedCertificateAndKeyMustMatch) {
  auto doc = NewStandardProvider("kmsc", {kms_.Address(0)});
  ASSERT_TRUE(doc.ok());
  kms::CertSpec spec;
  spec.common_name = "someone";
  spec.client_auth = true;
  auto issued = kms_.Ca().Issue(spec);
  ASSERT_TRUE(issued.ok());
  SecretBytes admin_key(AsBytes(kms_.Read("clients/admin.key")));
  Status mismatch =
      ImportClientCertificateAndKey(*doc, ctx_.provider_dir, issued->cert_pem, admin_key);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mismatch.message(), "the private key does not match the certificate");
  EXPECT_FALSE(doc->contains("client_cert"));
  ASSERT_TRUE(
      ImportClientCertificateAndKey(*doc, ctx_.provider_dir, issued->cert_pem, issued->key_pem)
          .ok());
  EXPECT_EQ((*doc)["client_cert"].get<std::string>(), issued->cert_pem);
  EXPECT_EQ(doc->dump().find("PRIVATE KEY"), std::string::npos);
}

TEST(StandardProviderDocTest, NewProviderChecksAddresses) {
  auto doc = NewStandardProvider("p", {"kms1.example:5696", "[::1]:5696"});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ((*doc)["type"], "standard");
  EXPECT_EQ((*doc)["version"], "1.4");
  EXPECT_EQ((*doc)["servers"].size(), 2u);
  EXPECT_EQ(NewStandardProvider("p", {"no-port"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewStandardProvider("p", {"h:99999"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewStandardProvider("p", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewStandardProvider("", {"h:1"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NewStandardProvider("p", {"h:1", "h:1"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeKeyProvider(Json{{"type", "other"}, {"name", "x"}}, {}).status().code(),
            StatusCode::kInvalidArgument);
}

// --- Native providers ----------------------------------------------------------

class NativeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kms::SoftwareRootKey::Generate((dir_ / "root.key").string()).ok());
    auto rk = kms::SoftwareRootKey::Load((dir_ / "root.key").string());
    ASSERT_TRUE(rk.ok());
    root_key_ = std::move(*rk);
    ctx_.root_key = root_key_.get();
  }
  test::TestDir tmp_{"provider-native"};
  const fs::path& dir_ = tmp_.path();
  std::unique_ptr<kms::SoftwareRootKey> root_key_;
  ProviderContext ctx_;
};

// The document must not hold the KDK in any common encoding.
void ExpectNoKdkIn(const std::string& text, const SecretBytes& kdk) {
  const std::string hex = HexEncode(kdk.span());
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(text.find(hex), std::string::npos);
  EXPECT_EQ(text.find(upper), std::string::npos);
  EXPECT_EQ(text.find(Base64Encode(kdk.span())), std::string::npos);
  const std::string raw(reinterpret_cast<const char*>(kdk.data()), kdk.size());
  EXPECT_EQ(text.find(raw), std::string::npos);
}

TEST_F(NativeProviderTest, CreateKeyRefusedUntilExported) {
  auto doc = NewNativeProvider("native1", /*tpm_required=*/true, root_key_.get());
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ((*doc)["backed_up"], false);
  EXPECT_EQ((*doc)["tpm_required"], true);
  auto kdk = NativeKdk(*doc, root_key_.get());
  ASSERT_TRUE(kdk.ok());
  EXPECT_EQ(kdk->size(), 32u);
  ExpectNoKdkIn(doc->dump(), *kdk);

  auto provider = MakeKeyProvider(*doc, ctx_);
  ASSERT_TRUE(provider.ok());
  EXPECT_EQ((*provider)->type(), "native");
  auto refused = (*provider)->CreateKey();
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "native key provider native1 is not backed up; export it first");
  EXPECT_EQ((*provider)->CheckKey("any").state, KeyState::kUnusable);
  EXPECT_EQ((*provider)->GetKey("any").status().code(), StatusCode::kUnimplemented);
  EXPECT_TRUE((*provider)->TagKey("any", {"VM", "a", "b"}).ok());

  auto backup = ExportNativeProvider(*doc, root_key_.get(), "correct horse");
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ((*doc)["backed_up"], true);
  ExpectNoKdkIn(std::string(backup->begin(), backup->end()), *kdk);

  auto exported = MakeKeyProvider(*doc, ctx_);
  ASSERT_TRUE(exported.ok());
  auto id = (*exported)->CreateKey();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(id->size(), 36u);
  EXPECT_EQ((*id)[14], '4');  // UUID version 4
  EXPECT_NE(std::string("89ab").find((*id)[19]), std::string::npos);
  EXPECT_NE(*id, *(*exported)->CreateKey());
  EXPECT_EQ((*exported)->CheckKey(*id).state, KeyState::kAvailable);
}

TEST_F(NativeProviderTest, ExportRestoreRoundTrip) {
  auto doc = NewNativeProvider("native2", false, root_key_.get());
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(ExportNativeProvider(*doc, root_key_.get(), "").status().code(),
            StatusCode::kInvalidArgument);
  auto backup = ExportNativeProvider(*doc, root_key_.get(), "pa55word");
  ASSERT_TRUE(backup.ok());

  // Restore under another center's root key.
  ASSERT_TRUE(kms::SoftwareRootKey::Generate((dir_ / "other.key").string()).ok());
  auto other = kms::SoftwareRootKey::Load((dir_ / "other.key").string());
  ASSERT_TRUE(other.ok());
  auto restored = RestoreNativeProvider(*backup, "pa55word", other->get());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)["name"], "native2");
  EXPECT_EQ((*restored)["type"], "native");
  EXPECT_EQ((*restored)["tpm_required"], false);
  EXPECT_EQ((*restored)["backed_up"], true);
  auto original = NativeKdk(*doc, root_key_.get());
  auto back = NativeKdk(*restored, other->get());
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(original->Equals(*back));
  ExpectNoKdkIn(restored->dump(), *back);
  // Sealed for the other root key only.
  EXPECT_FALSE(NativeKdk(*restored, root_key_.get()).ok());

  const std::string bad = "wrong password or not a vmcrypt native key provider backup";
  auto wrong = RestoreNativeProvider(*backup, "pa55worD", other->get());
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status().message(), bad);
  std::vector<uint8_t> flipped = *backup;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_EQ(RestoreNativeProvider(flipped, "pa55word", other->get()).status().message(), bad);
  std::vector<uint8_t> cut(backup->begin(), backup->begin() + backup->size() / 2);
  EXPECT_EQ(RestoreNativeProvider(cut, "pa55word", other->get()).status().message(), bad);
  EXPECT_EQ(RestoreNativeProvider({}, "pa55word", other->get()).status().message(), bad);
}

TEST_F(NativeProviderTest, SealedKdkIsBoundToTheProviderName) {
  auto doc = NewNativeProvider("native3", false, root_key_.get());
  ASSERT_TRUE(doc.ok());
  Json renamed = *doc;
  renamed["name"] = "native4";
  auto kdk = NativeKdk(renamed, root_key_.get());
  EXPECT_EQ(kdk.status().code(), StatusCode::kDataLoss) << kdk.status().ToString();
  renamed["backed_up"] = true;
  auto provider = MakeKeyProvider(renamed, ctx_);
  ASSERT_TRUE(provider.ok());
  KeyCheck check = (*provider)->CheckKey("k");
  EXPECT_EQ(check.state, KeyState::kUnusable);
  EXPECT_NE(check.reason.find("cannot be unsealed"), std::string::npos) << check.reason;
}

// The backup is a standard PKCS#12 file: the openssl command line checks its
// MAC with the password, decrypts the safe and shows both secret bags, and
// refuses a wrong password.
TEST_F(NativeProviderTest, OpensslCliReadsTheBackup) {
  auto doc = NewNativeProvider("native5", true, root_key_.get());
  ASSERT_TRUE(doc.ok());
  auto backup = ExportNativeProvider(*doc, root_key_.get(), "s3cret");
  ASSERT_TRUE(backup.ok());
  const std::string file = (dir_ / "backup.p12").string();
  ASSERT_TRUE(WriteFileAtomic(file, *backup, 0600).ok());
  auto run = [](const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return std::make_pair(-1, out);
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    int status = pclose(p);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  auto [ok_status, ok_out] =
      run("openssl pkcs12 -info -in " + file + " -passin pass:s3cret -nokeys 2>&1");
  EXPECT_EQ(ok_status, 0) << ok_out;
  EXPECT_NE(ok_out.find("friendlyName: vmcrypt native key provider KDK"), std::string::npos)
      << ok_out;
  EXPECT_NE(ok_out.find("friendlyName: vmcrypt native key provider\n"), std::string::npos)
      << ok_out;
  // It shows the secret bag holding exactly our KDK (the password opens it).
  auto kdk = NativeKdk(*doc, root_key_.get());
  ASSERT_TRUE(kdk.ok());
  std::string shown;
  for (uint8_t b : kdk->span()) {
    char hex[4];
    std::snprintf(hex, sizeof(hex), "%02X ", b);
    shown += hex;
  }
  EXPECT_NE(ok_out.find(shown), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("MAC: sha256"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("PBKDF2"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("AES-256-CBC"), std::string::npos) << ok_out;
  auto [bad_status, bad_out] =
      run("openssl pkcs12 -info -in " + file + " -passin pass:wrong -nokeys 2>&1");
  EXPECT_NE(bad_status, 0) << bad_out;
  EXPECT_NE(bad_out.find("Mac verify error"), std::string::npos) << bad_out;
}

}  // namespace
}  // namespace vmcrypt::center
