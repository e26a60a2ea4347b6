// ttlv::Item: one node of a KMIP TTLV tree (KMIP 1.4 §9.1, KMIP 2.1 §9).
//
// An Item is a tag, a type and a value: children for a Structure, a number for
// the fixed-size types, bytes for Text String, Byte String and Big Integer.
// Byte storage is wiped on free (key material travels in Byte Strings).
//
// A leaf may instead hold a *placeholder*: an opaque text such as "$NOW" or
// "$UNIQUE_IDENTIFIER_0" as used by the OASIS test cases. Placeholders come
// from and go back to the XML and JSON encodings; the binary encoder can only
// carry them through a PlaceholderMap (see codec.h).
//
// Thread-safety: a value type; no sharing.
#ifndef VMCRYPT_TTLV_ITEM_H_
#define VMCRYPT_TTLV_ITEM_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::ttlv {

// Item types and their one-byte codes (KMIP 1.4 §9.1.1.2; 2.1 §9.1.1.2).
enum class ItemType : uint8_t {
  kStructure = 0x01,
  kInteger = 0x02,
  kLongInteger = 0x03,
  kBigInteger = 0x04,
  kEnumeration = 0x05,
  kBoolean = 0x06,
  kTextString = 0x07,
  kByteString = 0x08,
  kDateTime = 0x09,
  kInterval = 0x0A,
  kDateTimeExtended = 0x0B,  // KMIP 2.0 and later
};

// "Structure", "Integer", ... as written in the XML and JSON encodings.
std::string_view ItemTypeName(ItemType type);
// Parses a type name; false if unknown.
bool ParseItemTypeName(std::string_view name, ItemType* type);
// True for codes 0x01..0x0B.
bool IsValidItemType(uint8_t code);

using Bytes = std::vector<uint8_t, internal::ZeroisingAllocator<uint8_t>>;

class Item {
 public:
  Item() = default;

  // Factories. Values are stored as given; range checks belong to the caller
  // (the codecs check them on input).
  static Item Structure(uint32_t tag, std::vector<Item> children = {});
  static Item Integer(uint32_t tag, int32_t value);
  static Item LongInteger(uint32_t tag, int64_t value);
  // Two's complement, big-endian; the encoder sign-extends to 8-byte multiples.
  static Item BigInteger(uint32_t tag, std::span<const uint8_t> value);
  static Item Enumeration(uint32_t tag, uint32_t value);
  static Item Boolean(uint32_t tag, bool value);
  static Item TextString(uint32_t tag, std::string_view value);
  static Item ByteString(uint32_t tag, std::span<const uint8_t> value);
  // Seconds since the POSIX epoch.
  static Item DateTime(uint32_t tag, int64_t seconds);
  static Item Interval(uint32_t tag, uint32_t seconds);
  // Microseconds since the POSIX epoch.
  static Item DateTimeExtended(uint32_t tag, int64_t micros);
  static Item Placeholder(uint32_t tag, ItemType type, std::string_view text);

  uint32_t tag() const { return tag_; }
  void set_tag(uint32_t tag) { tag_ = tag; }
  // A copy under another tag.
  Item WithTag(uint32_t tag) const {
    Item copy = *this;
    copy.tag_ = tag;
    return copy;
  }
  ItemType type() const { return type_; }
  bool is_structure() const { return type_ == ItemType::kStructure; }
  bool is_placeholder() const { return placeholder_; }

  // Structure children (empty for leaves).
  const std::vector<Item>& children() const { return children_; }
  std::vector<Item>& mutable_children() { return children_; }
  Item& Add(Item child) {
    children_.push_back(std::move(child));
    return children_.back();
  }

  // The numeric value of Integer, Long Integer, Enumeration, Boolean (0/1),
  // Date-Time, Interval and Date-Time Extended. Precondition: such a type.
  int64_t int_value() const { return int_; }
  // The bytes of Text String, Byte String, Big Integer, and the text of a
  // placeholder.
  const Bytes& bytes() const { return bytes_; }
  std::string_view text() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }

  // First child with `tag`, or nullptr.
  const Item* Find(uint32_t tag) const;
  Item* FindMutable(uint32_t tag);
  // All children with `tag`.
  std::vector<const Item*> FindAll(uint32_t tag) const;

  // Structural equality: tags, types, values and placeholders.
  friend bool operator==(const Item& a, const Item& b);

 private:
  uint32_t tag_ = 0;
  ItemType type_ = ItemType::kStructure;
  bool placeholder_ = false;
  int64_t int_ = 0;
  Bytes bytes_;
  std::vector<Item> children_;
};

}  // namespace vmcrypt::ttlv

#endif  // VMCRYPT_TTLV_ITEM_H_
