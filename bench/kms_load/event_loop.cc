#include "bench/kms_load/event_loop.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kmip/message.h"
#include "vmcrypt/ttlv/codec.h"

namespace vmcrypt::bench {
namespace {

using Clock = Worker::Clock;

// Why SSL_read failed with `err`. OpenSSL 3 reports a peer that vanished
// (a TCP reset, or EOF without close_notify) as an SSL error with reason
// "unexpected eof while reading", not as SSL_ERROR_SYSCALL.
std::string ReadError(int err) {
  const unsigned long e = ERR_peek_error();
  if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL ||
      ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    return "connection closed by the server";
  }
  char buf[256] = "no OpenSSL error detail";
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  return std::string("read failed: ") + buf;
}

// One connection's request in flight.
struct Conn {
  Worker* worker = nullptr;
  kmip::TlsSocket* sock = nullptr;
  bool done = false;
  bool in_flight = false;  // a request is prepared and not yet answered
  Row row = Row::kGet;
  PreparedOp op;
  Clock::time_point start;
  ttlv::Bytes out;
  size_t out_done = 0;
  ttlv::Bytes in;          // the response so far
  uint32_t events = 0;     // registered with epoll
  bool just_sent = false;  // the request went out in this Drive() call
};

class Loop {
 public:
  Loop(Clock::time_point deadline, size_t max_message)
      : deadline_(deadline), max_message_(max_message), epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}
  ~Loop() { close(epoll_fd_); }

  void Run(std::vector<Conn>& conns) {
    for (Conn& c : conns) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &c;
      c.events = EPOLLIN;
      if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.sock->fd(), &ev) != 0) {
        Finish(c, UnavailableError(std::string("epoll_ctl: ") + std::strerror(errno)));
        continue;
      }
      ++open_;
      Drive(c);
    }
    epoll_event ready[64];
    while (open_ > 0) {
      const int n = epoll_wait(epoll_fd_, ready, 64, 1000);
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) Drive(*static_cast<Conn*>(ready[i].data.ptr));
    }
  }

 private:
  // Draws the next request and encodes it; after the deadline, or if it
  // cannot be encoded, ends the connection instead (false).
  bool StartNext(Conn& c) {
    if (Clock::now() >= deadline_) {
      Stop(c);
      return false;
    }
    c.row = c.worker->Draw();
    Result<PreparedOp> op = c.worker->Prepare(c.row);
    Result<ttlv::Bytes> wire =
        op.ok() ? kmip::EncodeSingleRequest(op->operation, op->payload, c.worker->version())
                : Result<ttlv::Bytes>(op.status());
    if (!wire.ok()) {
      c.worker->Record(c.row, Clock::now(), Clock::now(), wire.status());
      Stop(c);
      return false;
    }
    c.op = std::move(*op);
    c.out = std::move(*wire);
    c.out_done = 0;
    c.in.clear();
    c.in_flight = true;
    c.start = Clock::now();
    return true;
  }

  // Runs the connection as far as it goes without blocking: writes what is
  // left of the request, reads the response, checks it, starts the next
  // one; re-arms epoll for what OpenSSL waits on. A loop, not recursion, so
  // a server that always answers at once cannot grow the stack.
  void Drive(Conn& c) {
    SSL* ssl = c.sock->ssl();
    while (!c.done) {
      if (!c.in_flight && !StartNext(c)) return;
      while (c.out_done < c.out.size()) {
        ERR_clear_error();
        size_t n = 0;
        const int r = SSL_write_ex(ssl, c.out.data() + c.out_done, c.out.size() - c.out_done, &n);
        if (r == 1) {
          c.out_done += n;
          c.just_sent = c.out_done == c.out.size();
          continue;
        }
        const int err = SSL_get_error(ssl, r);
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
          return Arm(c, err == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN);
        }
        return Fail(c, "write failed");
      }
      if (c.in.size() >= ttlv::kHeaderSize) {
        ttlv::Limits limits;
        limits.max_message_size = max_message_;
        Result<size_t> size = ttlv::MessageSize(std::span(c.in).first(ttlv::kHeaderSize), limits);
        if (!size.ok()) return Fail(c, size.status().message());
        if (c.in.size() > *size) return Fail(c, "unsolicited bytes after a response");
        if (c.in.size() == *size) {
          Complete(c);
          continue;
        }
      }
      // The request just went out and nothing of the answer is in: wait for
      // epoll (armed for EPOLLIN, level-triggered) rather than read(2)
      // EAGAIN, unless OpenSSL already holds bytes that epoll cannot see.
      if (c.just_sent) {
        c.just_sent = false;
        if (c.in.empty() && c.events == EPOLLIN && SSL_has_pending(ssl) == 0) return;
      }
      uint8_t buf[16 * 1024];
      ERR_clear_error();
      size_t n = 0;
      const int r = SSL_read_ex(ssl, buf, sizeof(buf), &n);
      if (r == 1) {
        c.in.insert(c.in.end(), buf, buf + n);
        continue;
      }
      const int err = SSL_get_error(ssl, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        return Arm(c, err == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN);
      }
      return Fail(c, ReadError(err));
    }
  }

  // Decodes and checks the complete response in c.in, and records it.
  void Complete(Conn& c) {
    const Clock::time_point end = Clock::now();
    Result<ttlv::Item> tree = ttlv::Decode(c.in);
    Result<kmip::ResponseMessage> message =
        tree.ok() ? kmip::DecodeResponse(*tree) : Result<kmip::ResponseMessage>(tree.status());
    Result<ttlv::Item> payload =
        message.ok() ? kmip::SingleResponsePayload(c.op.operation, std::move(*message))
                     : Result<ttlv::Item>(message.status());
    const Status status = payload.ok() ? c.op.check(*payload) : payload.status();
    c.worker->Record(c.row, c.start, end, status);
    c.in_flight = false;
  }

  void Arm(Conn& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.sock->fd(), &ev) != 0) {
      return Fail(c, std::string("epoll_ctl: ") + std::strerror(errno));
    }
    c.events = events;
  }

  void Fail(Conn& c, const std::string& why) {
    c.worker->Record(c.row, c.start, Clock::now(), UnavailableError(why));
    Stop(c);
  }

  void Finish(Conn& c, const Status& why) {
    c.worker->Record(c.row, Clock::now(), Clock::now(), why);
    c.done = true;
  }

  void Stop(Conn& c) {
    if (c.done) return;
    c.done = true;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.sock->fd(), nullptr);
    --open_;
  }

  const Clock::time_point deadline_;
  const size_t max_message_;
  const int epoll_fd_;
  int open_ = 0;
};

}  // namespace

void RunEventLoop(const std::vector<Worker*>& workers,
                  std::vector<std::unique_ptr<kmip::TlsSocket>>& sockets,
                  Worker::Clock::time_point deadline, size_t max_message) {
  std::vector<Conn> conns(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) {
    conns[i].worker = workers[i];
    conns[i].sock = sockets[i].get();
  }
  Loop(deadline, max_message).Run(conns);
  for (auto& s : sockets) s->Shutdown();
}

}  // namespace vmcrypt::bench
