#include "socket_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace vmcrypt::nbd {

Status ReadFull(int fd, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::recv(fd, out.data() + done, out.size() - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return UnavailableError("connection closed by the peer");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return DeadlineExceededError("receive timed out");
    return UnavailableError(std::string("receive failed: ") + std::strerror(errno));
  }
  return OkStatus();
}

Status Discard(int fd, uint64_t n) {
  std::vector<uint8_t> sink(std::min<uint64_t>(n, 64 << 10));
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, sink.size()));
    RETURN_IF_ERROR(ReadFull(fd, std::span(sink.data(), chunk)));
    n -= chunk;
  }
  return OkStatus();
}

Status WriteFull(int fd, std::span<const iovec> iov_in) {
  std::vector<iovec> iov(iov_in.begin(), iov_in.end());
  size_t first = 0;
  while (first < iov.size()) {
    if (iov[first].iov_len == 0) {
      ++first;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = iov.size() - first;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return DeadlineExceededError("send timed out");
      return UnavailableError(std::string("send failed: ") + std::strerror(errno));
    }
    while (n > 0 && first < iov.size()) {
      const size_t take = std::min<size_t>(static_cast<size_t>(n), iov[first].iov_len);
      iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + take;
      iov[first].iov_len -= take;
      n -= static_cast<ssize_t>(take);
      if (iov[first].iov_len == 0) ++first;
    }
  }
  return OkStatus();
}

Status WriteFull(int fd, std::span<const uint8_t> data) {
  const iovec iov{const_cast<uint8_t*>(data.data()), data.size()};
  return WriteFull(fd, std::span(&iov, 1));
}

namespace {

void SetTimeout(int fd, int opt, std::chrono::seconds t) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count());
  ::setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

}  // namespace

void SetReceiveTimeout(int fd, std::chrono::seconds t) { SetTimeout(fd, SO_RCVTIMEO, t); }
void SetSendTimeout(int fd, std::chrono::seconds t) { SetTimeout(fd, SO_SNDTIMEO, t); }

Result<UniqueFd> ListenUnix(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return InvalidArgumentError("unix socket path must be 1.." +
                                std::to_string(sizeof(addr.sun_path) - 1) + " bytes: " + path);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return AlreadyExistsError(path + " exists and is not a socket");
    }
    // Is someone serving on it? Only a socket nobody accepts on is replaced.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() &&
        ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      return AlreadyExistsError("a server is already listening on " + path);
    }
    ::unlink(path.c_str());
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return UnavailableError(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return UnavailableError("cannot bind " + path + ": " + std::strerror(errno));
  }
  // Restrict the socket to its owner before anyone can be accepted (umask is
  // process-wide, so it is not touched here).
  if (::chmod(path.c_str(), 0600) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return UnavailableError("cannot chmod " + path + ": " + std::strerror(err));
  }
  if (::listen(fd.get(), 64) != 0) {
    return UnavailableError("cannot listen on " + path + ": " + std::strerror(errno));
  }
  return fd;
}

Result<UniqueFd> ListenTcp(const std::string& listen, uint16_t* port_out) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("listen must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return InvalidArgumentError("bad port in " + listen);
  }
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    return InvalidArgumentError("listen host must be a numeric address: " + host);
  }
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return UnavailableError(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return UnavailableError("cannot bind " + listen + ": " + std::strerror(errno));
  }
  if (::listen(fd.get(), 64) != 0) {
    return UnavailableError("cannot listen on " + listen + ": " + std::strerror(errno));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len);
  *port_out =
      ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return fd;
}

void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

}  // namespace vmcrypt::nbd
