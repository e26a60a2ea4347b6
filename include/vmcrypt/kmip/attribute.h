// KMIP attributes, in both protocol generations.
//
// KMIP 1.x names attributes by text: Attribute { Attribute Name, [Attribute
// Index], Attribute Value } (1.4 §2.1.1), grouped in a Template-Attribute
// (§2.1.8). KMIP 2.x carries each attribute under its own tag inside an
// Attributes structure (2.1 §2.1.1, §7.2), and custom attributes as an
// Attribute { Vendor Identification, Attribute Name, Attribute Value } (§4.60).
// This file maps one model onto both: an Attribute is a spec name ("Name",
// "Cryptographic Algorithm") or a custom name ("x-Vendor": vendor "x",
// attribute "Vendor") with a value item of any type.
//
// Thread-safety: values.
#ifndef VMCRYPT_KMIP_ATTRIBUTE_H_
#define VMCRYPT_KMIP_ATTRIBUTE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip {

struct Attribute {
  std::string name;              // spec name, or "<vendor>-<name>" for custom ones
  std::optional<int32_t> index;  // KMIP 1.x Attribute Index
  ttlv::Item value;              // its tag is set on encoding

  // Convenience constructors for common value types.
  static Attribute Text(std::string_view name, std::string_view value);
  static Attribute Integer(std::string_view name, int32_t value);
  static Attribute Enum(std::string_view name, uint32_t value);
  static Attribute Boolean(std::string_view name, bool value);
  static Attribute DateTime(std::string_view name, int64_t seconds);
  // The Name attribute: { Name Value, Name Type }.
  static Attribute Name(std::string_view value, NameType type = NameType::kUninterpretedTextString);

  // True for names that are not in the specification's tag table (KMIP 1.x
  // custom attributes "x-..." / "y-...", 2.x vendor attributes).
  bool is_custom() const;

  friend bool operator==(const Attribute&, const Attribute&) = default;
};

using AttributeList = std::vector<Attribute>;

// Finds the first attribute with `name`, or nullptr.
const Attribute* FindAttribute(const AttributeList& list, std::string_view name);

// --- KMIP 1.x -------------------------------------------------------------
// Attribute structure (tag Attribute) with Name, Index, Value.
ttlv::Item EncodeAttribute1(const Attribute& attr);
Result<Attribute> DecodeAttribute1(const ttlv::Item& item);

// --- KMIP 2.x -------------------------------------------------------------
// One attribute under its own tag, or a vendor Attribute structure.
Result<ttlv::Item> EncodeAttribute2(const Attribute& attr);
Result<Attribute> DecodeAttribute2(const ttlv::Item& item);

// --- both ---------------------------------------------------------------
// The attribute container of a payload: in 1.x a Template-Attribute (or
// `tag_v1`, e.g. Private Key Template-Attribute) of Attribute structures; in
// 2.x an Attributes structure (or `tag_v2`, e.g. Private Key Attributes).
Result<ttlv::Item> EncodeAttributes(const AttributeList& attrs, ProtocolVersion v, uint32_t tag_v1,
                                    uint32_t tag_v2);
// Reads either form; in 1.x a Template-Attribute may also name templates
// (Name), which are not supported and give an error.
Result<AttributeList> DecodeAttributes(const ttlv::Item& container);

// An attribute reference for Get Attributes / Delete Attribute: 1.x an
// Attribute Name text; 2.x an Attribute Reference (the tag as an
// enumeration, or Vendor Identification + Attribute Name for custom ones).
Result<ttlv::Item> EncodeAttributeReference(std::string_view name, ProtocolVersion v);
// Reads an Attribute Name or an Attribute Reference back to a name.
Result<std::string> DecodeAttributeReference(const ttlv::Item& item);

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_ATTRIBUTE_H_
