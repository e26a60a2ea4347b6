// ByteReader: the one bounds-checked cursor through which untrusted bytes are
// read (TTLV, NBD, disk headers).
//
// Every read checks the remaining length first and, on a short buffer, returns
// an error naming the offset and what was wanted, without moving the cursor.
// The reader does not own the bytes; they must outlive it.
//
// Thread-safety: none.
#ifndef VMCRYPT_BASE_BYTE_READER_H_
#define VMCRYPT_BASE_BYTE_READER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "vmcrypt/base/status.h"

namespace vmcrypt {

class ByteReader {
 public:
  // `base_offset` is added to offsets in error messages, for readers over a
  // slice of a larger message.
  explicit ByteReader(std::span<const uint8_t> data, size_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}

  size_t remaining() const { return data_.size() - pos_; }
  // Offset of the cursor, including base_offset.
  size_t offset() const { return base_offset_ + pos_; }
  bool empty() const { return remaining() == 0; }

  Result<uint8_t> ReadU8(std::string_view what = "byte");
  Result<uint32_t> ReadU24Be(std::string_view what = "24-bit value");
  Result<uint32_t> ReadU32Be(std::string_view what = "32-bit value");
  Result<uint64_t> ReadU64Be(std::string_view what = "64-bit value");
  // A view of the next `n` bytes (valid while the underlying data lives).
  Result<std::span<const uint8_t>> ReadBytes(size_t n, std::string_view what = "bytes");
  Status Skip(size_t n, std::string_view what = "bytes");

 private:
  Status Need(size_t n, std::string_view what) const;

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  size_t base_offset_;
};

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_BYTE_READER_H_
