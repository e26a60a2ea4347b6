// CipherStream: one Encrypt or Decrypt in progress with an OpenSSL EVP
// cipher, fed in parts: AES in ECB, CBC, CTR and GCM (SP 800-38A/D),
// ChaCha20 and ChaCha20-Poly1305 (RFC 8439). The key server runs single-part
// calls as Start + Update + Finish, and multi-part calls (KMIP 1.4 §4.29,
// §4.30: Init Indicator, Correlation Value, Final Indicator) as the same
// steps across requests. Internal to kms.
//
// Errors carry KMIP Result Reasons (see Fail()): a tag that does not verify
// or bad padding is Cryptographic Failure. A single-part caller releases
// nothing before Finish() succeeds; multi-part AEAD decryption releases
// plaintext per part (KMIP's streaming model), verified only at the end.
//
// Thread-safety: a value owning its EVP context; use from one thread at a
// time. Movable, not copyable.
#ifndef VMCRYPT_SRC_KMS_CIPHER_STREAM_H_
#define VMCRYPT_SRC_KMS_CIPHER_STREAM_H_

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kms::internal {

// What to run. `cipher` is an EVP cipher (EVP_aes_128_gcm(), EVP_chacha20()
// ...); `aead` selects the AEAD calls (GCM, ChaCha20-Poly1305), `pad` PKCS#5
// padding for the block modes.
struct CipherSpec {
  const EVP_CIPHER* cipher = nullptr;
  bool encrypt = true;
  bool pad = false;
  bool aead = false;
  size_t tag_len = 16;  // AEAD Encrypt: the tag to produce
};

class CipherStream {
 public:
  struct Final {
    ttlv::Bytes data;  // the last output bytes (padding block, ...)
    ttlv::Bytes tag;   // AEAD Encrypt only
  };

  // Sets up `spec` with `key` and `iv` (its length already checked by the
  // caller; AEAD IV lengths other than the cipher's default are set first)
  // and, for AEAD, feeds `aad`. Cryptographic Failure if OpenSSL refuses.
  static Result<CipherStream> Start(const CipherSpec& spec, const SecretBytes& key,
                                    std::span<const uint8_t> iv, std::span<const uint8_t> aad);

  // Processes `in`; returns the output it makes now.
  Result<ttlv::Bytes> Update(std::span<const uint8_t> in);

  // Ends the stream: checks `tag` (AEAD Decrypt; OpenSSL compares in
  // constant time), returns the remaining output and, for AEAD Encrypt, the
  // tag of spec.tag_len bytes.
  Result<Final> Finish(std::span<const uint8_t> tag);

  bool encrypt() const { return spec_.encrypt; }

 private:
  CipherStream(CipherSpec spec, crypto::EvpCipherCtxPtr ctx) : spec_(spec), ctx_(std::move(ctx)) {}

  CipherSpec spec_;
  crypto::EvpCipherCtxPtr ctx_;
};

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_CIPHER_STREAM_H_
