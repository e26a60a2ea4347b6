// KmsServer: the KMIP-over-TLS listener of the key server (KMIP 1.4 §8;
// KMIP Profiles, Basic/TLS authentication suites).
//
// It requires TLS 1.2 or 1.3 and a client certificate. A client is admitted
// when its certificate's SHA-256 fingerprint is registered in the store
// (`vmcrypt kms client add`); that registration names its tenant. Any other
// certificate is refused during the handshake and logged with its subject and
// fingerprint. Connections are multiplexed over a pool of worker threads
// (epoll; `threads`, four per core by default): idle connections cost no
// thread. A request that commits to the store (Engine::Writes) is handed to
// a second pool (`write_threads`), whose threads wait for the durable write,
// so that a burst of writes never leaves reads without a worker and enough
// writes are in flight to share each commit (group commit). A
// connection's requests are answered in order, one message at a time (bounded
// by max_message_size and the timeouts). Malformed messages get an Invalid
// Message response; a message over the size limit gets one and the connection
// is closed. Shutdown() stops accepting, lets in-flight requests finish and
// joins every thread.
#ifndef VMCRYPT_KMS_SERVER_H_
#define VMCRYPT_KMS_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kms/audit.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/store/object_store.h"

namespace vmcrypt::kms {

struct ServerOptions {
  std::string listen = "0.0.0.0:5696";  // HOST:PORT; port 0 picks a free one
  std::string cert_file;                // the server's certificate chain (PEM)
  std::string key_file;                 // its private key (PEM)
  std::string min_tls = "1.2";          // "1.2" or "1.3"
  size_t max_message_size = 1 << 20;
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds io_timeout{30};
  int max_connections = 1024;
  int threads = 0;  // worker threads; 0 = three per core (at least 4)
  // Threads that run writing requests and wait for their commit; 0 = 64.
  int write_threads = 0;
};

// How requests moved between the server's threads (see KmsServer::stats).
struct ServerStats {
  // Writing requests a worker handed to the write threads.
  int64_t write_handoffs = 0;
  // Requests that arrived while a write thread, having answered a write,
  // waited a moment for the same connection's next one (and took it).
  int64_t taken_after_write = 0;
};

class KmsServer {
 public:
  using Logger = std::function<void(const std::string&)>;

  // Binds and starts serving. `engine`, `store` (for the client registry)
  // and `audit` (may be null) must outlive the server.
  static Result<std::unique_ptr<KmsServer>> Start(const ServerOptions& options, Engine* engine,
                                                  store::ObjectStore* store, AuditLog* audit,
                                                  Logger log);
  ~KmsServer();

  uint16_t port() const;
  ServerStats stats() const;
  // Stops accepting, waits for in-flight requests, joins all threads.
  // Idempotent.
  void Shutdown();

  struct Impl;

 private:
  explicit KmsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_SERVER_H_
