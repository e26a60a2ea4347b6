#include "vmcrypt/ttlv/item.h"

#include <array>

namespace vmcrypt::ttlv {
namespace {

constexpr std::array<std::string_view, 12> kTypeNames = {
    "",        "Structure",  "Integer",    "LongInteger", "BigInteger", "Enumeration",
    "Boolean", "TextString", "ByteString", "DateTime",    "Interval",   "DateTimeExtended"};

}  // namespace

std::string_view ItemTypeName(ItemType type) {
  auto code = static_cast<uint8_t>(type);
  if (code == 0 || code >= kTypeNames.size()) return "Unknown";
  return kTypeNames[code];
}

bool ParseItemTypeName(std::string_view name, ItemType* type) {
  for (size_t i = 1; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) {
      *type = static_cast<ItemType>(i);
      return true;
    }
  }
  return false;
}

bool IsValidItemType(uint8_t code) { return code >= 0x01 && code <= 0x0B; }

Item Item::Structure(uint32_t tag, std::vector<Item> children) {
  Item it;
  it.tag_ = tag;
  it.type_ = ItemType::kStructure;
  it.children_ = std::move(children);
  return it;
}

Item Item::Integer(uint32_t tag, int32_t value) {
  Item it;
  it.tag_ = tag;
  it.type_ = ItemType::kInteger;
  it.int_ = value;
  return it;
}

Item Item::LongInteger(uint32_t tag, int64_t value) {
  Item it = Integer(tag, 0);
  it.type_ = ItemType::kLongInteger;
  it.int_ = value;
  return it;
}

Item Item::BigInteger(uint32_t tag, std::span<const uint8_t> value) {
  Item it;
  it.tag_ = tag;
  it.type_ = ItemType::kBigInteger;
  it.bytes_.assign(value.begin(), value.end());
  return it;
}

Item Item::Enumeration(uint32_t tag, uint32_t value) {
  Item it = Integer(tag, 0);
  it.type_ = ItemType::kEnumeration;
  it.int_ = value;
  return it;
}

Item Item::Boolean(uint32_t tag, bool value) {
  Item it = Integer(tag, 0);
  it.type_ = ItemType::kBoolean;
  it.int_ = value ? 1 : 0;
  return it;
}

Item Item::TextString(uint32_t tag, std::string_view value) {
  Item it;
  it.tag_ = tag;
  it.type_ = ItemType::kTextString;
  it.bytes_.assign(value.begin(), value.end());
  return it;
}

Item Item::ByteString(uint32_t tag, std::span<const uint8_t> value) {
  Item it = BigInteger(tag, value);
  it.type_ = ItemType::kByteString;
  return it;
}

Item Item::DateTime(uint32_t tag, int64_t seconds) {
  Item it = Integer(tag, 0);
  it.type_ = ItemType::kDateTime;
  it.int_ = seconds;
  return it;
}

Item Item::Interval(uint32_t tag, uint32_t seconds) {
  Item it = Integer(tag, 0);
  it.type_ = ItemType::kInterval;
  it.int_ = seconds;
  return it;
}

Item Item::DateTimeExtended(uint32_t tag, int64_t micros) {
  Item it = Integer(tag, 0);
  it.type_ = ItemType::kDateTimeExtended;
  it.int_ = micros;
  return it;
}

Item Item::Placeholder(uint32_t tag, ItemType type, std::string_view text) {
  Item it = TextString(tag, text);
  it.type_ = type;
  it.placeholder_ = true;
  return it;
}

const Item* Item::Find(uint32_t tag) const {
  for (const Item& c : children_) {
    if (c.tag_ == tag) return &c;
  }
  return nullptr;
}

Item* Item::FindMutable(uint32_t tag) {
  for (Item& c : children_) {
    if (c.tag_ == tag) return &c;
  }
  return nullptr;
}

std::vector<const Item*> Item::FindAll(uint32_t tag) const {
  std::vector<const Item*> out;
  for (const Item& c : children_) {
    if (c.tag_ == tag) out.push_back(&c);
  }
  return out;
}

bool operator==(const Item& a, const Item& b) {
  return a.tag_ == b.tag_ && a.type_ == b.type_ && a.placeholder_ == b.placeholder_ &&
         a.int_ == b.int_ && a.bytes_ == b.bytes_ && a.children_ == b.children_;
}

}  // namespace vmcrypt::ttlv
