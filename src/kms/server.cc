#include "vmcrypt/kms/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "vmcrypt/kmip/message.h"
#include "vmcrypt/kmip/tls_socket.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {

using kmip::TlsSocket;
using Clock = TlsSocket::Clock;

namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof(hex), "%02X", md[i]);
    if (i != 0) out += ":";
    out += hex;
  }
  return out;
}

std::string Subject(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

// Reads the protocol version of a message whose body did not decode, from
// its Request Header alone (so the error can be answered in that version).
std::optional<kmip::ProtocolVersion> SniffVersion(std::span<const uint8_t> msg) {
  if (msg.size() < 16) return std::nullopt;
  std::span<const uint8_t> inner = msg.subspan(8);
  auto size = ttlv::MessageSize(inner.first(8));
  if (!size.ok() || *size > inner.size()) return std::nullopt;
  auto header = ttlv::Decode(inner.first(*size));
  if (!header.ok() || header->tag() != ttlv::tag::kRequestHeader) return std::nullopt;
  return kmip::PeekVersion(ttlv::Item::Structure(ttlv::tag::kRequestMessage, {*header}));
}

}  // namespace

struct KmsServer::Impl {
  ServerOptions options;
  Engine* engine = nullptr;
  store::ObjectStore* store = nullptr;
  AuditLog* audit = nullptr;
  Logger log;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, SSL_CTX_free};
  int listen_fd = -1;
  int wake_fd = -1;
  uint16_t port = 0;
  std::thread acceptor;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable drained;
  int connections = 0;
  bool shut_down = false;

  void AcceptLoop();
  void Serve(int fd, std::string peer);
  bool ServeOne(TlsSocket& sock, const ClientIdentity& who);
};

// Per-connection state for the verify callback.
struct Handshake {
  KmsServer::Impl* server;
  ClientIdentity identity;
  std::string refused_subject;
  std::string refused_fingerprint;
  std::string refusal;
};

namespace {

// Admits a client certificate when its fingerprint is registered (whatever
// issued it: vCenter may present a self-signed certificate), and it is within
// its validity period. Chain errors above the leaf are not the question.
int VerifyClient(int preverify_ok, X509_STORE_CTX* ctx) {
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* hs = static_cast<Handshake*>(SSL_get_app_data(ssl));
  if (hs == nullptr) return preverify_ok;
  if (X509_STORE_CTX_get_error_depth(ctx) > 0) return 1;
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  if (cert == nullptr) return 0;
  const std::string fp = Fingerprint(cert);
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0 ||
      X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    hs->refused_subject = Subject(cert);
    hs->refused_fingerprint = fp;
    hs->refusal = "certificate outside its validity period";
    return 0;
  }
  auto client = hs->server->store->FindClientByFingerprint(fp);
  if (!client.ok()) {
    hs->refused_subject = Subject(cert);
    hs->refused_fingerprint = fp;
    hs->refusal = client.status().code() == StatusCode::kNotFound ? "unknown client certificate"
                                                                  : client.status().message();
    return 0;
  }
  hs->identity.name = client->name;
  hs->identity.tenant = client->tenant;
  hs->identity.subject = Subject(cert);
  hs->identity.fingerprint = fp;
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
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, VerifyClient);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
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
  impl->listen_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
  impl->wake_fd = eventfd(0, EFD_CLOEXEC);
  Impl* raw = impl.get();
  impl->acceptor = std::thread([raw] { raw->AcceptLoop(); });
  impl->log("listening on " + host + ":" + std::to_string(impl->port) + " (TLS " + options.min_tls +
            "+, client certificates required)");
  return std::unique_ptr<KmsServer>(new KmsServer(std::move(impl)));
}

KmsServer::KmsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KmsServer::~KmsServer() { Shutdown(); }
uint16_t KmsServer::port() const { return impl_->port; }

void KmsServer::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  impl_->stopping = true;
  uint64_t one = 1;
  (void)!write(impl_->wake_fd, &one, sizeof(one));
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->drained.wait(lock, [&] { return impl_->connections == 0; });
  close(impl_->listen_fd);
  close(impl_->wake_fd);
  impl_->log("stopped");
}

void KmsServer::Impl::AcceptLoop() {
  while (!stopping) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0 || stopping) break;
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    char host[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (peer.ss_family == AF_INET) {
      auto* p = reinterpret_cast<sockaddr_in*>(&peer);
      inet_ntop(AF_INET, &p->sin_addr, host, sizeof(host));
      port = ntohs(p->sin_port);
    } else if (peer.ss_family == AF_INET6) {
      auto* p = reinterpret_cast<sockaddr_in6*>(&peer);
      inet_ntop(AF_INET6, &p->sin6_addr, host, sizeof(host));
      port = ntohs(p->sin6_port);
    }
    std::string name = std::string(host) + ":" + std::to_string(port);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (connections >= options.max_connections) {
        close(fd);
        log("refused " + name + ": " + std::to_string(connections) + " connections already");
        continue;
      }
      ++connections;
    }
    std::thread([this, fd, name] {
      Serve(fd, name);
      std::lock_guard<std::mutex> lock(mu);
      if (--connections == 0) drained.notify_all();
    }).detach();
  }
}

void KmsServer::Impl::Serve(int fd, std::string peer) {
  Handshake hs{this, {}, {}, {}, {}};
  auto sock = TlsSocket::Accept(ctx.get(), fd, peer, Clock::now() + options.io_timeout, &hs);
  if (!sock.ok()) {
    if (!hs.refused_fingerprint.empty()) {
      log("refused client " + peer + ": " + hs.refusal + " (subject \"" + hs.refused_subject +
          "\", sha256 " + hs.refused_fingerprint + ")");
    } else {
      log(sock.status().message());
    }
    return;
  }
  while (!stopping) {
    // Wait for the next request in short slices so that a shutdown is seen.
    const auto idle_deadline = Clock::now() + options.idle_timeout;
    bool readable = false;
    while (!stopping && Clock::now() < idle_deadline) {
      if ((*sock)->WaitReadable(
              std::min(idle_deadline, Clock::now() + std::chrono::milliseconds(200)))) {
        readable = true;
        break;
      }
    }
    if (!readable) break;
    if (!ServeOne(**sock, hs.identity)) break;
  }
  (*sock)->Shutdown();
}

bool KmsServer::Impl::ServeOne(TlsSocket& sock, const ClientIdentity& who) {
  const auto deadline = Clock::now() + options.io_timeout;
  ttlv::Bytes header(ttlv::kHeaderSize);
  if (!sock.ReadExact(header, deadline).ok()) return false;  // closed or timed out
  ttlv::Limits limits;
  limits.max_message_size = options.max_message_size;
  auto size = ttlv::MessageSize(header, limits);
  auto reply = [&](const ttlv::Item& response) {
    auto wire = ttlv::Encode(response);
    return wire.ok() && sock.WriteAll(*wire, Clock::now() + options.io_timeout).ok();
  };
  if (!size.ok()) {
    // Not a message we will read: answer once, then close (KMIP 1.4 §11).
    log("closing " + sock.peer() + ": " + size.status().message());
    reply(engine->InvalidMessage(std::nullopt, size.status().message()));
    return false;
  }
  ttlv::Bytes message(*size);
  std::copy(header.begin(), header.end(), message.begin());
  if (!sock.ReadExact(std::span<uint8_t>(message).subspan(ttlv::kHeaderSize), deadline).ok()) {
    return false;
  }
  auto request = ttlv::Decode(message, limits);
  if (!request.ok()) {
    return reply(engine->InvalidMessage(SniffVersion(message), request.status().message()));
  }
  std::vector<OperationRecord> records;
  ttlv::Item response = engine->Process(who, *request, &records);
  if (audit != nullptr) audit->Record(Now(), who, sock.peer(), records);
  return reply(response);
}

}  // namespace vmcrypt::kms
