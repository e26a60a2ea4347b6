// One connection's state machine, driven by whichever worker epoll hands it
// to (see server_impl.h): TLS handshake, then read -> answer -> write until
// the socket would block, then re-arm.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cstring>

#include "src/kms/server_impl.h"
#include "vmcrypt/base/thread_name.h"
#include "vmcrypt/kmip/message.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {
namespace {

// Set on the write lane's threads: they answer writing requests themselves.
thread_local bool on_write_thread = false;

constexpr size_t kReadChunk = 16 * 1024;

// How long a write thread that has answered a write waits for the same
// connection's next request before handing the connection back to epoll.
// A client that writes in a loop (a preload, a burst of Creates, vCenter
// tagging a new key) sends again within a round trip; taken here, that
// request skips a worker's wake-up and the hand-off to the write lane. In
// a 16-connection Create load on 2 cores, 5 interleaved pairs of 10 s runs
// went from 5,223 to 5,724 Creates/s on average with 2 ms (1 ms did as
// well in 2 pairs); a mixed load with 10% writes moved by about -1%.
constexpr int kWriteLingerMs = 1;

int64_t WallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string OpenSslErrorQueue() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
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

void Append(ttlv::Bytes& out, const ttlv::Item& response) {
  auto wire = ttlv::Encode(response);
  if (wire.ok()) out.insert(out.end(), wire->begin(), wire->end());
}

}  // namespace

void KmsServer::Impl::Drive(Connection* c) {
  c->deadline_ns = 0;  // busy: no deadline applies while a worker runs it
  c->between_requests = false;
  if (!c->handshaken && !DoHandshake(c)) return;
  Pump(c);
}

void KmsServer::Impl::WriteLoop() {
  SetCurrentThreadName("kms-write");
  on_write_thread = true;
  BlockSigpipe();
  std::unique_lock<std::mutex> lock(lane_mu);
  while (true) {
    lane_cv.wait(lock, [this] { return lane_exit || !lane.empty(); });
    if (lane.empty()) return;  // lane_exit, and nothing left
    Connection* c = lane.front();
    lane.pop_front();
    lock.unlock();
    Pump(c);  // answers the writing request, then goes on like a worker
    lock.lock();
  }
}

bool KmsServer::Impl::AwaitNextRequest(Connection* c) {
  if (!c->last_request_wrote || c->expired || stopping) return false;
  c->last_request_wrote = false;  // a read that follows goes back to epoll
  // Between requests as far as the housekeeper is concerned: the drain on
  // Shutdown() ends the wait (the socket reads EOF).
  c->between_requests = true;
  c->deadline_ns = SteadyNanos(SteadyClock::now() + options.idle_timeout);
  pollfd p{c->fd, POLLIN, 0};
  const int ready = poll(&p, 1, kWriteLingerMs);
  c->deadline_ns = 0;
  c->between_requests = false;
  if (ready <= 0) return false;
  ++taken_after_write;
  return true;
}

void KmsServer::Impl::Rearm(Connection* c, uint32_t events, SteadyClock::time_point deadline,
                            bool between_requests) {
  c->between_requests = between_requests;
  c->deadline_ns = SteadyNanos(deadline);
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.ptr = c;
  // From here on another worker may own `c`: touch nothing after this.
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
    c->deadline_ns = 0;
    Close(c, std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

bool KmsServer::Impl::DoHandshake(Connection* c) {
  ERR_clear_error();
  const int r = SSL_do_handshake(c->ssl.get());
  if (r == 1) return Admit(c);
  const int err = SSL_get_error(c->ssl.get(), r);
  if (!c->expired && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)) {
    Rearm(c, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, c->handshake_deadline, true);
    return false;
  }
  const Handshake& hs = c->hs;
  if (!hs.refused_fingerprint.empty()) {
    log("refused client " + c->peer + ": " + hs.refusal + " (subject \"" + hs.refused_subject +
        "\", sha256 " + hs.refused_fingerprint + ")");
    Close(c, "");
    return false;
  }
  std::string why;
  if (c->expired) {
    why = stopping ? "" : "TLS handshake timed out";
  } else if (long verify = SSL_get_verify_result(c->ssl.get()); verify != X509_V_OK) {
    why = std::string("TLS handshake failed: client certificate refused: ") +
          X509_verify_cert_error_string(verify);
  } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
    const std::string queue = OpenSslErrorQueue();
    why = "TLS handshake failed: connection closed by the client" +
          (queue.empty() ? "" : " (" + queue + ")");
  } else {
    why = "TLS handshake failed: protocol error: " + OpenSslErrorQueue();
  }
  Close(c, why);
  return false;
}

bool KmsServer::Impl::Admit(Connection* c) {
  if (SSL_session_reused(c->ssl.get())) {
    X509* cert = SSL_get0_peer_certificate(c->ssl.get());
    if (cert == nullptr || !IdentifyClient(cert, &c->hs)) {
      const Handshake& hs = c->hs;
      log("refused client " + c->peer + " on a resumed TLS session: " +
          (cert == nullptr ? std::string("no client certificate in the session")
                           : hs.refusal + " (subject \"" + hs.refused_subject + "\", sha256 " +
                                 hs.refused_fingerprint + ")"));
      // Out of the cache, so that the client's next attempt is a full
      // handshake, refused with an alert like any unknown certificate.
      SSL_CTX_remove_session(ctx.get(), SSL_get_session(c->ssl.get()));
      Close(c, "");
      return false;
    }
  }
  c->handshaken = true;
  return true;
}

int KmsServer::Impl::FlushOutput(Connection* c) {
  while (c->out_start < c->out.size()) {
    ERR_clear_error();
    const int r = SSL_write(
        c->ssl.get(), c->out.data() + c->out_start,
        static_cast<int>(std::min<size_t>(c->out.size() - c->out_start, size_t{1} << 30)));
    if (r > 0) {
      c->out_start += static_cast<size_t>(r);
      continue;
    }
    const int err = SSL_get_error(c->ssl.get(), r);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) return err;
    return -1;
  }
  c->out.clear();
  c->out_start = 0;
  return 0;
}

KmsServer::Impl::Answer KmsServer::Impl::AnswerOne(Connection* c) {
  if (c->buffered() < ttlv::kHeaderSize) return Answer::kNothing;
  std::span<const uint8_t> buffered(c->in.data() + c->in_start, c->buffered());
  ttlv::Limits limits;
  limits.max_message_size = options.max_message_size;
  auto size = ttlv::MessageSize(buffered.first(ttlv::kHeaderSize), limits);
  if (!size.ok()) {
    // Not a message we will read: answer once, then close (KMIP 1.4 §11).
    log("closing " + c->peer + ": " + size.status().message());
    Append(c->out, engine->InvalidMessage(std::nullopt, size.status().message()));
    c->close_after_write = true;
    c->in_start = c->in.size();
    return Answer::kAnswered;
  }
  if (buffered.size() < *size) return Answer::kNothing;
  std::span<const uint8_t> message = buffered.first(*size);
  auto request = ttlv::Decode(message, limits);
  if (!request.ok()) {
    Append(c->out, engine->InvalidMessage(SniffVersion(message), request.status().message()));
  } else if (!on_write_thread && Engine::Writes(*request)) {
    {
      std::lock_guard<std::mutex> lock(lane_mu);
      lane.push_back(c);
    }
    lane_cv.notify_one();
    ++write_handoffs;
    return Answer::kHandedOff;
  } else {
    c->last_request_wrote = on_write_thread && Engine::Writes(*request);
    std::vector<OperationRecord> records;
    ttlv::Item response = engine->Process(c->hs.identity, *request, &records);
    if (audit != nullptr) audit->Record(WallSeconds(), c->hs.identity, c->peer, records);
    Append(c->out, response);
  }
  c->in_start += *size;
  if (c->buffered() != 0) c->message_started = SteadyClock::now();
  return Answer::kAnswered;
}

void KmsServer::Impl::Pump(Connection* c) {
  bool answered = false;  // a response went out in this turn
  while (true) {
    if (c->out_start < c->out.size()) {
      answered = true;
      const int blocked = FlushOutput(c);
      if (blocked < 0 || (blocked > 0 && c->expired)) {
        Close(c, c->expired ? (stopping ? "" : "timed out writing a response")
                            : "write failed: " + OpenSslErrorQueue());
        return;
      }
      if (blocked > 0) {
        Rearm(c, blocked == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN,
              SteadyClock::now() + options.io_timeout, false);
        return;
      }
    }
    if (c->close_after_write) {
      Close(c, "");
      return;
    }
    const Answer answer = AnswerOne(c);
    if (answer == Answer::kHandedOff) return;
    if (answer == Answer::kAnswered) continue;
    if (stopping && c->buffered() == 0) {
      Close(c, "");  // drained: the server is shutting down
      return;
    }
    // A client waits for its answer before it sends again (vCenter does),
    // so right after an answer the socket is almost always empty: wait for
    // epoll instead of a read(2) that would only say EAGAIN. Records that
    // OpenSSL's read-ahead already took in are read now, as epoll cannot
    // see them; bytes that did reach the socket make the re-armed epoll
    // report the connection at once (level-triggered). After a write, a
    // write thread first waits a moment for the next request itself
    // (AwaitNextRequest).
    if (answered && c->buffered() == 0 && SSL_has_pending(c->ssl.get()) == 0 &&
        !AwaitNextRequest(c)) {
      Rearm(c, EPOLLIN, SteadyClock::now() + options.idle_timeout, true);
      return;
    }
    // Read more. Compact first so the buffer holds one message at most.
    if (c->in_start == c->in.size()) {
      c->in.clear();
      c->in_start = 0;
      // An idle connection keeps a small buffer, whatever it once received.
      if (c->in.capacity() > 4 * kReadChunk) c->in.shrink_to_fit();
    } else if (c->in_start > 0) {
      c->in.erase(c->in.begin(), c->in.begin() + static_cast<ptrdiff_t>(c->in_start));
      c->in_start = 0;
    }
    const size_t had = c->in.size();
    c->in.resize(had + kReadChunk);
    ERR_clear_error();
    const int r = SSL_read(c->ssl.get(), c->in.data() + had, static_cast<int>(kReadChunk));
    c->in.resize(had + static_cast<size_t>(std::max(r, 0)));
    if (r > 0) {
      if (had == 0) c->message_started = SteadyClock::now();
      continue;
    }
    const int err = SSL_get_error(c->ssl.get(), r);
    if (!c->expired && (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)) {
      const bool idle = c->buffered() == 0;
      const auto deadline = idle ? SteadyClock::now() + options.idle_timeout
                                 : c->message_started + options.io_timeout;
      Rearm(c, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT, deadline, idle);
      return;
    }
    std::string why;
    if (c->expired) {
      why = stopping             ? ""
            : c->buffered() == 0 ? "idle for " + std::to_string(options.idle_timeout.count()) + " s"
                                 : "timed out in the middle of a message";
    } else if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL) {
      why = c->buffered() == 0 ? "" : "the client went away in the middle of a message";
    } else {
      why = "read failed: " + OpenSslErrorQueue();
    }
    Close(c, why);
    return;
  }
}

}  // namespace vmcrypt::kms
