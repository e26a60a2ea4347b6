#include "vmcrypt/base/secret_bytes.h"

#include <openssl/crypto.h>

#include <utility>

namespace vmcrypt {

namespace internal {
void SecureWipe(void* p, size_t n) {
  if (p != nullptr && n != 0) OPENSSL_cleanse(p, n);
}
}  // namespace internal

SecretBytes::SecretBytes(size_t size) : bytes_(size, 0) {}

SecretBytes::SecretBytes(std::span<const uint8_t> data) : bytes_(data.begin(), data.end()) {}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Clear();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
  }
  return *this;
}

SecretBytes::~SecretBytes() { Clear(); }

SecretBytes SecretBytes::Clone() const { return SecretBytes(span()); }

void SecretBytes::Clear() {
  // The allocator wipes on deallocate; wipe here too so that a buffer kept
  // for reuse (clear() keeps capacity) holds no secret.
  internal::SecureWipe(bytes_.data(), bytes_.size());
  bytes_.clear();
  bytes_.shrink_to_fit();
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  if (bytes_.size() != other.bytes_.size()) return false;
  return CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), bytes_.size()) == 0;
}

}  // namespace vmcrypt
