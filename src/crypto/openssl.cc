#include "vmcrypt/crypto/openssl.h"

#include <openssl/err.h>

#include <string>

#include "src/crypto/internal.h"

namespace vmcrypt::crypto {

std::string OpenSslErrorString() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error detail" : out;
}

namespace internal {

Status OpenSslFailure(std::string_view what) {
  return InternalError(std::string(what) + ": " + OpenSslErrorString());
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace internal
}  // namespace vmcrypt::crypto
