#include "vmcrypt/nbd/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#include "connection.h"
#include "protocol.h"
#include "socket_io.h"

namespace vmcrypt::nbd {

struct Server::Impl {
  struct Conn {
    int fd = -1;  // closed by its thread under `mu`, then set to -1
    std::thread thread;
    bool done = false;
  };

  ServerOptions options;
  std::vector<Export> exports;
  Logger log;
  UniqueFd listen_fd;
  UniqueFd wake_fd;  // eventfd that wakes the acceptor on Shutdown
  uint16_t port = 0;
  std::thread acceptor;

  mutable std::mutex mu;
  std::condition_variable changed;
  std::list<Conn> conns;
  int active = 0;
  bool stopping = false;
  bool shut_down = false;
  uint64_t next_id = 0;

  void AcceptLoop();
  void ReapLocked();
  void Serve(Conn* conn, std::string peer);
};

namespace {

std::string PeerName(const sockaddr_storage& addr, uint64_t id) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "unix#" + std::to_string(id);
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                              std::vector<Export> exports, Logger log) {
  if (options.unix_path.empty() == options.listen.empty()) {
    return InvalidArgumentError("give exactly one of a unix socket path and HOST:PORT");
  }
  if (exports.empty()) return InvalidArgumentError("no export to serve");
  std::set<std::string> names;
  for (const Export& e : exports) {
    if (e.device == nullptr) return InvalidArgumentError("export \"" + e.name + "\" has no device");
    if (e.name.size() > proto::kMaxStringLength) {
      return InvalidArgumentError("export name longer than 4096 bytes");
    }
    if (e.name.find('\0') != std::string::npos) {
      return InvalidArgumentError("export name contains NUL");
    }
    if (!names.insert(e.name).second) {
      return InvalidArgumentError("duplicate export name \"" + e.name + "\"");
    }
    // proto.md "Block size constraints": powers of two; minimum up to
    // 64 KiB, preferred at least 512 and at least the minimum.
    const uint32_t min = e.device->min_block_size();
    const uint32_t preferred = e.device->block_size();
    if (min == 0 || (min & (min - 1)) != 0 || min > (64 << 10)) {
      return InvalidArgumentError("export \"" + e.name +
                                  "\": minimum block size must be a power of two up to 64 KiB");
    }
    if ((preferred & (preferred - 1)) != 0 || preferred < 512 || preferred < min ||
        preferred > proto::kMaxPayload) {
      return InvalidArgumentError("export \"" + e.name +
                                  "\": block size must be a power of two, 512 B to 32 MiB, and at "
                                  "least the minimum block size");
    }
  }
  if (options.max_connections < 1) return InvalidArgumentError("max_connections must be >= 1");
  if (options.threads_per_connection < 1 || options.threads_per_connection > 64) {
    return InvalidArgumentError("threads_per_connection must be 1..64");
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->exports = std::move(exports);
  impl->log = std::move(log);
  if (!options.unix_path.empty()) {
    ASSIGN_OR_RETURN(impl->listen_fd, ListenUnix(options.unix_path));
  } else {
    ASSIGN_OR_RETURN(impl->listen_fd, ListenTcp(options.listen, &impl->port));
  }
  impl->wake_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  if (!impl->wake_fd.valid()) return InternalError("eventfd failed");
  Impl* raw = impl.get();
  impl->acceptor = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

uint16_t Server::port() const { return impl_->port; }

int Server::connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->active;
}

void Server::Impl::ReapLocked() {
  for (auto it = conns.begin(); it != conns.end();) {
    if (it->done) {
      it->thread.join();  // the thread has finished its work; join is immediate
      it = conns.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::Impl::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd.get(), POLLIN, 0}, {wake_fd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      if (log) log("nbd: poll failed, no longer accepting");
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    UniqueFd fd(::accept4(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC));
    if (!fd.valid()) {
      // Out of descriptors: back off instead of spinning on a ready listener.
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;  // otherwise the client just went away
    }
    if (addr.ss_family == AF_INET || addr.ss_family == AF_INET6) {
      const int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    SetSendTimeout(fd.get(), options.send_timeout);

    std::lock_guard<std::mutex> lock(mu);
    ReapLocked();
    const std::string peer = PeerName(addr, next_id++);
    if (stopping) return;
    if (active >= options.max_connections) {
      if (log) log("nbd " + peer + ": refused, " + std::to_string(active) + " connections open");
      continue;  // `fd` closes
    }
    Conn& conn = conns.emplace_back();
    conn.fd = fd.Release();
    ++active;
    conn.thread = std::thread([this, c = &conn, peer] { Serve(c, peer); });
  }
}

void Server::Impl::Serve(Conn* conn, std::string peer) {
  Connection(conn->fd, std::move(peer), &exports, &options, &log).Run();
  std::lock_guard<std::mutex> lock(mu);
  ::close(conn->fd);
  conn->fd = -1;
  conn->done = true;
  --active;
  changed.notify_all();
}

void Server::Shutdown() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.shut_down) return;
    s.shut_down = true;
    s.stopping = true;
  }
  const uint64_t one = 1;
  if (::write(s.wake_fd.get(), &one, sizeof(one)) < 0) {
    // An eventfd write only fails on overflow, which one write cannot cause.
  }
  if (s.acceptor.joinable()) s.acceptor.join();
  s.listen_fd.Reset();
  if (!s.options.unix_path.empty()) ::unlink(s.options.unix_path.c_str());

  std::unique_lock<std::mutex> lock(s.mu);
  // No more requests are read; a request being served still gets its reply
  // (proto.md "Terminating the transmission phase": wait for in-flight
  // requests, then hard disconnect).
  for (Impl::Conn& c : s.conns) {
    if (!c.done) ::shutdown(c.fd, SHUT_RD);
  }
  if (!s.changed.wait_for(lock, s.options.shutdown_grace, [&] { return s.active == 0; })) {
    for (Impl::Conn& c : s.conns) {
      if (!c.done) ::shutdown(c.fd, SHUT_RDWR);
    }
    s.changed.wait(lock, [&] { return s.active == 0; });
  }
  s.ReapLocked();
}

}  // namespace vmcrypt::nbd
