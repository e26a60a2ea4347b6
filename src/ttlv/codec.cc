#include "vmcrypt/ttlv/codec.h"

#include <cstdio>
#include <string>

#include "src/ttlv/utf8.h"
#include "vmcrypt/base/byte_reader.h"
#include "vmcrypt/base/encoding.h"

namespace vmcrypt::ttlv {
namespace {

std::string Hex6(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%06X", v);
  return buf;
}

std::string At(size_t offset) { return " at offset " + std::to_string(offset); }

// The fixed value length of a type, or 0 for variable-length types
// (KMIP 1.4 §9.1.1.4).
uint32_t FixedLength(ItemType type) {
  switch (type) {
    case ItemType::kInteger:
    case ItemType::kEnumeration:
    case ItemType::kInterval:
      return 4;
    case ItemType::kLongInteger:
    case ItemType::kBoolean:
    case ItemType::kDateTime:
    case ItemType::kDateTimeExtended:
      return 8;
    default:
      return 0;
  }
}

uint64_t Padded(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

class Decoder {
 public:
  explicit Decoder(const Limits& limits) : limits_(limits) {}

  Result<Item> DecodeItem(ByteReader& in, int depth) {
    const size_t start = in.offset();
    if (++items_ > limits_.max_items) {
      return OutOfRangeError("too many items (limit " + std::to_string(limits_.max_items) + ")" +
                             At(start));
    }
    ASSIGN_OR_RETURN(uint32_t tag, in.ReadU24Be("item tag"));
    if ((tag >> 16) != 0x42 && (tag >> 16) != 0x54) {
      return InvalidArgumentError("invalid tag " + Hex6(tag) + " (must be 0x42xxxx or 0x54xxxx)" +
                                  At(start));
    }
    ASSIGN_OR_RETURN(uint8_t type_code, in.ReadU8("item type"));
    if (!IsValidItemType(type_code)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "0x%02X", type_code);
      return InvalidArgumentError(std::string("invalid item type ") + buf + " for tag " +
                                  Hex6(tag) + At(start + 3));
    }
    const auto type = static_cast<ItemType>(type_code);
    ASSIGN_OR_RETURN(uint32_t length, in.ReadU32Be("item length"));
    const size_t value_offset = in.offset();
    const uint32_t fixed = FixedLength(type);
    if (fixed != 0 && length != fixed) {
      return InvalidArgumentError("wrong length " + std::to_string(length) + " for " +
                                  std::string(ItemTypeName(type)) + " (must be " +
                                  std::to_string(fixed) + ")" + At(start + 4));
    }
    if (type == ItemType::kBigInteger && (length == 0 || length % 8 != 0)) {
      return InvalidArgumentError("wrong length " + std::to_string(length) +
                                  " for BigInteger (must be a non-zero multiple of 8)" +
                                  At(start + 4));
    }
    if (type == ItemType::kStructure && length % 8 != 0) {
      return InvalidArgumentError("Structure length " + std::to_string(length) +
                                  " is not a multiple of 8" + At(start + 4));
    }
    const uint64_t padded = Padded(length);
    if (padded > in.remaining()) {
      return InvalidArgumentError("item length " + std::to_string(length) + " exceeds the " +
                                  std::to_string(in.remaining()) + " byte(s) left" + At(start + 4));
    }

    if (type == ItemType::kStructure) {
      if (depth >= limits_.max_depth) {
        return OutOfRangeError("structures nested deeper than " +
                               std::to_string(limits_.max_depth) + At(start));
      }
      ASSIGN_OR_RETURN(auto body, in.ReadBytes(length, "structure"));
      ByteReader sub(body, value_offset);
      Item item = Item::Structure(tag);
      while (!sub.empty()) {
        ASSIGN_OR_RETURN(Item child, DecodeItem(sub, depth + 1));
        item.Add(std::move(child));
      }
      return item;
    }

    ASSIGN_OR_RETURN(auto value, in.ReadBytes(length, "item value"));
    // Values are padded to a multiple of 8 with zeros; the 4-byte types carry
    // 4 padding bytes (KMIP 1.4 §9.1.1.3).
    ASSIGN_OR_RETURN(auto padding, in.ReadBytes(padded - length, "padding"));
    for (size_t i = 0; i < padding.size(); ++i) {
      if (padding[i] != 0) {
        return InvalidArgumentError("non-zero padding byte for tag " + Hex6(tag) +
                                    At(value_offset + length + i));
      }
    }
    return MakeLeaf(tag, type, value, value_offset);
  }

 private:
  static uint64_t Be(std::span<const uint8_t> v) {
    uint64_t x = 0;
    for (uint8_t b : v) x = (x << 8) | b;
    return x;
  }

  Result<Item> MakeLeaf(uint32_t tag, ItemType type, std::span<const uint8_t> v, size_t off) {
    switch (type) {
      case ItemType::kInteger:
        return Item::Integer(tag, static_cast<int32_t>(Be(v)));
      case ItemType::kLongInteger:
        return Item::LongInteger(tag, static_cast<int64_t>(Be(v)));
      case ItemType::kBigInteger:
        return Item::BigInteger(tag, v);
      case ItemType::kEnumeration:
        return Item::Enumeration(tag, static_cast<uint32_t>(Be(v)));
      case ItemType::kBoolean: {
        uint64_t b = Be(v);
        if (b > 1) {
          return InvalidArgumentError("Boolean value for tag " + Hex6(tag) + " is neither 0 nor 1" +
                                      At(off));
        }
        return Item::Boolean(tag, b == 1);
      }
      case ItemType::kTextString: {
        std::string_view text(reinterpret_cast<const char*>(v.data()), v.size());
        size_t bad = 0;
        if (!IsValidUtf8(text, &bad)) {
          return InvalidArgumentError("invalid UTF-8 in TextString for tag " + Hex6(tag) +
                                      At(off + bad));
        }
        return Item::TextString(tag, text);
      }
      case ItemType::kByteString:
        return Item::ByteString(tag, v);
      case ItemType::kDateTime:
        return Item::DateTime(tag, static_cast<int64_t>(Be(v)));
      case ItemType::kInterval:
        return Item::Interval(tag, static_cast<uint32_t>(Be(v)));
      case ItemType::kDateTimeExtended:
        return Item::DateTimeExtended(tag, static_cast<int64_t>(Be(v)));
      default:
        return InternalError("unexpected item type" + At(off));
    }
  }

  const Limits& limits_;
  size_t items_ = 0;
};

void PutBe(Bytes& out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Status EncodeInto(const Item& item, PlaceholderMap* placeholders, Bytes& out) {
  if (item.is_placeholder()) {
    if (placeholders == nullptr) {
      return InvalidArgumentError("placeholder '" + std::string(item.text()) + "' for tag " +
                                  Hex6(item.tag()) + " has no binary form");
    }
    ASSIGN_OR_RETURN(Item concrete, placeholders->Substitute(item));
    return EncodeInto(concrete, placeholders, out);
  }
  if (!IsValidItemType(static_cast<uint8_t>(item.type()))) {
    return InvalidArgumentError("invalid item type for tag " + Hex6(item.tag()));
  }
  PutBe(out, item.tag(), 3);
  out.push_back(static_cast<uint8_t>(item.type()));
  const size_t length_pos = out.size();
  PutBe(out, 0, 4);

  uint64_t length = 0;
  switch (item.type()) {
    case ItemType::kStructure: {
      const size_t body = out.size();
      for (const Item& c : item.children()) RETURN_IF_ERROR(EncodeInto(c, placeholders, out));
      length = out.size() - body;
      break;
    }
    case ItemType::kInteger:
    case ItemType::kEnumeration:
    case ItemType::kInterval:
      PutBe(out, static_cast<uint32_t>(item.int_value()), 4);
      PutBe(out, 0, 4);
      length = 4;
      break;
    case ItemType::kLongInteger:
    case ItemType::kBoolean:
    case ItemType::kDateTime:
    case ItemType::kDateTimeExtended:
      PutBe(out, static_cast<uint64_t>(item.int_value()), 8);
      length = 8;
      break;
    case ItemType::kBigInteger: {
      // Sign-extend to a non-zero multiple of 8 bytes (§9.1.1.4).
      const Bytes& b = item.bytes();
      const uint8_t fill = (!b.empty() && (b[0] & 0x80)) ? 0xFF : 0x00;
      const size_t total = b.empty() ? 8 : Padded(b.size());
      out.insert(out.end(), total - b.size(), fill);
      out.insert(out.end(), b.begin(), b.end());
      length = total;
      break;
    }
    case ItemType::kTextString:
    case ItemType::kByteString: {
      const Bytes& b = item.bytes();
      out.insert(out.end(), b.begin(), b.end());
      out.insert(out.end(), Padded(b.size()) - b.size(), 0);
      length = b.size();
      break;
    }
    default:
      return InvalidArgumentError("invalid item type for tag " + Hex6(item.tag()));
  }
  if (length > 0xFFFFFFFFu) return OutOfRangeError("item too large for tag " + Hex6(item.tag()));
  for (int i = 0; i < 4; ++i) out[length_pos + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  return OkStatus();
}

}  // namespace

Result<Item> Decode(std::span<const uint8_t> data, const Limits& limits) {
  if (data.size() > limits.max_message_size) {
    return OutOfRangeError("message of " + std::to_string(data.size()) +
                           " bytes exceeds the limit of " +
                           std::to_string(limits.max_message_size) + " at offset 0");
  }
  ByteReader in(data);
  Decoder decoder(limits);
  ASSIGN_OR_RETURN(Item item, decoder.DecodeItem(in, 0));
  if (!in.empty()) {
    return InvalidArgumentError(std::to_string(in.remaining()) + " trailing byte(s)" +
                                At(in.offset()));
  }
  return item;
}

Result<Bytes> Encode(const Item& item, PlaceholderMap* placeholders) {
  Bytes out;
  RETURN_IF_ERROR(EncodeInto(item, placeholders, out));
  return out;
}

Result<size_t> MessageSize(std::span<const uint8_t> header, const Limits& limits) {
  ByteReader in(header);
  ASSIGN_OR_RETURN(uint32_t tag, in.ReadU24Be("message tag"));
  ASSIGN_OR_RETURN(uint8_t type, in.ReadU8("message type"));
  ASSIGN_OR_RETURN(uint32_t length, in.ReadU32Be("message length"));
  if ((tag >> 16) != 0x42 && (tag >> 16) != 0x54) {
    return InvalidArgumentError("invalid message tag " + Hex6(tag) + At(0));
  }
  if (type != static_cast<uint8_t>(ItemType::kStructure)) {
    return InvalidArgumentError("message is not a Structure" + At(3));
  }
  const uint64_t total = uint64_t{length} + kHeaderSize;
  if (total > limits.max_message_size) {
    return OutOfRangeError("message length " + std::to_string(total) + " exceeds the limit of " +
                           std::to_string(limits.max_message_size) + At(4));
  }
  return static_cast<size_t>(total);
}

// --- PlaceholderMap ---------------------------------------------------------

Result<Item> PlaceholderMap::Substitute(const Item& p) {
  const std::string text(p.text());
  switch (p.type()) {
    case ItemType::kDateTime: {
      // $NOW, $NOW-3600, $NOW+3600 (the OASIS test cases' forms).
      if (text.rfind("$NOW", 0) != 0) break;
      int64_t delta = 0;
      std::string rest = text.substr(4);
      if (!rest.empty()) {
        if ((rest[0] != '+' && rest[0] != '-') || rest.size() < 2 || rest.size() > 10) break;
        bool digits = true;
        for (size_t i = 1; i < rest.size(); ++i)
          digits = digits && rest[i] >= '0' && rest[i] <= '9';
        if (!digits) break;
        delta = std::stoll(rest.substr(1));
        if (rest[0] == '-') delta = -delta;
      }
      const int64_t value = kNowEpoch + delta;
      date_times_[value] = text;
      return Item::DateTime(p.tag(), value);
    }
    case ItemType::kByteString: {
      byte_strings_[text] = text;
      return Item::ByteString(p.tag(), AsBytes(text));
    }
    case ItemType::kTextString:
      return Item::TextString(p.tag(), text);
    default:
      break;
  }
  return InvalidArgumentError("placeholder '" + text + "' of type " +
                              std::string(ItemTypeName(p.type())) + " for tag " + Hex6(p.tag()) +
                              " has no binary form");
}

void PlaceholderMap::Restore(Item* item) const {
  switch (item->type()) {
    case ItemType::kStructure:
      for (Item& c : item->mutable_children()) Restore(&c);
      return;
    case ItemType::kDateTime: {
      auto it = date_times_.find(item->int_value());
      if (it != date_times_.end()) *item = Item::Placeholder(item->tag(), item->type(), it->second);
      return;
    }
    case ItemType::kByteString: {
      auto it = byte_strings_.find(std::string(item->text()));
      if (it != byte_strings_.end()) {
        *item = Item::Placeholder(item->tag(), item->type(), it->second);
      }
      return;
    }
    default:
      return;
  }
}

}  // namespace vmcrypt::ttlv
