// TlsSocket: one TLS connection over a non-blocking TCP socket, with every
// operation bounded by a deadline. The KMIP client and the key server share
// it (KMIP 1.4 §8: TTLV over TLS).
//
// Thread-safety: none.
#ifndef VMCRYPT_KMIP_TLS_SOCKET_H_
#define VMCRYPT_KMIP_TLS_SOCKET_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include <openssl/ssl.h>

#include <memory>
#include "vmcrypt/base/status.h"

namespace vmcrypt::kmip {

class TlsSocket {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to host:port (TCP_NODELAY) and runs the TLS handshake with `ctx`.
  // `verify_name` is checked against the server certificate (a DNS name or an
  // IP address literal) unless empty. When `pinned` is set, the chain is not
  // verified; the leaf must equal `pinned` instead. `resume`, when set, is a
  // session of an earlier connection to the same server to offer for
  // resumption; the server may decline it and run a full handshake.
  static Result<std::unique_ptr<TlsSocket>> Connect(SSL_CTX* ctx, const std::string& host,
                                                    uint16_t port, const std::string& verify_name,
                                                    X509* pinned, Clock::time_point deadline,
                                                    SSL_SESSION* resume = nullptr);
  // Runs the server side of the handshake on an accepted socket (which it
  // takes over; it is closed on failure too). `app_data` is attached to the
  // SSL object (SSL_set_app_data) before the handshake, for verify callbacks.
  static Result<std::unique_ptr<TlsSocket>> Accept(SSL_CTX* ctx, int fd, std::string peer,
                                                   Clock::time_point deadline,
                                                   void* app_data = nullptr);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  Status WriteAll(std::span<const uint8_t> data, Clock::time_point deadline);
  // Reads exactly out.size() bytes.
  Status ReadExact(std::span<uint8_t> out, Clock::time_point deadline);
  // False if the peer has closed the connection or sent unsolicited data
  // (checked without blocking).
  bool IsIdleAndOpen();
  // Sends close_notify (best effort) and closes the socket.
  void Shutdown();

  // Waits until data (or EOF) can be read; false at the deadline.
  bool WaitReadable(Clock::time_point deadline);
  // The peer's certificate (nullptr if none); owned by the connection.
  X509* peer_certificate() const;

  // For callers that run their own event loop (kms-load): the descriptor
  // (non-blocking) and the TLS connection, to drive with SSL_read and
  // SSL_write. The socket keeps owning both.
  int fd() const { return fd_; }
  SSL* ssl() const { return ssl_.get(); }

  std::string peer() const { return peer_; }
  std::string protocol() const;
  std::string cipher() const;

 private:
  using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;
  TlsSocket(int fd, SslPtr ssl, std::string peer);
  // Waits until the socket is readable/writable as OpenSSL asked.
  Status Wait(int ssl_error, Clock::time_point deadline, const char* what);

  int fd_;
  SslPtr ssl_;
  std::string peer_;
};

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_TLS_SOCKET_H_
