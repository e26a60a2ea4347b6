// Text forms of TTLV values shared by the XML and JSON encodings (KMIP
// Additional Message Encodings v1.0 §4.1.5 and §6.1.5; KMIP 2.1 Profiles):
// enumeration and mask names resolved through the dictionary, hex forms
// "0x...", ISO 8601 date-times. Internal to the ttlv component.
#ifndef VMCRYPT_SRC_TTLV_VALUE_TEXT_H_
#define VMCRYPT_SRC_TTLV_VALUE_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::ttlv::text {

// Which names apply to an Enumeration or Integer value. For the generic
// Attribute Value tag of KMIP 1.x the names come from the sibling Attribute
// Name ("Cryptographic Algorithm" -> the Cryptographic Algorithm enumeration).
struct ValueNames {
  std::string_view enum_id;
  std::string_view mask_id;
  int major = 2;  // which version's names to print
};
ValueNames NamesFor(uint32_t tag, std::string_view sibling_attribute_name, int major);

// Enumerations: a name or "0x" followed by 8 hex digits.
std::string FormatEnum(const ValueNames& names, uint32_t value);
Result<uint32_t> ParseEnum(const ValueNames& names, std::string_view text);

// Integers: decimal; with a mask, names joined by `separator` (bits without a
// name as "0x%08X"). Parsing accepts decimal, "0x" hex, and mask names split
// on spaces or '|'.
std::string FormatInteger(const ValueNames& names, int32_t value, char separator);
Result<int32_t> ParseInteger(const ValueNames& names, std::string_view text);

Result<int64_t> ParseLong(std::string_view text);
Result<uint32_t> ParseInterval(std::string_view text);
Result<bool> ParseBoolean(std::string_view text);

// Date-Time: "YYYY-MM-DDThh:mm:ss+00:00" out; in, any offset or "Z", or hex.
std::string FormatDateTime(int64_t seconds);
Result<int64_t> ParseDateTime(std::string_view text);
// Date-Time Extended: with six fractional digits.
std::string FormatDateTimeExtended(int64_t micros);
Result<int64_t> ParseDateTimeExtended(std::string_view text);

// Hex bytes (Byte String, Big Integer); an optional "0x" prefix is accepted.
Result<Bytes> ParseHexBytes(std::string_view text);

// "0x420001" form for tags without a name.
std::string FormatTagHex(uint32_t tag);
Result<uint32_t> ParseTagHex(std::string_view text);

// True for the OASIS placeholder form "$NAME..." used in non-text values.
inline bool IsPlaceholder(std::string_view text) { return !text.empty() && text[0] == '$'; }

// The protocol major version of a Request or Response Message (1 or 2), from
// its header; 2 when absent.
int MajorVersionOf(const Item& message);

}  // namespace vmcrypt::ttlv::text

#endif  // VMCRYPT_SRC_TTLV_VALUE_TEXT_H_
