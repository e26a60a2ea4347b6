#include "vmcrypt/base/byte_reader.h"

#include <string>

namespace vmcrypt {

Status ByteReader::Need(size_t n, std::string_view what) const {
  if (n <= remaining()) return OkStatus();
  std::string msg = "truncated input at offset " + std::to_string(offset()) + ": need " +
                    std::to_string(n) + " byte(s) for " + std::string(what) + ", have " +
                    std::to_string(remaining());
  return InvalidArgumentError(std::move(msg));
}

Result<uint8_t> ByteReader::ReadU8(std::string_view what) {
  RETURN_IF_ERROR(Need(1, what));
  return data_[pos_++];
}

Result<uint32_t> ByteReader::ReadU24Be(std::string_view what) {
  RETURN_IF_ERROR(Need(3, what));
  uint32_t v =
      (uint32_t{data_[pos_]} << 16) | (uint32_t{data_[pos_ + 1]} << 8) | uint32_t{data_[pos_ + 2]};
  pos_ += 3;
  return v;
}

Result<uint32_t> ByteReader::ReadU32Be(std::string_view what) {
  RETURN_IF_ERROR(Need(4, what));
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | data_[pos_ + i];
  pos_ += 4;
  return v;
}

Result<uint64_t> ByteReader::ReadU64Be(std::string_view what) {
  RETURN_IF_ERROR(Need(8, what));
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | data_[pos_ + i];
  pos_ += 8;
  return v;
}

Result<std::span<const uint8_t>> ByteReader::ReadBytes(size_t n, std::string_view what) {
  RETURN_IF_ERROR(Need(n, what));
  auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

Status ByteReader::Skip(size_t n, std::string_view what) {
  RETURN_IF_ERROR(Need(n, what));
  pos_ += n;
  return OkStatus();
}

}  // namespace vmcrypt
