// TlsSocket: one TLS connection over a non-blocking TCP socket, with every
// operation bounded by a deadline. Internal to the kmip component.
//
// Thread-safety: none.
#ifndef VMCRYPT_SRC_KMIP_TLS_SOCKET_H_
#define VMCRYPT_SRC_KMIP_TLS_SOCKET_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "src/kmip/openssl_util.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::kmip::internal {

using Clock = std::chrono::steady_clock;

class TlsSocket {
 public:
  // Connects to host:port (TCP_NODELAY) and runs the TLS handshake with `ctx`.
  // `verify_name` is checked against the server certificate (a DNS name or an
  // IP address literal) unless empty. When `pinned` is set, the chain is not
  // verified; the leaf must equal `pinned` instead.
  static Result<std::unique_ptr<TlsSocket>> Connect(SSL_CTX* ctx, const std::string& host,
                                                    uint16_t port, const std::string& verify_name,
                                                    X509* pinned, Clock::time_point deadline);
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

  std::string peer() const { return peer_; }
  std::string protocol() const;
  std::string cipher() const;

 private:
  TlsSocket(int fd, SslPtr ssl, std::string peer);
  // Waits until the socket is readable/writable as OpenSSL asked.
  Status Wait(int ssl_error, Clock::time_point deadline, const char* what);

  int fd_;
  SslPtr ssl_;
  std::string peer_;
};

}  // namespace vmcrypt::kmip::internal

#endif  // VMCRYPT_SRC_KMIP_TLS_SOCKET_H_
