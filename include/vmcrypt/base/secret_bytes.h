// SecretBytes: a buffer for key material.
//
// Memory is wiped with OPENSSL_cleanse when freed (through a zeroising
// allocator) and on Clear(). Long-lived key caches add locked, non-dumpable
// pages on top of this type. The type is move-only: copies are
// explicit (Clone()) so that secrets are not duplicated by accident. It has no
// operator<< and no ToString(): key bytes never reach a log.
//
// Thread-safety: none; treat as a value.
#ifndef VMCRYPT_BASE_SECRET_BYTES_H_
#define VMCRYPT_BASE_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vmcrypt {

namespace internal {
// Wipes `n` bytes at `p` in a way the compiler cannot elide.
void SecureWipe(void* p, size_t n);

template <typename T>
struct ZeroisingAllocator {
  using value_type = T;
  ZeroisingAllocator() = default;
  template <typename U>
  ZeroisingAllocator(const ZeroisingAllocator<U>&) {}  // NOLINT
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, size_t n) {
    SecureWipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const ZeroisingAllocator<U>&) const {
    return true;
  }
};
}  // namespace internal

class SecretBytes {
 public:
  SecretBytes() = default;
  // Allocates `size` zero bytes.
  explicit SecretBytes(size_t size);
  // Copies `data` (the caller remains responsible for wiping its copy).
  explicit SecretBytes(std::span<const uint8_t> data);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  // An explicit deep copy.
  SecretBytes Clone() const;

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  std::span<const uint8_t> span() const { return {bytes_.data(), bytes_.size()}; }
  std::span<uint8_t> mutable_span() { return {bytes_.data(), bytes_.size()}; }

  // Wipes and empties the buffer.
  void Clear();

  // Constant-time equality (CRYPTO_memcmp); sizes are not secret.
  bool Equals(const SecretBytes& other) const;

 private:
  std::vector<uint8_t, internal::ZeroisingAllocator<uint8_t>> bytes_;
};

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_SECRET_BYTES_H_
