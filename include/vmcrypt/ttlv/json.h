// The KMIP JSON encoding (KMIP Additional Message Encodings v1.0 §4; KMIP 2.1
// Profiles): each item is {"tag": NAME, "type": TYPE, "value": VALUE}, "type"
// omitted for a Structure whose value is an array of items. Integers and
// Intervals are JSON numbers (usage masks a string of names joined by '|'),
// Long Integers numbers (hex strings beyond 2^52), Enumerations names or
// "0x%08X", Booleans true/false, Byte Strings hex, Big Integers "0x" hex,
// Date-Times ISO 8601 strings. Readers also accept the hex forms everywhere.
#ifndef VMCRYPT_TTLV_JSON_H_
#define VMCRYPT_TTLV_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::ttlv {

// Parses one item (a JSON object) or several (a JSON array of objects).
// Errors name the line: "line 3: ...".
Result<std::vector<Item>> ParseJson(std::string_view document, const Limits& limits = {});

// Writes one item as a JSON object (pretty-printed, trailing newline).
std::string WriteJson(const Item& item);
// Writes several items as one JSON array, in order.
std::string WriteJsonDocument(const std::vector<Item>& items);

}  // namespace vmcrypt::ttlv

#endif  // VMCRYPT_TTLV_JSON_H_
