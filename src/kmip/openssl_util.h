// RAII owners for OpenSSL handles and error-queue formatting. Internal to the
// kmip component (moves to crypto/ when that component lands).
#ifndef VMCRYPT_SRC_KMIP_OPENSSL_UTIL_H_
#define VMCRYPT_SRC_KMIP_OPENSSL_UTIL_H_

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace vmcrypt::kmip::internal {

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct SslSessionFree {
  void operator()(SSL_SESSION* p) const { SSL_SESSION_free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using SslSessionPtr = std::unique_ptr<SSL_SESSION, SslSessionFree>;

// Drains the thread's OpenSSL error queue into one line ("error:0A000086:SSL
// routines::certificate verify failed; ..."), or `fallback` if it is empty.
// OpenSSL error strings never contain key material.
inline std::string OpenSslErrors(const std::string& fallback = "unknown OpenSSL error") {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? fallback : out;
}

}  // namespace vmcrypt::kmip::internal

#endif  // VMCRYPT_SRC_KMIP_OPENSSL_UTIL_H_
