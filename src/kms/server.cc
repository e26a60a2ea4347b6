#include "vmcrypt/kms/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "src/kms/server_impl.h"
#include "vmcrypt/base/thread_name.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::kms {

int64_t SteadyNanos(SteadyClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

namespace {

// epoll data of the two non-connection descriptors.
void* const kWakeTag = nullptr;

std::string Subject(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string PeerName(const sockaddr_storage& peer) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (peer.ss_family == AF_INET) {
    auto* p = reinterpret_cast<const sockaddr_in*>(&peer);
    inet_ntop(AF_INET, &p->sin_addr, host, sizeof(host));
    port = ntohs(p->sin_port);
  } else if (peer.ss_family == AF_INET6) {
    auto* p = reinterpret_cast<const sockaddr_in6*>(&peer);
    inet_ntop(AF_INET6, &p->sin6_addr, host, sizeof(host));
    port = ntohs(p->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

constexpr char kOutsideValidity[] = "certificate outside its validity period";

// TLS sessions kept for resumption (see Start).
constexpr long kSessionCacheSize = 1024;

// Three per core, at least 4. More is slower: each idle worker is one more
// thread that an arriving request may have to wake. Measured on 2 vCPUs
// (kms-load, same machine), Get with 16 persistent connections: 12 workers
// about 23,000 ops/s, 8 about 27,000, 6 about 33,000, 4 about 29,500 (too
// few to keep both cores busy); with 64 connections 8 -> 6 gave 31,200 ->
// 37,100. Full-handshake sessions and durable Creates did not change.
int DefaultThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(4u, 3 * (cores == 0 ? 1 : cores)));
}

}  // namespace

bool IdentifyClient(X509* cert, Handshake* hs) {
  const std::string fp = crypto::Sha256Fingerprint(cert);
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0 ||
      X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    hs->refused_subject = Subject(cert);
    hs->refused_fingerprint = fp;
    hs->refusal = kOutsideValidity;
    return false;
  }
  auto client = hs->server->store->FindClientByFingerprint(fp);
  if (!client.ok()) {
    hs->refused_subject = Subject(cert);
    hs->refused_fingerprint = fp;
    hs->refusal = client.status().code() == StatusCode::kNotFound ? "unknown client certificate"
                                                                  : client.status().message();
    return false;
  }
  hs->identity.name = client->name;
  hs->identity.tenant = client->tenant;
  hs->identity.subject = Subject(cert);
  hs->identity.fingerprint = fp;
  return true;
}

namespace {

// Certificate check of a full handshake, in place of OpenSSL's chain
// verification: a client is admitted by its leaf certificate alone
// (IdentifyClient), so building and verifying a chain would decide nothing;
// the CertificateVerify signature still proves the client holds the key
// (RFC 8446 §4.4.3, RFC 5246 §7.4.8). The error set here picks the alert.
int CheckClientCertificate(X509_STORE_CTX* ctx, void* /*arg*/) {
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* hs = ssl == nullptr ? nullptr : static_cast<Handshake*>(SSL_get_app_data(ssl));
  X509* cert = X509_STORE_CTX_get0_cert(ctx);
  if (hs == nullptr || cert == nullptr) {
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  if (!IdentifyClient(cert, hs)) {
    X509_STORE_CTX_set_error(ctx, hs->refusal == kOutsideValidity ? X509_V_ERR_CERT_HAS_EXPIRED
                                                                  : X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(ctx, X509_V_OK);
  return 1;
}

}  // namespace

Result<std::unique_ptr<KmsServer>> KmsServer::Start(const ServerOptions& options, Engine* engine,
                                                    store::ObjectStore* store, AuditLog* audit,
                                                    Logger log) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->engine = engine;
  impl->store = store;
  impl->audit = audit;
  impl->log = log ? std::move(log) : [](const std::string&) {};

  impl->ctx.reset(SSL_CTX_new(TLS_server_method()));
  if (!impl->ctx) return InternalError("SSL_CTX_new failed");
  SSL_CTX* ctx = impl->ctx.get();
  if (options.min_tls != "1.2" && options.min_tls != "1.3") {
    return InvalidArgumentError("min_tls must be \"1.2\" or \"1.3\", not \"" + options.min_tls +
                                "\"");
  }
  SSL_CTX_set_min_proto_version(ctx, options.min_tls == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("cannot load the server certificate " + options.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("cannot load the server key " + options.key_file +
                                " (or it does not match the certificate)");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, CheckClientCertificate, nullptr);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Sessions resume from the server's own cache (session IDs in TLS 1.2,
  // stateful tickets in 1.3, RFC 8446 §4.6.1) rather than stateless tickets:
  // OpenSSL 3.0 builds a stateless ticket by re-parsing the session and its
  // client certificate, twice per TLS 1.3 handshake, which was a fifth of the
  // server's handshake time. A resumed session skips CheckClientCertificate:
  // Admit identifies its client again after the handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  // A cached session holds its client certificate (about 9 KiB in all): at
  // OpenSSL's default of 20480 the cache would keep ~200 MB of locked memory
  // after a burst of handshakes. A KMS has a few clients that each resume one
  // connection at a time; the oldest session goes first when it is full.
  SSL_CTX_sess_set_cache_size(ctx, kSessionCacheSize);
  // One TLS 1.3 ticket per handshake, not two: a KMIP client resumes one
  // connection at a time, and each ticket costs a cached session.
  SSL_CTX_set_num_tickets(ctx, 1);
  // One recv per burst instead of a 5-byte record header read, then the
  // body. Safe with epoll: a connection is re-armed only after SSL_read
  // reported WANT_READ or SSL_has_pending() said OpenSSL holds nothing
  // (server_conn.cc, Pump).
  SSL_CTX_set_read_ahead(ctx, 1);
  const unsigned char sid[] = "vmcrypt-kms";
  SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);

  // Bind.
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("listen must be HOST:PORT");
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const int port = std::atoi(options.listen.c_str() + colon + 1);
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = AF_INET;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    addr_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    family = AF_INET6;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    addr_len = sizeof(sockaddr_in6);
  } else {
    return InvalidArgumentError("listen address '" + host + "' is not an IP address");
  }
  impl->listen_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(impl->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&addr), addr_len) != 0 ||
      listen(impl->listen_fd, 512) != 0) {
    int err = errno;
    close(impl->listen_fd);
    return UnavailableError("cannot listen on " + options.listen + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  impl->port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  const int threads = options.threads > 0 ? options.threads : DefaultThreads();
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl->epoll_fd < 0 || impl->wake_fd < 0) {
    int err = errno;
    close(impl->listen_fd);
    return InternalError(std::string("epoll/eventfd: ") + std::strerror(err));
  }
  Impl* raw = impl.get();
  epoll_event wake{};
  wake.events = EPOLLIN;  // level-triggered: once written, wakes every worker
  wake.data.ptr = kWakeTag;
  epoll_event listen_ev{};
  listen_ev.events = EPOLLIN | EPOLLONESHOT;
  listen_ev.data.ptr = raw;
  epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &wake);
  epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->listen_fd, &listen_ev);
  for (int i = 0; i < threads; ++i) impl->workers.emplace_back([raw] { raw->WorkerLoop(); });
  const int write_threads = options.write_threads > 0 ? options.write_threads : 64;
  for (int i = 0; i < write_threads; ++i) {
    impl->write_threads.emplace_back([raw] { raw->WriteLoop(); });
  }
  impl->housekeeper = std::thread([raw] { raw->Housekeep(); });
  impl->log("listening on " + host + ":" + std::to_string(impl->port) + " (TLS " + options.min_tls +
            "+, client certificates required, " + std::to_string(threads) + " worker threads, " +
            std::to_string(write_threads) + " write threads)");
  return std::unique_ptr<KmsServer>(new KmsServer(std::move(impl)));
}

KmsServer::KmsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KmsServer::~KmsServer() { Shutdown(); }
uint16_t KmsServer::port() const { return impl_->port; }

ServerStats KmsServer::stats() const {
  return {impl_->write_handoffs.load(), impl_->taken_after_write.load()};
}

void KmsServer::Shutdown() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.shut_down) return;
    s.shut_down = true;
  }
  // No new connections; the housekeeper closes every connection that is
  // between requests, and workers close theirs after the current answer.
  s.stopping = true;
  epoll_ctl(s.epoll_fd, EPOLL_CTL_DEL, s.listen_fd, nullptr);
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.changed.notify_all();
    s.changed.wait(lock, [&] { return s.connections.empty(); });
    s.exit_workers = true;
    s.changed.notify_all();
  }
  uint64_t one = 1;
  (void)!write(s.wake_fd, &one, sizeof(one));
  for (auto& t : s.workers) t.join();
  {
    std::lock_guard<std::mutex> lock(s.lane_mu);
    s.lane_exit = true;  // the lane is empty: every connection is gone
  }
  s.lane_cv.notify_all();
  for (auto& t : s.write_threads) t.join();
  s.housekeeper.join();
  close(s.listen_fd);
  close(s.epoll_fd);
  close(s.wake_fd);
  if (s.store != nullptr) {
    // For the operator: how well writes shared commits and flushes, and how
    // many reads the row cache answered (docs/kms.md, "Key material at rest").
    const store::StoreStats st = s.store->stats();
    s.log("store: " + std::to_string(st.writes) + " writes in " + std::to_string(st.transactions) +
          " commits, " + std::to_string(st.syncs) + " WAL flushes and " +
          std::to_string(st.checkpoints) + " checkpoints (largest commit: " +
          std::to_string(st.largest_batch) + " writes); reads: " + std::to_string(st.cache_hits) +
          " from the row cache, " + std::to_string(st.cache_misses) + " from the database");
  }
  s.log("write threads: " + std::to_string(s.write_handoffs.load()) +
        " writing requests handed over by the workers, " +
        std::to_string(s.taken_after_write.load()) +
        " requests taken from their connection right after a write");
  s.log("stopped");
}

void BlockSigpipe() {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
}

void KmsServer::Impl::WorkerLoop() {
  SetCurrentThreadName("kms-worker");
  BlockSigpipe();
  while (true) {
    epoll_event ev{};
    const int n = epoll_wait(epoll_fd, &ev, 1, -1);
    if (n < 0 && errno != EINTR) {
      log(std::string("epoll_wait: ") + std::strerror(errno));
      return;
    }
    if (n <= 0) continue;
    if (ev.data.ptr == kWakeTag) {
      if (exit_workers) return;
      continue;
    }
    if (ev.data.ptr == this) {
      AcceptAll();
      continue;
    }
    Drive(static_cast<Connection*>(ev.data.ptr));
  }
}

void KmsServer::Impl::AcceptAll() {
  // At most a burst per wake-up, so that one worker does not starve the
  // connections waiting for an answer.
  for (int burst = 0; burst < 64 && !stopping; ++burst) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd =
        accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        log(std::string("accept: ") + std::strerror(errno) + "; pausing 100 ms");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      break;  // EAGAIN, or a connection that died in the queue
    }
    const std::string name = PeerName(peer);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (static_cast<int>(connections.size()) >= options.max_connections) {
        close(fd);
        log("refused " + name + ": " + std::to_string(connections.size()) + " connections already");
        continue;
      }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->peer = name;
    c->hs.server = this;
    c->ssl.reset(SSL_new(ctx.get()));
    if (!c->ssl) {
      close(fd);
      log("SSL_new failed for " + name);
      continue;
    }
    SSL_set_fd(c->ssl.get(), fd);
    SSL_set_app_data(c->ssl.get(), &c->hs);
    SSL_set_accept_state(c->ssl.get());
    c->handshake_deadline = SteadyClock::now() + options.io_timeout;
    c->deadline_ns = SteadyNanos(c->handshake_deadline);
    c->between_requests = true;  // nothing in flight until a request arrives
    Connection* raw = c.release();
    Track(raw);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.ptr = raw;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      Close(raw, std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }
  if (stopping) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.ptr = this;
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &ev);  // fails harmlessly once removed
}

void KmsServer::Impl::Track(Connection* c) {
  std::lock_guard<std::mutex> lock(mu);
  connections.insert(c);
}

void KmsServer::Impl::Close(Connection* c, const std::string& why) {
  if (!why.empty()) log("closing " + c->peer + ": " + why);
  if (c->handshaken && !c->expired) {
    ERR_clear_error();
    SSL_shutdown(c->ssl.get());  // one attempt at close_notify; never waits
  }
  ERR_clear_error();
  {
    std::lock_guard<std::mutex> lock(mu);
    connections.erase(c);
    close(c->fd);  // under `mu`: the housekeeper never sees a reused number
    if (connections.empty()) changed.notify_all();  // Stop() waits for that
  }
  delete c;  // SSL_free outside the lock; workers are joined before Stop() ends
}

void KmsServer::Impl::Housekeep() {
  SetCurrentThreadName("kms-housekeep");
  std::unique_lock<std::mutex> lock(mu);
  while (!exit_workers) {
    changed.wait_for(lock, std::chrono::milliseconds(100));
    if (exit_workers) break;
    const int64_t now = SteadyNanos(SteadyClock::now());
    for (Connection* c : connections) {
      const int64_t deadline = c->deadline_ns.load();
      const bool due = deadline != 0 && deadline < now;
      const bool drain = stopping && c->between_requests.load();
      // The owning worker sees end-of-file and closes the connection.
      if ((due || drain) && !c->expired.exchange(true)) shutdown(c->fd, SHUT_RDWR);
    }
  }
}

}  // namespace vmcrypt::kms
