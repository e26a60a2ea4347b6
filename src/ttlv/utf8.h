// UTF-8 validation for Text Strings (KMIP 1.4 §9.1.1.4: Text Strings are
// UTF-8). Internal to the ttlv component.
#ifndef VMCRYPT_SRC_TTLV_UTF8_H_
#define VMCRYPT_SRC_TTLV_UTF8_H_

#include <cstddef>
#include <string_view>

namespace vmcrypt::ttlv {

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// On failure sets *bad_offset to the offset of the first bad byte.
bool IsValidUtf8(std::string_view s, size_t* bad_offset);

}  // namespace vmcrypt::ttlv

#endif  // VMCRYPT_SRC_TTLV_UTF8_H_
