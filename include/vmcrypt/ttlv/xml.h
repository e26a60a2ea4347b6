// The KMIP XML encoding (KMIP Additional Message Encodings v1.0 §6; as used
// by the OASIS KMIP 1.4 and 2.1 test cases).
//
// Elements are named by normalized tag names (or <TTLV tag="0x540001"> for a
// tag without a name), with `type` (absent for Structure) and `value`
// attributes. Enumerations and usage masks are written by name; Byte Strings
// and Big Integers in hex; Date-Times in ISO 8601. Values that begin with '$'
// in non-text types are kept as placeholders.
#ifndef VMCRYPT_TTLV_XML_H_
#define VMCRYPT_TTLV_XML_H_

#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::ttlv {

// Parses a document holding one item, or a <KMIP> element wrapping several
// (the test-case file form); returns them in document order. Errors name the
// line: "line 12: unknown tag name 'Foo'".
Result<std::vector<Item>> ParseXml(std::string_view document, const Limits& limits = {});

// Writes one item as an XML element (with a trailing newline). Names follow
// the protocol version in the message header (KMIP 1.x names for 1.x).
std::string WriteXml(const Item& item);

// Writes several items wrapped in one <KMIP> element, in order.
std::string WriteXmlDocument(const std::vector<Item>& items);

}  // namespace vmcrypt::ttlv

#endif  // VMCRYPT_TTLV_XML_H_
