// The KMIP TTLV binary encoding (KMIP 1.4 §9.1, KMIP 2.1 §9.1).
//
// Decode() is strict: it reads through a bounds-checked cursor, checks every
// length before use, requires the fixed lengths of the fixed-size types,
// zero padding to 8 bytes, Booleans of 0 or 1, valid UTF-8 in Text Strings,
// tags in the 0x42xxxx/0x54xxxx ranges, and no trailing bytes. It enforces the
// named Limits. Every error says what was wrong and at which byte offset.
#ifndef VMCRYPT_TTLV_CODEC_H_
#define VMCRYPT_TTLV_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::ttlv {

// Named limits for untrusted input.
inline constexpr size_t kDefaultMaxMessageSize = 16 * 1024 * 1024;
inline constexpr int kDefaultMaxDepth = 32;
inline constexpr size_t kDefaultMaxItems = 100000;

struct Limits {
  size_t max_message_size = kDefaultMaxMessageSize;  // bytes, header included
  int max_depth = kDefaultMaxDepth;                  // nesting of Structures
  size_t max_items = kDefaultMaxItems;               // items in one message
};

// Size of a TTLV item header: tag (3), type (1), length (4).
inline constexpr size_t kHeaderSize = 8;

// Carries the placeholders of the OASIS test cases ("$NOW", "$DATA_0", ...)
// through the binary encoding, which has no room for text in a Date-Time or a
// Byte String. Encode() replaces each placeholder with a concrete value
// ($NOW[+-N] becomes kNowEpoch[+-N]; a Byte String placeholder becomes its own
// ASCII text) and records it; Restore() turns recorded values in a decoded
// tree back into the same placeholders.
class PlaceholderMap {
 public:
  // 2100-01-01T00:00:00Z: the value that stands for $NOW.
  static constexpr int64_t kNowEpoch = 4102444800;

  // Returns the concrete item for a placeholder item, or an error for a type
  // or text it cannot represent.
  Result<Item> Substitute(const Item& placeholder);
  // Replaces recorded concrete values under `root` by their placeholders.
  void Restore(Item* root) const;
  bool empty() const { return date_times_.empty() && byte_strings_.empty(); }

 private:
  std::map<int64_t, std::string> date_times_;
  std::map<std::string, std::string> byte_strings_;  // bytes -> placeholder text
};

// Decodes one complete TTLV item (normally a Request or Response Message)
// that must span all of `data`.
Result<Item> Decode(std::span<const uint8_t> data, const Limits& limits = {});

// Encodes `item`. Placeholders are substituted through `placeholders`; without
// a map a placeholder is an error. Fails on values that cannot be encoded
// (e.g. an invalid type code).
Result<Bytes> Encode(const Item& item, PlaceholderMap* placeholders = nullptr);

// For stream framing: given the first kHeaderSize bytes of a message, returns
// its total size in bytes. Fails if the header is not that of a Structure or
// the size exceeds limits.max_message_size.
Result<size_t> MessageSize(std::span<const uint8_t> header, const Limits& limits = {});

}  // namespace vmcrypt::ttlv

#endif  // VMCRYPT_TTLV_CODEC_H_
