// RAII owners for OpenSSL libcrypto handles, and error-queue formatting.
//
// Every libcrypto object the project creates is held in one of these
// unique_ptr aliases from the line that creates it, so an early return never
// leaks it and never leaves key schedules in freed-but-unwiped memory (the
// OpenSSL *_free functions of contexts cleanse their key material). The
// aliases cover libcrypto only; libssl handles stay with their users.
//
// Thread-safety: the owners are values (one thread at a time per object).
// OpenSslErrorString() touches only the calling thread's error queue.
#ifndef VMCRYPT_CRYPTO_OPENSSL_H_
#define VMCRYPT_CRYPTO_OPENSSL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace vmcrypt::crypto {

// A stateless deleter that calls `Free` (an OpenSSL *_free function, all of
// which accept nullptr).
template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};

// Algorithms fetched from a provider (EVP_*_fetch) and their contexts.
using EvpCipherPtr = std::unique_ptr<EVP_CIPHER, OpenSslDeleter<EVP_CIPHER_free>>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, OpenSslDeleter<EVP_CIPHER_CTX_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, OpenSslDeleter<EVP_MD_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using EvpMacPtr = std::unique_ptr<EVP_MAC, OpenSslDeleter<EVP_MAC_free>>;
using EvpMacCtxPtr = std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<EVP_MAC_CTX_free>>;
using EvpKdfPtr = std::unique_ptr<EVP_KDF, OpenSslDeleter<EVP_KDF_free>>;
using EvpKdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, OpenSslDeleter<EVP_KDF_CTX_free>>;
// Asymmetric keys and operations on them.
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
// I/O and certificates (libcrypto side).
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;

// The cipher or MAC `name` ("AES-256-GCM", "HMAC") of the default library
// context, fetched once per thread and kept for the thread's life; nullptr
// if no provider offers it. Each EVP_*_fetch call takes the lock of
// OpenSSL's method store, on which threads serving requests would queue
// (OpenSSL 3 crypto(7), "Performance"); a fetched algorithm is immutable,
// and the pointer stays valid as long as the calling thread lives. Do not
// free it, and do not hand it to another thread.
const EVP_CIPHER* CachedCipher(const char* name);
const EVP_MAC* CachedMac(const char* name);

// Drains the calling thread's OpenSSL error queue into one line
// ("error:1C800066:Provider routines::cipher operation failed; ..."), or
// "no OpenSSL error detail" if the queue is empty. OpenSSL error strings
// name the failing routine and reason; they never contain key material.
std::string OpenSslErrorString();

// A certificate's SHA-256 fingerprint as upper-case hex pairs joined by
// colons ("AB:CD:..."), the form the key server and host agent register and
// log certificates by.
std::string Sha256Fingerprint(const X509* cert);

}  // namespace vmcrypt::crypto

#endif  // VMCRYPT_CRYPTO_OPENSSL_H_
