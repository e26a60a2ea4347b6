// Hex and base64 encodings. Decoders reject malformed input with a message
// that names the offending offset; they never echo the input (it may be key
// material).
#ifndef VMCRYPT_BASE_ENCODING_H_
#define VMCRYPT_BASE_ENCODING_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"

namespace vmcrypt {

// Lower-case hex, two digits per byte.
std::string HexEncode(std::span<const uint8_t> data);
// Upper or lower case; an odd length or a non-hex digit is an error.
Result<std::vector<uint8_t>> HexDecode(std::string_view hex);

// RFC 4648 base64 with padding.
std::string Base64Encode(std::span<const uint8_t> data);
// Strict RFC 4648 (padding required, no whitespace, no trailing bits).
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_ENCODING_H_
