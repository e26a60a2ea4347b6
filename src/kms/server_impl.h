// The insides of KmsServer, shared by server.cc (listener, worker pool,
// timers, shutdown) and server_conn.cc (one connection's state machine).
//
// Concurrency model: one epoll set; `threads` workers wait on it. Every
// socket is registered with EPOLLONESHOT, so a ready connection is driven by
// exactly one worker at a time: it completes the TLS handshake, reads,
// answers every complete request (Engine::Process may block on a durable
// commit: only this worker waits), writes, and re-arms the socket before it
// returns to epoll_wait. Idle connections cost no thread. A housekeeping
// thread enforces deadlines by shutting down the socket of an expired
// connection (never closing it: the owning worker then reads EOF and cleans
// up), which also serves the drain on Shutdown().
#ifndef VMCRYPT_SRC_KMS_SERVER_IMPL_H_
#define VMCRYPT_SRC_KMS_SERVER_IMPL_H_

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "vmcrypt/kms/server.h"
#include "vmcrypt/ttlv/codec.h"

namespace vmcrypt::kms {

using SteadyClock = std::chrono::steady_clock;

// State for the handshake's verify callback (SSL app data).
struct Handshake {
  KmsServer::Impl* server = nullptr;
  ClientIdentity identity;
  std::string refused_subject;
  std::string refused_fingerprint;
  std::string refusal;
};

// Admits a client certificate when its fingerprint is registered (whatever
// issued it: vCenter may present a self-signed certificate) and it is within
// its validity period: fills `hs->identity` and returns true, or fills the
// refusal fields and returns false.
bool IdentifyClient(X509* cert, Handshake* hs);

// Blocks SIGPIPE on the calling thread: a write to a socket the peer closed
// must fail with EPIPE, not kill the process (the signal stays pending).
void BlockSigpipe();

struct Connection {
  int fd = -1;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl{nullptr, SSL_free};
  std::string peer;  // "host:port"
  Handshake hs;
  bool handshaken = false;
  // The last request answered changed the store (set on write threads).
  bool last_request_wrote = false;
  // Bytes received and not yet consumed: in[in_start, in.size()).
  ttlv::Bytes in;
  size_t in_start = 0;
  // A response (or several) not yet fully written: out[out_start, ...).
  ttlv::Bytes out;
  size_t out_start = 0;
  bool close_after_write = false;
  SteadyClock::time_point handshake_deadline;
  SteadyClock::time_point message_started;  // when the buffered bytes began
  // Written by the owning worker, read by the housekeeping thread.
  std::atomic<int64_t> deadline_ns{0};  // steady clock; 0 = none (busy)
  std::atomic<bool> between_requests{false};
  std::atomic<bool> expired{false};

  size_t buffered() const { return in.size() - in_start; }
};

struct KmsServer::Impl {
  ServerOptions options;
  Engine* engine = nullptr;
  store::ObjectStore* store = nullptr;
  AuditLog* audit = nullptr;
  Logger log;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, SSL_CTX_free};
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;  // readable once the workers must exit
  uint16_t port = 0;
  std::vector<std::thread> workers;
  std::thread housekeeper;

  // The write lane: connections whose next request writes, waiting for a
  // write thread (which then owns them like a worker would).
  std::mutex lane_mu;
  std::condition_variable lane_cv;
  std::deque<Connection*> lane;  // guarded by lane_mu
  bool lane_exit = false;        // guarded by lane_mu
  std::vector<std::thread> write_threads;
  std::atomic<int64_t> write_handoffs{0};
  std::atomic<int64_t> taken_after_write{0};

  std::atomic<bool> stopping{false};      // no new connections; drain
  std::atomic<bool> exit_workers{false};  // every connection is gone

  std::mutex mu;  // guards everything below
  std::condition_variable changed;
  std::unordered_set<Connection*> connections;
  bool shut_down = false;

  // server.cc
  void WorkerLoop();
  void WriteLoop();
  void AcceptAll();
  void Housekeep();
  void Track(Connection* c);
  // Unregisters, closes and frees `c` (its owning worker only).
  void Close(Connection* c, const std::string& why);

  // server_conn.cc: runs `c` until it would block (re-armed) or ends (closed).
  void Drive(Connection* c);

  // Advances the TLS handshake; false when `c` was closed or re-armed.
  bool DoHandshake(Connection* c);
  // After a completed handshake: a resumed session skipped the certificate
  // check, so its client is identified again here (it may have been removed
  // since). False when refused (and `c` closed).
  bool Admit(Connection* c);
  // Reads, answers and writes until `c` would block (re-armed) or ends.
  void Pump(Connection* c);
  // Writes c->out; 0 when all written, else the SSL_ERROR_* that blocks
  // it, or -1 on failure.
  int FlushOutput(Connection* c);
  // Answers the first buffered message when it is complete (appending to
  // c->out). kHandedOff: the message writes and this is not a write
  // thread, so `c` went to the write lane untouched and belongs to it now.
  enum class Answer { kNothing, kAnswered, kHandedOff };
  Answer AnswerOne(Connection* c);
  // On a write thread, after answering a write: waits up to kWriteLingerMs
  // (server_conn.cc) for the connection's next request. True when it has arrived (read it
  // here); false when `c` should go back to epoll.
  bool AwaitNextRequest(Connection* c);
  // Waits for `events` on `c` until `deadline`.
  void Rearm(Connection* c, uint32_t events, SteadyClock::time_point deadline,
             bool between_requests);
};

int64_t SteadyNanos(SteadyClock::time_point t);

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_SRC_KMS_SERVER_IMPL_H_
