#include "vmcrypt/crypto/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

#include "src/crypto/internal.h"

namespace vmcrypt::crypto {

Status RandomBytes(std::span<uint8_t> out) {
  // RAND_bytes takes an int count: feed large buffers in chunks.
  for (size_t done = 0; done < out.size();) {
    const size_t n = std::min(out.size() - done, internal::kMaxOpenSslChunk);
    if (RAND_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      // Do not hand back a buffer that is partly random and partly stale.
      OPENSSL_cleanse(out.data(), out.size());
      return internal::OpenSslFailure("RAND_bytes failed");
    }
    done += n;
  }
  return OkStatus();
}

Result<SecretBytes> RandomSecret(size_t n) {
  SecretBytes secret(n);
  RETURN_IF_ERROR(RandomBytes(secret.mutable_span()));
  return secret;
}

}  // namespace vmcrypt::crypto
