#include "vmcrypt/crypto/openssl.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
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

std::string Sha256Fingerprint(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return "";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof(hex), i == 0 ? "%02X" : ":%02X", md[i]);
    out += hex;
  }
  return out;
}

namespace internal {

Status OpenSslFailure(std::string_view what) {
  return InternalError(std::string(what) + ": " + OpenSslErrorString());
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace internal
}  // namespace vmcrypt::crypto
