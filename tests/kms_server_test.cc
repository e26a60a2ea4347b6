// The key server end to end, in-process on 127.0.0.1 (port 0): our KMIP
// client drives a full key lifecycle, a vCenter-style session, tenants,
// refused certificates and bad input; afterwards the store files and the
// audit log are scanned for the key bytes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/kms_test_server.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kmip/tls_socket.h"
#include "vmcrypt/kms/audit.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {
namespace {

namespace fs = std::filesystem;
using namespace vmcrypt::kmip;

class KmsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(kms_.Start()); }

  std::string P(const std::string& f) { return kms_.P(f); }
  std::unique_ptr<Client> MakeClient(ProtocolVersion v,
                                     const std::string& cert = "clients/admin.crt",
                                     const std::string& key = "clients/admin.key") {
    return kms_.MakeClient(v, cert, key);
  }

  // A second client in `tenant`, issued by the KMS CA and registered.
  void AddClient(const std::string& name, const std::string& tenant) {
    auto ca =
        CertificateAuthority::Load(*ReadFileToString(P("ca.crt")), *ReadSecretFile(P("ca.key")));
    ASSERT_TRUE(ca.ok());
    CertSpec spec;
    spec.common_name = name;
    spec.client_auth = true;
    auto issued = ca->Issue(spec);
    ASSERT_TRUE(issued.ok());
    ASSERT_TRUE(
        WriteFileAtomic(P("clients/" + name + ".crt"), AsBytes(issued->cert_pem), 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(P("clients/" + name + ".key"), issued->key_pem.span(), 0600).ok());
    auto info = DescribeCertificate(issued->cert_pem);
    ASSERT_TRUE(
        kms_.store()
            .PutClient({name, tenant, info->subject, info->sha256_fingerprint, issued->cert_pem, 0})
            .ok());
  }

  test_support::TestKms kms_{"kms"};
};

CreateRequest Aes256(const std::string& name = "") {
  CreateRequest r;
  r.attributes = {
      Attribute::Enum("Cryptographic Algorithm",
                      static_cast<uint32_t>(CryptographicAlgorithm::kAes)),
      Attribute::Integer("Cryptographic Length", 256),
      Attribute::Integer("Cryptographic Usage Mask", usage::kEncrypt | usage::kDecrypt)};
  if (!name.empty()) r.attributes.push_back(Attribute::Name(name));
  return r;
}

GetRequest GetOf(const std::string& uid) {
  GetRequest get;
  get.uid = uid;
  return get;
}

int64_t StateOf(Client& c, const std::string& uid) {
  auto a = c.GetAttributes({uid, {"State"}});
  if (!a.ok() || a->attributes.empty()) return -1;
  return a->attributes[0].value.int_value();
}

TEST_F(KmsServerTest, FullLifecycleInEveryVersion) {
  for (ProtocolVersion v : {kKmip10, kKmip11, kKmip12, kKmip13, kKmip14, kKmip20, kKmip21}) {
    SCOPED_TRACE(v.ToString());
    auto client = MakeClient(v);
    ASSERT_NE(client, nullptr);
    if (v >= kKmip11) {
      auto dv = client->DiscoverVersions();
      ASSERT_TRUE(dv.ok()) << dv.status().ToString();
      EXPECT_EQ(dv->versions.front(), kKmip21);
    }
    const std::string name = "key-" + v.ToString();
    auto created = client->Create(Aes256(name));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    const std::string uid = created->uid;
    EXPECT_EQ(StateOf(*client, uid), static_cast<int64_t>(State::kPreActive));

    GetRequest get;
    get.uid = uid;
    auto got = client->Get(get);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->object.key_block.has_value());
    EXPECT_EQ(got->object.key_block->key_material.size(), 32u);
    EXPECT_EQ(got->object.key_block->key_format_type, static_cast<uint32_t>(KeyFormatType::kRaw));

    LocateRequest locate;
    locate.attributes = {Attribute::Name(name)};
    auto found = client->Locate(locate);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->uids, std::vector<std::string>{uid});

    ASSERT_TRUE(client->Activate(uid).ok());
    EXPECT_EQ(StateOf(*client, uid), static_cast<int64_t>(State::kActive));
    Status active_destroy = client->Destroy(uid);
    // 2.x has its own reason for it (2.1 §11.27, OASIS SKLC-M-2-21).
    if (v.is_v2()) {
      EXPECT_NE(active_destroy.message().find("Wrong Key Lifecycle State"), std::string::npos)
          << active_destroy.ToString();
    } else {
      EXPECT_EQ(active_destroy.code(), StatusCode::kPermissionDenied) << active_destroy.ToString();
    }
    RevokeRequest revoke;
    revoke.uid = uid;
    revoke.reason_code = static_cast<uint32_t>(RevocationReasonCode::kCessationOfOperation);
    ASSERT_TRUE(client->Revoke(revoke).ok());
    EXPECT_EQ(StateOf(*client, uid), static_cast<int64_t>(State::kDeactivated));
    ASSERT_TRUE(client->Destroy(uid).ok());
    EXPECT_EQ(StateOf(*client, uid), static_cast<int64_t>(State::kDestroyed));
    // Metadata stays; the key material is gone.
    auto gone = client->Get(get);
    ASSERT_FALSE(gone.ok());
    EXPECT_NE(gone.status().message().find("Key Value Not Present"), std::string::npos)
        << gone.status().message();
  }
}

// What a vCenter 7 does (../shared/reference/vsphere-facts.md).
TEST_F(KmsServerTest, VCenterStyleSession) {
  // Health probe: a bare TCP connect-and-close must not disturb the server.
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kms_.port());
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    close(fd);
  }
  auto vc = MakeClient(kKmip11);
  ASSERT_NE(vc, nullptr);
  ASSERT_TRUE(vc->DiscoverVersions().ok());
  ASSERT_TRUE(vc->DiscoverVersions().ok());

  auto query = vc->Query({static_cast<uint32_t>(QueryFunction::kQueryServerInformation)});
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(query->vendor_identification, "vmcrypt");

  auto created = vc->Create(Aes256());  // no Name
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string uid = created->uid;

  // Get Attributes one name at a time; absent x- attributes are Success, empty.
  for (const char* name : {"State", "x-Product_Version", "x-Vendor", "x-Product", "x-Identifier",
                           "x-Component", "x-Name"}) {
    auto a = vc->GetAttributes({uid, {name}});
    ASSERT_TRUE(a.ok()) << name << ": " << a.status().ToString();
    EXPECT_EQ(a->uid, uid);
    EXPECT_EQ(a->attributes.size(), std::string(name) == "State" ? 1u : 0u) << name;
  }

  // Batched Add Attribute, with Unique Batch Item IDs echoed.
  auto add_batch = [&](std::vector<Attribute> attrs) {
    RequestMessage req;
    for (Attribute& a : attrs) {
      auto p = AddAttributeRequest{uid, a}.Encode(kKmip11);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      req.items.push_back({Operation::kAddAttribute, std::nullopt, std::nullopt, *p, std::nullopt});
    }
    auto resp = vc->Send(req);
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    ASSERT_EQ(resp->items.size(), attrs.size());
    EXPECT_EQ(resp->version, kKmip11);
    for (const auto& item : resp->items) {
      EXPECT_TRUE(item.ok()) << item.ToStatus().ToString();
      EXPECT_TRUE(item.unique_batch_item_id.has_value());
    }
  };
  add_batch({Attribute::Text("x-Product_Version", "7.0.3 build-19480866"),
             Attribute::Text("x-Vendor", "VMware, Inc."),
             Attribute::Text("x-Product", "VMware vSphere")});
  add_batch({Attribute::Text("x-Component", "Virtual Machine"), Attribute::Text("x-Name", "vm-01"),
             Attribute::Text("x-Identifier", "42a1c0de-1111-2222-3333-444455556666")});
  auto vendor = vc->GetAttributes({uid, {"x-Vendor"}});
  ASSERT_TRUE(vendor.ok());
  ASSERT_EQ(vendor->attributes.size(), 1u);
  EXPECT_EQ(vendor->attributes[0].value.text(), "VMware, Inc.");

  ASSERT_EQ(StateOf(*vc, uid), static_cast<int64_t>(State::kPreActive));
  ASSERT_TRUE(vc->Activate(uid).ok());
  GetRequest get;
  get.uid = uid;  // no Key Format Type: answered Raw, 32 bytes
  auto key = vc->Get(get);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->object.key_block->key_format_type, static_cast<uint32_t>(KeyFormatType::kRaw));
  EXPECT_EQ(key->object.key_block->key_material.size(), 32u);

  // Custom attributes of other types round-trip too (not only text).
  auto add_int = vc->AddAttribute({uid, Attribute::Integer("x-Count", 7)});
  ASSERT_TRUE(add_int.ok()) << add_int.status().ToString();
  auto add_date = vc->AddAttribute({uid, Attribute::DateTime("x-When", 1700000000)});
  ASSERT_TRUE(add_date.ok());
  auto typed = vc->GetAttributes({uid, {"x-Count", "x-When"}});
  ASSERT_TRUE(typed.ok());
  ASSERT_EQ(typed->attributes.size(), 2u);
  EXPECT_EQ(typed->attributes[0].value.type(), ttlv::ItemType::kInteger);
  EXPECT_EQ(typed->attributes[1].value.int_value(), 1700000000);
}

TEST_F(KmsServerTest, TenantsSeeOnlyTheirObjects) {
  AddClient("other", "tenant-b");
  auto a = MakeClient(kKmip14);
  auto b = MakeClient(kKmip14, "clients/other.crt", "clients/other.key");
  ASSERT_NE(b, nullptr);
  auto created = a->Create(Aes256("shared-name"));
  ASSERT_TRUE(created.ok());
  GetRequest get;
  get.uid = created->uid;
  auto r = b->Get(get);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  EXPECT_EQ(b->Destroy(created->uid).code(), StatusCode::kNotFound);
  LocateRequest locate;
  locate.attributes = {Attribute::Name("shared-name")};
  auto found = b->Locate(locate);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->uids.empty());
  EXPECT_EQ(a->Locate(locate)->uids.size(), 1u);
}

TEST_F(KmsServerTest, RefusesUnknownCertificatesAndKeepsServing) {
  // A client certificate from another CA, never registered.
  auto other_ca = CertificateAuthority::Create("intruder CA", 30);
  CertSpec spec;
  spec.common_name = "intruder";
  spec.client_auth = true;
  auto intruder = other_ca->Issue(spec);
  ASSERT_TRUE(WriteFileAtomic(P("intruder.crt"), AsBytes(intruder->cert_pem), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(P("intruder.key"), intruder->key_pem.span(), 0600).ok());
  auto bad = MakeClient(kKmip14, "intruder.crt", "intruder.key");
  auto r = bad->DiscoverVersions();
  ASSERT_FALSE(r.ok());
  // The server keeps serving the others.
  auto good = MakeClient(kKmip14);
  EXPECT_TRUE(good->DiscoverVersions().ok());
  const std::string log = kms_.log();
  EXPECT_NE(log.find("unknown client certificate (subject \"CN=intruder,O=vmcrypt\", sha256 " +
                     DescribeCertificate(intruder->cert_pem)->sha256_fingerprint + ")"),
            std::string::npos)
      << log;
  // A removed client is refused from then on.
  ASSERT_TRUE(kms_.store().RemoveClient("admin").ok());
  auto removed = MakeClient(kKmip14);
  EXPECT_FALSE(removed->DiscoverVersions().ok());
}

// Our client presents its certificate file as it is: the leaf alone, not a
// chain that OpenSSL would build from the CA file meant for checking the
// server (which every server would then parse, for nothing, in each full
// handshake). A file that holds the leaf and an intermediate sends both.
TEST_F(KmsServerTest, OurClientPresentsItsCertificateFileAsItIs) {
  // A TLS server of the test's own that counts the certificates it receives.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  ASSERT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), P("server.crt").c_str()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), P("server.key").c_str(), SSL_FILETYPE_PEM), 1);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  static std::atomic<int> received{-1};
  SSL_CTX_set_cert_verify_callback(
      ctx.get(),
      [](X509_STORE_CTX* store, void*) {
        received = sk_X509_num(X509_STORE_CTX_get0_untrusted(store));
        return 1;
      },
      nullptr);
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  std::ofstream(P("clients/admin-chain.crt"))
      << *ReadFileToString(P("clients/admin.crt")) << *ReadFileToString(P("ca.crt"));
  for (const auto& [cert_file, certificates] :
       {std::pair<std::string, int>{"clients/admin.crt", 1}, {"clients/admin-chain.crt", 2}}) {
    ClientOptions o;
    o.host = "127.0.0.1";
    o.port = ntohs(addr.sin_port);
    o.ca_file = P("ca.crt");
    o.cert_file = P(cert_file);
    o.key_file = P("clients/admin.key");
    o.io_timeout = std::chrono::seconds(10);
    auto client = Client::Create(o);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    received = -1;
    std::thread server([&] {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      SSL* ssl = SSL_new(ctx.get());
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) SSL_shutdown(ssl);
      SSL_free(ssl);
      close(fd);
    });
    auto socket = (*client)->OpenSocket();
    EXPECT_TRUE(socket.ok()) << socket.status().ToString();
    server.join();
    EXPECT_EQ(received, certificates) << cert_file;
  }
  close(listener);
}

// A resumed TLS session skips the certificate exchange, so the server must
// identify its client again: the tenant stays the client's own, the audit
// names it, and a client removed since is refused and must run a full
// handshake next time (which is refused too).
TEST_F(KmsServerTest, ResumedSessionsKeepTheirClientAndTenant) {
  AddClient("other", "tenant-b");
  auto a = MakeClient(kKmip14);
  auto owned = a->Create(Aes256("resume-a"));
  ASSERT_TRUE(owned.ok());

  kmip::ClientOptions o = MakeClient(kKmip14, "clients/other.crt", "clients/other.key")->options();
  o.resume_sessions = true;
  auto b = *kmip::Client::Create(o);
  auto mine = b->Create(Aes256("resume-b"));
  ASSERT_TRUE(mine.ok());
  EXPECT_FALSE(b->resumed());
  b->Close();

  GetRequest get;
  get.uid = mine->uid;
  ASSERT_TRUE(b->Get(get).ok());
  EXPECT_TRUE(b->resumed()) << "the second connection did not resume the session";
  get.uid = owned->uid;
  auto r = b->Get(get);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  LocateRequest locate;
  locate.attributes = {Attribute::Name("resume-a")};
  EXPECT_TRUE(b->Locate(locate)->uids.empty());
  b->Close();
  kms_.Stop();
  const std::string audit = *ReadFileToString(P("audit.log"));
  size_t lines = 0, by_other = 0;
  std::istringstream in(audit);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"peer\"") == std::string::npos) continue;
    ++lines;
    if (line.find("\"client\":\"other\"") != std::string::npos) {
      ++by_other;
      EXPECT_NE(line.find("\"tenant\":\"tenant-b\""), std::string::npos) << line;
    }
    EXPECT_EQ(line.find("\"client\":\"\""), std::string::npos) << "anonymous: " << line;
  }
  EXPECT_EQ(by_other, 4u) << audit;  // Create, Get, Get, Locate
  EXPECT_EQ(lines, 5u) << audit;

  ASSERT_NO_FATAL_FAILURE(kms_.Restart());
  o.port = kms_.port();
  auto c = *kmip::Client::Create(o);
  ASSERT_TRUE(c->DiscoverVersions().ok());
  c->Close();
  ASSERT_TRUE(c->DiscoverVersions().ok());
  ASSERT_TRUE(c->resumed());
  c->Close();
  ASSERT_TRUE(kms_.store().RemoveClient("other").ok());
  auto refused = c->DiscoverVersions();
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(kms_.log().find("on a resumed TLS session: unknown client certificate (subject "
                            "\"CN=other,O=vmcrypt\""),
            std::string::npos)
      << kms_.log();
  c->Close();
  auto again = c->DiscoverVersions();
  EXPECT_FALSE(again.ok());
  EXPECT_FALSE(c->resumed());
}

// Sends raw bytes over an admin TLS connection; returns the reply (empty if
// the server closed the connection).
std::string RawExchange(uint16_t port, const std::string& dir, const std::vector<uint8_t>& bytes,
                        bool expect_reply = true) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_use_certificate_chain_file(ctx, (dir + "/clients/admin.crt").c_str());
  SSL_CTX_use_PrivateKey_file(ctx, (dir + "/clients/admin.key").c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx, (dir + "/ca.crt").c_str(), nullptr);
  auto deadline = TlsSocket::Clock::now() + std::chrono::seconds(10);
  auto sock = TlsSocket::Connect(ctx, "127.0.0.1", port, "127.0.0.1", nullptr, deadline);
  std::string out;
  if (sock.ok()) {
    if ((*sock)->WriteAll(bytes, deadline).ok() && expect_reply) {
      std::vector<uint8_t> header(8);
      if ((*sock)->ReadExact(header, deadline).ok()) {
        auto size = ttlv::MessageSize(header);
        if (size.ok()) {
          std::vector<uint8_t> msg(*size);
          std::copy(header.begin(), header.end(), msg.begin());
          if ((*sock)->ReadExact(std::span<uint8_t>(msg).subspan(8), deadline).ok()) {
            out.assign(msg.begin(), msg.end());
          }
        }
      }
    }
    (*sock)->Shutdown();
  }
  SSL_CTX_free(ctx);
  return out;
}

ResponseMessage Parse(const std::string& wire) {
  auto item = ttlv::Decode(AsBytes(wire));
  EXPECT_TRUE(item.ok());
  auto m = DecodeResponse(*item);
  EXPECT_TRUE(m.ok());
  return *m;
}

TEST_F(KmsServerTest, BadInputGetsInvalidMessageAndHurtsNoOne) {
  // A well-framed message whose body is not valid TTLV, with a readable
  // 1.2 header: Invalid Message, answered in 1.2.
  RequestMessage ok_req;
  ok_req.version = kKmip12;
  ok_req.items.push_back({Operation::kDiscoverVersions, std::nullopt, std::nullopt,
                          ttlv::Item::Structure(ttlv::tag::kRequestPayload), std::nullopt});
  auto tree = EncodeRequest(ok_req);
  auto wire = ttlv::Encode(*tree);
  std::vector<uint8_t> bad(wire->begin(), wire->end());
  bad[bad.size() - 9] = 0x0C;  // a non-zero padding byte inside the batch item
  std::string reply = RawExchange(kms_.port(), kms_.dir().string(), bad);
  ASSERT_FALSE(reply.empty());
  ResponseMessage r = Parse(reply);
  EXPECT_EQ(r.version, kKmip12);
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].reason, ResultReason::kInvalidMessage);

  // Not a KMIP message at all: Invalid Message, then the connection closes.
  std::vector<uint8_t> junk = {'G', 'E', 'T', ' ', '/', ' ', 'H',
                               'T', 'T', 'P', '/', '1', '.', '1'};
  reply = RawExchange(kms_.port(), kms_.dir().string(), junk);
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(Parse(reply).items[0].reason, ResultReason::kInvalidMessage);

  // Over the 1 MiB limit: refused from the header alone.
  std::vector<uint8_t> huge = {0x42, 0x00, 0x78, 0x01, 0x00, 0x20, 0x00, 0x00};
  reply = RawExchange(kms_.port(), kms_.dir().string(), huge);
  ASSERT_FALSE(reply.empty());
  EXPECT_NE(Parse(reply).items[0].message->find("exceeds the limit"), std::string::npos);

  // A client that stops mid-message is dropped after the I/O timeout (3 s
  // here), one that sends nothing after the idle timeout (3 s); meanwhile
  // others are served at once.
  auto stalled = [&](size_t send_bytes, std::chrono::steady_clock::duration* closed_after) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_use_certificate_chain_file(ctx, P("clients/admin.crt").c_str());
    SSL_CTX_use_PrivateKey_file(ctx, P("clients/admin.key").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_load_verify_locations(ctx, P("ca.crt").c_str(), nullptr);
    auto deadline = TlsSocket::Clock::now() + std::chrono::seconds(20);
    auto sock = TlsSocket::Connect(ctx, "127.0.0.1", kms_.port(), "127.0.0.1", nullptr, deadline);
    ASSERT_TRUE(sock.ok());
    auto t0 = std::chrono::steady_clock::now();
    if (send_bytes > 0) {
      ASSERT_TRUE(
          (*sock)->WriteAll(std::span<const uint8_t>(wire->data(), send_bytes), deadline).ok());
    }
    std::vector<uint8_t> byte(1);
    EXPECT_FALSE((*sock)->ReadExact(byte, deadline).ok());  // the server hangs up
    *closed_after = std::chrono::steady_clock::now() - t0;
    (*sock)->Shutdown();
    SSL_CTX_free(ctx);
  };
  std::chrono::steady_clock::duration mid_message{}, idle{};
  std::thread half([&] { stalled(20, &mid_message); });
  std::thread silent([&] { stalled(0, &idle); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto client = MakeClient(kKmip14);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client->DiscoverVersions().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  half.join();
  silent.join();
  EXPECT_GE(mid_message, std::chrono::milliseconds(2500));
  EXPECT_LT(mid_message, std::chrono::seconds(10));
  EXPECT_GE(idle, std::chrono::milliseconds(2500));
  EXPECT_LT(idle, std::chrono::seconds(10));
}

// At shutdown the server logs how its writes shared commits and WAL flushes
// and how many reads the row cache answered.
TEST_F(KmsServerTest, ShutdownLogsTheStoreCounters) {
  auto client = MakeClient(kKmip14);
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Create(Aes256()).ok());
  client.reset();
  kms_.Stop();
  const std::string log = kms_.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m,
                                std::regex("store: ([0-9]+) writes in ([0-9]+) commits, "
                                           "([0-9]+) WAL flushes and [0-9]+ checkpoints "
                                           "\\(largest commit: ([0-9]+) "
                                           "writes\\); reads: [0-9]+ from the row cache, "
                                           "[0-9]+ from the database")))
      << log;
  const int writes = std::stoi(m[1]), commits = std::stoi(m[2]), flushes = std::stoi(m[3]);
  EXPECT_GE(writes, 3);
  EXPECT_GE(commits, 1);
  EXPECT_LE(commits, writes);
  EXPECT_GE(flushes, 1);
  EXPECT_GE(std::stoi(m[4]), 1);
  EXPECT_LT(log.find("store: "), log.find("stopped"));
}

// Requests sent before their answers arrive (pipelined) are all answered,
// in order: three messages in one TLS record, then three records back to
// back. After an answer the server waits for epoll instead of reading, so a
// record that OpenSSL's read-ahead already took in must be read first: the
// second half stalls without that (epoll sees an empty socket).
TEST_F(KmsServerTest, PipelinedRequestsAreAllAnswered) {
  std::vector<std::vector<uint8_t>> requests;
  for (const ProtocolVersion& v : {kKmip12, kKmip14, kKmip20}) {
    RequestMessage req;
    req.version = v;
    req.items.push_back({Operation::kDiscoverVersions, std::nullopt, std::nullopt,
                         ttlv::Item::Structure(ttlv::tag::kRequestPayload), std::nullopt});
    auto wire = ttlv::Encode(*EncodeRequest(req));
    ASSERT_TRUE(wire.ok());
    requests.emplace_back(wire->begin(), wire->end());
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  SSL_CTX_use_certificate_chain_file(ctx.get(), P("clients/admin.crt").c_str());
  SSL_CTX_use_PrivateKey_file(ctx.get(), P("clients/admin.key").c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx.get(), P("ca.crt").c_str(), nullptr);
  const auto deadline = TlsSocket::Clock::now() + std::chrono::seconds(5);
  auto sock =
      TlsSocket::Connect(ctx.get(), "127.0.0.1", kms_.port(), "127.0.0.1", nullptr, deadline);
  ASSERT_TRUE(sock.ok()) << sock.status().message();
  auto read_answer = [&]() -> ResponseMessage {
    std::vector<uint8_t> msg(8);
    EXPECT_TRUE((*sock)->ReadExact(msg, deadline).ok()) << "no answer: the server stalled";
    auto size = ttlv::MessageSize(msg);
    if (!size.ok()) return {};
    msg.resize(*size);
    EXPECT_TRUE((*sock)->ReadExact(std::span<uint8_t>(msg).subspan(8), deadline).ok());
    return Parse(std::string(msg.begin(), msg.end()));
  };
  std::vector<uint8_t> together;
  for (const auto& r : requests) together.insert(together.end(), r.begin(), r.end());
  ASSERT_TRUE((*sock)->WriteAll(together, deadline).ok());  // one record
  for (const ProtocolVersion& v : {kKmip12, kKmip14, kKmip20}) {
    ResponseMessage r = read_answer();
    EXPECT_EQ(r.version, v);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].status, ResultStatus::kSuccess);
  }
  // Corked, so that the three records reach the server in one segment and
  // its first read takes them all in.
  const int cork = 1, uncork = 0;
  setsockopt((*sock)->fd(), IPPROTO_TCP, TCP_CORK, &cork, sizeof(cork));
  for (const auto& r : requests) ASSERT_TRUE((*sock)->WriteAll(r, deadline).ok());  // 3 records
  setsockopt((*sock)->fd(), IPPROTO_TCP, TCP_CORK, &uncork, sizeof(uncork));
  for (const ProtocolVersion& v : {kKmip12, kKmip14, kKmip20}) {
    ResponseMessage r = read_answer();
    EXPECT_EQ(r.version, v);
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].status, ResultStatus::kSuccess);
  }
  (*sock)->Shutdown();
}

// Many handshakes and requests at once, on the fixed pool of workers: every
// one is answered, each client within its 10 s I/O timeout (a connection
// that a worker took from epoll and neither ran nor re-armed would hang).
TEST_F(KmsServerTest, ConcurrentHandshakesAndRequestsAreAllAnswered) {
  std::vector<std::unique_ptr<Client>> persistent;
  for (int i = 0; i < 8; ++i) persistent.push_back(MakeClient(kKmip14));
  std::atomic<int> failures{0}, answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        if (t < 8) {  // persistent: requests only
          for (int k = 0; k < 20; ++k) {
            persistent[t]->DiscoverVersions().ok() ? ++answered : ++failures;
          }
          continue;
        }
        auto client = MakeClient(kKmip12);  // a new connection: a full handshake
        if (client == nullptr || !client->DiscoverVersions().ok()) {
          ++failures;
          continue;
        }
        ++answered;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(answered.load(), 8 * 5 * 20 + 16 * 5);
}

// Threads of this process (the server runs in it).
size_t ThreadCount() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// A TCP connection to the server, or -1.
int TcpConnect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Point 6 of the server: connections share a fixed pool of workers, and
// probes, failed handshakes, garbage and clients that vanish mid-message
// stop no one. Every idle connection still works afterwards.
TEST_F(KmsServerTest, ManyConnectionsShareAFixedWorkerPool) {
  const size_t threads_before = ThreadCount();
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 150; ++i) {
    idle.push_back(MakeClient(kKmip14));
    ASSERT_NE(idle.back(), nullptr);
    ASSERT_TRUE(idle.back()->DiscoverVersions().ok()) << i;
  }
  // Thread per connection would add 150 threads; the pool adds none.
  EXPECT_LE(ThreadCount(), threads_before + 2);
  EXPECT_NE(kms_.log().find("worker threads"), std::string::npos);

  // Abuse, all at once: connect-and-close probes, plaintext garbage instead
  // of a ClientHello, half a handshake then silence is left for the
  // timeout test; and a client that sends half a message and disappears.
  for (int i = 0; i < 50; ++i) {
    int fd = TcpConnect(kms_.port());
    ASSERT_GE(fd, 0);
    close(fd);
  }
  for (int i = 0; i < 20; ++i) {
    int fd = TcpConnect(kms_.port());
    ASSERT_GE(fd, 0);
    const char junk[] = "GET / HTTP/1.1\r\nHost: kms\r\n\r\n";
    ASSERT_GT(write(fd, junk, sizeof(junk) - 1), 0);
    char buf[64];
    (void)!read(fd, buf, sizeof(buf));  // the server answers with an alert or closes
    close(fd);
  }
  {
    RequestMessage req;
    req.version = kKmip14;
    req.items.push_back({Operation::kDiscoverVersions, std::nullopt, std::nullopt,
                         ttlv::Item::Structure(ttlv::tag::kRequestPayload), std::nullopt});
    auto wire = ttlv::Encode(*EncodeRequest(req));
    std::vector<uint8_t> half(wire->begin(), wire->begin() + wire->size() / 2);
    EXPECT_TRUE(RawExchange(kms_.port(), kms_.dir().string(), half, false).empty());
  }
  // Everyone is still served, on every connection, concurrently.
  std::vector<std::thread> users;
  std::atomic<int> failures{0};
  for (int t = 0; t < 10; ++t) {
    users.emplace_back([&, t] {
      for (int i = t; i < 150; i += 10) {
        if (!idle[i]->DiscoverVersions().ok()) ++failures;
      }
    });
  }
  for (auto& u : users) u.join();
  EXPECT_EQ(failures.load(), 0);
  // The failures were logged, the vanished client with its reason.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (kms_.log().find("went away in the middle of a message") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string log = kms_.log();
  EXPECT_NE(log.find("went away in the middle of a message"), std::string::npos) << log;
  EXPECT_NE(log.find("TLS handshake failed"), std::string::npos) << log;
}

// A write on a connection the server has closed is an error the client
// sees, not a SIGPIPE that kills its process: TlsSocket sends through a
// socket BIO with MSG_NOSIGNAL. SIGPIPE keeps its default action (terminate)
// here, so a regression ends the whole test binary.
// Writing requests run on the write lane, not on the event workers: with a
// single worker, concurrent Creates still reach the store together (one
// commit carries several) and reads are answered meanwhile.
TEST_F(KmsServerTest, WritesWaitForTheirCommitOffTheWorkers) {
  kms_.Stop();
  kms_.worker_threads = 1;
  ASSERT_NO_FATAL_FAILURE(kms_.Restart());
  constexpr int kWriters = 8;
  constexpr int kCreatesEach = 30;
  std::atomic<int> failures{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&] {
      auto c = MakeClient(kKmip14);
      for (int k = 0; k < kCreatesEach; ++k) {
        if (!c->Create(Aes256()).ok()) ++failures;
      }
    });
  }
  auto reader = MakeClient(kKmip14);
  int reads = 0;
  std::thread stop([&] {
    for (auto& t : writers) t.join();
    writing = false;
  });
  while (writing) {
    ASSERT_TRUE(reader->DiscoverVersions().ok());
    ++reads;
  }
  stop.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads, 0);
  const store::StoreStats stats = kms_.store().stats();
  EXPECT_EQ(stats.writes, kWriters * kCreatesEach) << "every Create is one write";
  EXPECT_GE(stats.largest_batch, 2) << "Creates were never in flight together";
  EXPECT_LT(stats.transactions, stats.writes) << "no commit carried two Creates";
}

// A client that writes in a loop sends its next request within a round
// trip: the write thread that answered the last write waits a moment for it
// and takes it itself, instead of a worker taking it from epoll and handing
// it back to the write lane. Whichever way a Create came, it was answered,
// and so is a read that follows a write. The shutdown log counts both ways.
TEST_F(KmsServerTest, AWriteThreadTakesItsConnectionsNextRequest) {
  constexpr int kCreates = 50;
  auto client = MakeClient(kKmip14);
  ASSERT_NE(client, nullptr);
  std::string last;
  for (int i = 0; i < kCreates; ++i) {
    auto made = client->Create(Aes256());
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    last = made->uid;
  }
  auto key = client->Get(GetOf(last));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const ServerStats stats = kms_.server().stats();
  // Every Create went one way or the other (most of them without a
  // hand-off, all but a few on a loaded machine), and the Get too if the
  // write thread caught it.
  const int64_t both = stats.write_handoffs + stats.taken_after_write;
  EXPECT_TRUE(both == kCreates || both == kCreates + 1)
      << stats.write_handoffs << " handed over, " << stats.taken_after_write << " taken";
  // Without the wait, a client on the same machine still slips its next
  // request in before the write thread looks now and then (11 of 50 in a
  // run with a zero wait); with it, all but the first (50 of 50).
  EXPECT_GE(stats.taken_after_write, kCreates / 2);
  EXPECT_GE(stats.write_handoffs, 1);  // the first Create
  client.reset();
  kms_.Stop();
  EXPECT_NE(kms_.log().find("write threads: " + std::to_string(stats.write_handoffs) +
                            " writing requests handed over by the workers, " +
                            std::to_string(stats.taken_after_write) +
                            " requests taken from their connection right after a write"),
            std::string::npos)
      << kms_.log();
}

TEST_F(KmsServerTest, WritingToAClosedConnectionIsAnErrorNotASigpipe) {
  signal(SIGPIPE, SIG_DFL);
  const std::string dir = kms_.dir().string();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_use_certificate_chain_file(ctx, (dir + "/clients/admin.crt").c_str());
  SSL_CTX_use_PrivateKey_file(ctx, (dir + "/clients/admin.key").c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_load_verify_locations(ctx, (dir + "/ca.crt").c_str(), nullptr);
  auto deadline = TlsSocket::Clock::now() + std::chrono::seconds(10);
  auto sock = TlsSocket::Connect(ctx, "127.0.0.1", kms_.port(), "127.0.0.1", nullptr, deadline);
  ASSERT_TRUE(sock.ok()) << sock.status().ToString();
  kms_.Stop();  // closes every connection
  const std::vector<uint8_t> chunk(64 * 1024, 0x42);
  Status last = OkStatus();
  for (int i = 0; i < 200 && last.ok(); ++i) last = (*sock)->WriteAll(chunk, deadline);
  EXPECT_EQ(last.code(), StatusCode::kUnavailable) << last.ToString();
  EXPECT_NE(last.message().find("write to 127.0.0.1:"), std::string::npos) << last.ToString();
  (*sock)->Shutdown();  // its close_notify meets a closed socket too
  SSL_CTX_free(ctx);
}

// Shutdown drains: a request in flight is answered; idle connections are
// closed; Shutdown returns promptly even with many idle connections open.
TEST_F(KmsServerTest, ShutdownDrainsPromptly) {
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(MakeClient(kKmip14));
    ASSERT_TRUE(idle.back()->DiscoverVersions().ok());
  }
  int silent = TcpConnect(kms_.port());  // mid-handshake: nothing in flight
  ASSERT_GE(silent, 0);
  std::atomic<bool> answered{false};
  std::thread busy([&] {
    auto c = MakeClient(kKmip14);
    for (int i = 0; i < 200; ++i) {
      if (!c->Create(Aes256()).ok()) return;
      answered = true;
    }
  });
  while (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto t0 = std::chrono::steady_clock::now();
  kms_.server().Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  busy.join();
  for (auto& c : idle) EXPECT_FALSE(c->DiscoverVersions().ok());
  close(silent);
}

// Re-key (KMIP 1.4 §4.4): a new key of the same kind, with the old one's
// attributes and names, linked both ways; the dates move by the Offset.
TEST_F(KmsServerTest, ReKeyMakesALinkedReplacement) {
  for (ProtocolVersion v : {kKmip11, kKmip14, kKmip21}) {
    SCOPED_TRACE(v.ToString());
    auto client = MakeClient(v);
    ASSERT_NE(client, nullptr);
    const std::string name = "rekey-me-" + v.ToString();
    CreateRequest create = Aes256(name);
    create.attributes.push_back(Attribute::Text("x-Component", "vm-42"));
    auto made = client->Create(create);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    ASSERT_TRUE(client->Activate(made->uid).ok());
    auto old_key = client->Get(GetOf(made->uid));
    ASSERT_TRUE(old_key.ok());

    ReKeyRequest rekey;
    rekey.uid = made->uid;
    rekey.offset = 3600;
    const int64_t writes_before = kms_.store().stats().writes;
    auto answer = client->Call(Operation::kReKey, *rekey.Encode(v));
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    // The replacement and the old key's link to it: one atomic write.
    EXPECT_EQ(kms_.store().stats().writes, writes_before + 1);
    auto resp = ReKeyResponse::Decode(*answer, v);
    ASSERT_TRUE(resp.ok());
    const std::string new_uid = resp->uid;
    ASSERT_NE(new_uid, made->uid);

    // A fresh key of the same algorithm and length.
    auto new_key = client->Get(GetOf(new_uid));
    ASSERT_TRUE(new_key.ok()) << new_key.status().ToString();
    EXPECT_EQ(new_key->object.key_block->key_material.size(), 32u);
    EXPECT_FALSE(
        new_key->object.key_block->key_material.Equals(old_key->object.key_block->key_material));
    // Pre-Active until its Activation Date (now + Offset), copied custom
    // attribute, the name moved over.
    EXPECT_EQ(StateOf(*client, new_uid), static_cast<int64_t>(State::kPreActive));
    auto attrs = client->GetAttributes({new_uid, {"x-Component", "Name", "Link"}});
    ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
    std::string component, link_to;
    bool named = false;
    for (const Attribute& a : attrs->attributes) {
      if (a.name == "x-Component") component = std::string(a.value.text());
      if (a.name == "Name") named = true;
      if (a.name == "Link") link_to = std::string(a.value.children().back().text());
    }
    EXPECT_EQ(component, "vm-42");
    EXPECT_TRUE(named);
    EXPECT_EQ(link_to, made->uid);
    LocateRequest by_name;
    by_name.attributes = {Attribute::Name(name)};
    auto found = client->Locate(by_name);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->uids, std::vector<std::string>{new_uid});
    // The existing key points at its replacement and keeps working.
    auto old_links = client->GetAttributes({made->uid, {"Link"}});
    ASSERT_TRUE(old_links.ok());
    ASSERT_EQ(old_links->attributes.size(), 1u);
    EXPECT_EQ(old_links->attributes[0].value.children().back().text(), new_uid);
    EXPECT_EQ(StateOf(*client, made->uid), static_cast<int64_t>(State::kActive));

    // Only symmetric keys; unknown ones are Item Not Found.
    rekey.uid = "no-such-key";
    auto missing = client->Call(Operation::kReKey, *rekey.Encode(v));
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  }
}

// Get with a Key Wrapping Specification (KMIP 1.4 §2.1.5-§2.1.6): the key
// comes back wrapped by another AES key, as TTLV-encoded Key Value under NIST
// key wrap or as raw key bytes under AES key wrap with padding; a Sensitive
// key leaves only that way. Unwrapped here with our crypto library and the
// wrapping key's own bytes.
TEST_F(KmsServerTest, GetWrapsKeysWithAnotherKey) {
  auto client = MakeClient(kKmip14);
  ASSERT_NE(client, nullptr);
  CreateRequest kek_req = Aes256("wrapping-key");
  kek_req.attributes[2] =
      Attribute::Integer("Cryptographic Usage Mask", usage::kWrapKey | usage::kUnwrapKey);
  auto kek = client->Create(kek_req);
  ASSERT_TRUE(kek.ok());
  ASSERT_TRUE(client->Activate(kek->uid).ok());
  auto kek_bytes = client->Get(GetOf(kek->uid));
  ASSERT_TRUE(kek_bytes.ok());
  const SecretBytes& kek_key = kek_bytes->object.key_block->key_material;

  auto target = client->Create(Aes256("wrapped-key"));
  ASSERT_TRUE(target.ok());
  auto plain = client->Get(GetOf(target->uid));
  ASSERT_TRUE(plain.ok());
  const SecretBytes& key = plain->object.key_block->key_material;

  auto spec = [&](const std::string& wrap_uid, std::optional<uint32_t> mode,
                  std::optional<uint32_t> encoding) {
    std::vector<ttlv::Item> info = {ttlv::Item::TextString(ttlv::tag::kUniqueIdentifier, wrap_uid)};
    if (mode) {
      info.push_back(ttlv::Item::Structure(0x42002B, {ttlv::Item::Enumeration(0x420011, *mode)}));
    }
    std::vector<ttlv::Item> s = {ttlv::Item::Enumeration(0x42009E, 1),
                                 ttlv::Item::Structure(0x420036, std::move(info))};
    if (encoding) s.push_back(ttlv::Item::Enumeration(0x4200A3, *encoding));
    return ttlv::Item::Structure(0x420047, std::move(s));
  };
  // NIST key wrap of the TTLV Key Value (the defaults).
  GetRequest get = GetOf(target->uid);
  get.key_wrapping_specification = spec(kek->uid, std::nullopt, std::nullopt);
  auto wrapped = client->Get(get);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  const KeyBlock& b = *wrapped->object.key_block;
  ASSERT_TRUE(b.wrapped_key_value.has_value());
  ASSERT_TRUE(b.key_wrapping_data.has_value());
  EXPECT_TRUE(b.key_material.empty());
  auto unwrapped = crypto::AesKeyUnwrap(kek_key, b.wrapped_key_value->span());
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  auto value = ttlv::Decode(unwrapped->span());
  ASSERT_TRUE(value.ok());
  const ttlv::Item* material = value->Find(ttlv::tag::kKeyMaterial);
  ASSERT_NE(material, nullptr);
  EXPECT_TRUE(SecretBytes(material->bytes()).Equals(key));

  // AES key wrap with padding of the raw key bytes (No Encoding).
  get.key_wrapping_specification = spec(kek->uid, 0x0C, 1);
  wrapped = client->Get(get);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  auto raw = crypto::AesKeyUnwrapPad(kek_key, wrapped->object.key_block->wrapped_key_value->span());
  ASSERT_TRUE(raw.ok());
  EXPECT_TRUE(raw->Equals(key));

  // A Sensitive key: only wrapped.
  AddAttributeRequest sensitive{target->uid, Attribute::Boolean("Sensitive", true)};
  auto modified = client->Call(Operation::kModifyAttribute, *sensitive.Encode(kKmip14));
  ASSERT_TRUE(modified.ok()) << modified.status().ToString();
  EXPECT_FALSE(client->Get(GetOf(target->uid)).ok());
  get.key_wrapping_specification = spec(kek->uid, std::nullopt, std::nullopt);
  EXPECT_TRUE(client->Get(get).ok());

  // A wrapping key without Wrap Key in its usage mask, or unknown: refused.
  get.key_wrapping_specification = spec(target->uid, std::nullopt, std::nullopt);
  EXPECT_FALSE(client->Get(get).ok());
  get.key_wrapping_specification = spec("no-such-key", std::nullopt, std::nullopt);
  EXPECT_EQ(client->Get(get).status().code(), StatusCode::kNotFound);
  // Another wrapping method: not supported, clearly.
  ttlv::Item mac = spec(kek->uid, std::nullopt, std::nullopt);
  mac.mutable_children()[0] = ttlv::Item::Enumeration(0x42009E, 2);
  get.key_wrapping_specification = mac;
  Status s = client->Get(get).status();
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_NE(s.message().find("Wrapping Method"), std::string::npos);
}

TEST_F(KmsServerTest, NoKeyBytesInTheStoreFilesOrTheAuditLog) {
  auto client = MakeClient(kKmip14);
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) {
    auto created = client->Create(Aes256("scan-" + std::to_string(i)));
    ASSERT_TRUE(created.ok());
    GetRequest get;
    get.uid = created->uid;
    auto got = client->Get(get);
    ASSERT_TRUE(got.ok());
    const SecretBytes& k = got->object.key_block->key_material;
    keys.emplace_back(reinterpret_cast<const char*>(k.data()), k.size());
  }
  // A registered key (secret data) too.
  RegisterRequest reg;
  reg.object_type = ObjectType::kSecretData;
  const std::string secret = "registered secret 0123456789abcdef";
  KeyBlock block;
  block.key_format_type = static_cast<uint32_t>(KeyFormatType::kOpaque);
  block.key_material = SecretBytes(AsBytes(secret));
  reg.object.type = ObjectType::kSecretData;
  reg.object.fields = {ttlv::Item::Enumeration(0x420086, 2)};  // Secret Data Type: Seed
  reg.object.key_block = std::move(block);
  auto registered = client->Register(reg);
  ASSERT_TRUE(registered.ok()) << registered.status().ToString();
  keys.push_back(secret);
  client->Close();
  kms_.Stop();
  for (const char* f : {"kms.db", "kms.db-wal", "kms.db-shm", "audit.log"}) {
    if (!fs::exists(P(f))) continue;
    std::ifstream in(P(f), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string content = ss.str();
    for (const std::string& k : keys) {
      EXPECT_EQ(content.find(k), std::string::npos) << "key bytes found in " << f;
    }
  }
  // The audit log recorded the operations, with the client.
  std::string audit = *ReadFileToString(P("audit.log"));
  EXPECT_NE(audit.find("\"operation\":\"Create\""), std::string::npos);
  EXPECT_NE(audit.find("\"subject\":\"CN=admin,O=vmcrypt\""), std::string::npos);
}

// Software nobody here wrote: PyKMIP's client (Debian python3-pykmip).
TEST_F(KmsServerTest, PyKmipClientDrivesOurServer) {
  const std::string cmd = "/usr/bin/python3 " + std::string(VMCRYPT_SOURCE_DIR) +
                          "/tests/pykmip/drive_our_server.py --port " +
                          std::to_string(kms_.port()) + " --ca " + P("ca.crt") + " --cert " +
                          P("clients/admin.crt") + " --key " + P("clients/admin.key") + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out << "\n(needs Debian package python3-pykmip)";
  EXPECT_NE(out.find("passed, 0 failed"), std::string::npos) << out;
}

}  // namespace
}  // namespace vmcrypt::kms
