// CryptoStreams: the multi-part Encrypt and Decrypt calls in progress (KMIP
// 1.4 §4.29, §4.30; 2.1 §6.1.17, §6.1.11), keyed by the Correlation Value
// the server returned with the first part. The engine owns one for all
// connections, so a client may send the parts on different connections.
// Bounded: at most kMaxStreams calls in progress, each dropped once
// kIdleSeconds pass without a part. Internal to kms.
//
// Thread-safety: all methods may be called concurrently.
#ifndef VMCRYPT_SRC_KMS_CRYPTO_STREAMS_H_
#define VMCRYPT_SRC_KMS_CRYPTO_STREAMS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "src/kms/cipher_stream.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kms::internal {

class CryptoStreams {
 public:
  static constexpr size_t kMaxStreams = 1024;
  static constexpr int64_t kIdleSeconds = 600;

  // One call in progress: whose it is, on which object, and the cipher.
  struct Entry {
    std::string tenant;
    std::string uid;
    kmip::Operation operation = kmip::Operation::kEncrypt;
    CipherStream stream;
    int64_t last_used = 0;
  };

  // Stores `entry` under a new random Correlation Value (16 bytes), which it
  // returns. General Failure when kMaxStreams calls are in progress.
  Result<ttlv::Bytes> Start(Entry entry, int64_t now);

  // Removes and returns the call `correlation` of `tenant` and `operation`.
  // Invalid Field if there is none (unknown, finished, expired, or
  // another tenant's: indistinguishable on purpose).
  Result<Entry> Take(const ttlv::Bytes& correlation, const std::string& tenant,
                     kmip::Operation operation, int64_t now);

  // Puts a taken call back under its Correlation Value for the next part.
  void PutBack(const ttlv::Bytes& correlation, Entry entry, int64_t now);

  size_t size() const;

 private:
  void DropExpired(int64_t now);  // mu_ held

  mutable std::mutex mu_;
  std::map<ttlv::Bytes, Entry> streams_;
};

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_CRYPTO_STREAMS_H_
