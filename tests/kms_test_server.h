// A key server for tests: a fresh `kms init` folder, the store, root key,
// audit log, engine and TLS server, in-process on 127.0.0.1 (port 0), and
// KMIP clients for it. Removes everything on destruction.
#ifndef VMCRYPT_TESTS_KMS_TEST_SERVER_H_
#define VMCRYPT_TESTS_KMS_TEST_SERVER_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "src/base/test_dir.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kms/audit.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::kms::test_support {

class TestKms {
 public:
  // `tag` names the folder (test::TestDir: empty now, removed after the
  // server stops); idle and I/O timeouts are 3 s.
  explicit TestKms(const std::string& tag) : tmp_(tag), dir_(tmp_.path()) {}
  ~TestKms() { Stop(); }

  // Initializes the folder and starts serving. Use with ASSERT_NO_FATAL_FAILURE.
  void Start() {
    InitOptions init;
    init.dir = dir_.string();
    ASSERT_TRUE(InitKmsDirectory(init).ok());
    ASSERT_NO_FATAL_FAILURE(Restart());
  }

  // Serves the folder as it is (after Stop()), on a new port.
  void Restart() {
    auto store = store::OpenSqliteStore(P("kms.db"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto rk = SoftwareRootKey::Load(P("root.key"));
    ASSERT_TRUE(rk.ok());
    root_key_ = std::move(*rk);
    auto audit = AuditLog::Open(P("audit.log"));
    ASSERT_TRUE(audit.ok());
    audit_ = std::move(*audit);
    engine_ = std::make_unique<Engine>(store_.get(), root_key_.get(), EngineOptions{});
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.cert_file = P("server.crt");
    o.key_file = P("server.key");
    o.idle_timeout = std::chrono::seconds(3);
    o.io_timeout = std::chrono::seconds(3);
    o.threads = worker_threads;
    auto server = KmsServer::Start(o, engine_.get(), store_.get(), audit_.get(),
                                   [this](const std::string& line) {
                                     std::lock_guard<std::mutex> lock(log_mu_);
                                     log_ += line + "\n";
                                   });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // Shuts the server down and closes the store and audit log (files stay).
  void Stop() {
    if (server_) server_->Shutdown();
    server_.reset();
    engine_.reset();
    audit_.reset();
    store_.reset();
  }

  // ServerOptions::threads of the next Start() or Restart().
  int worker_threads = 0;

  std::string P(const std::string& f) const { return (dir_ / f).string(); }
  const std::filesystem::path& dir() const { return dir_; }
  uint16_t port() const { return server_->port(); }
  KmsServer& server() { return *server_; }
  store::ObjectStore& store() { return *store_; }
  std::string log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  // A client with the admin bundle (or the given certificate and key).
  std::unique_ptr<kmip::Client> MakeClient(kmip::ProtocolVersion v,
                                           const std::string& cert = "clients/admin.crt",
                                           const std::string& key = "clients/admin.key") {
    kmip::ClientOptions o;
    o.host = "127.0.0.1";
    o.port = port();
    o.ca_file = P("ca.crt");
    o.cert_file = P(cert);
    o.key_file = P(key);
    o.version = v;
    o.io_timeout = std::chrono::seconds(10);
    auto c = kmip::Client::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

 private:
  test::TestDir tmp_;
  std::filesystem::path dir_;
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<SoftwareRootKey> root_key_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<KmsServer> server_;
  std::mutex log_mu_;
  std::string log_;
};

}  // namespace vmcrypt::kms::test_support

#endif  // VMCRYPT_TESTS_KMS_TEST_SERVER_H_
