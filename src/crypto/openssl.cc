#include "vmcrypt/crypto/openssl.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "src/crypto/internal.h"

namespace vmcrypt::crypto {

namespace {

// Looks `name` up in a thread's cache, fetching it on a miss (a failed
// fetch is not cached, so its error stays on the queue for the caller).
template <typename T, typename Ptr, T* (*Fetch)(OSSL_LIB_CTX*, const char*, const char*)>
const T* Cached(std::vector<std::pair<std::string, Ptr>>& cache, const char* name) {
  for (const auto& [n, p] : cache) {
    if (std::strcmp(n.c_str(), name) == 0) return p.get();
  }
  Ptr fetched(Fetch(nullptr, name, nullptr));
  if (fetched == nullptr) return nullptr;
  cache.emplace_back(name, std::move(fetched));
  return cache.back().second.get();
}

}  // namespace

const EVP_CIPHER* CachedCipher(const char* name) {
  thread_local std::vector<std::pair<std::string, EvpCipherPtr>> cache;
  return Cached<EVP_CIPHER, EvpCipherPtr, EVP_CIPHER_fetch>(cache, name);
}

const EVP_MAC* CachedMac(const char* name) {
  thread_local std::vector<std::pair<std::string, EvpMacPtr>> cache;
  return Cached<EVP_MAC, EvpMacPtr, EVP_MAC_fetch>(cache, name);
}

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
