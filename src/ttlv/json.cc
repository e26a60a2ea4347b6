#include "vmcrypt/ttlv/json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "src/ttlv/utf8.h"
#include "src/ttlv/value_text.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::ttlv {
namespace {

using Json = nlohmann::ordered_json;

// JSON numbers beyond 2^52 lose precision in common readers; such Long
// Integers are written as hex strings (Additional Message Encodings §4.1.5).
constexpr int64_t kMaxJsonSafeInteger = int64_t{1} << 52;

class JsonReader {
 public:
  explicit JsonReader(const Limits& limits) : limits_(limits) {}

  Result<Item> Read(const Json& j, std::string_view sibling_attr_name, int depth,
                    const std::string& path) {
    if (++items_ > limits_.max_items) return Error(path, "too many items");
    if (depth > limits_.max_depth) return Error(path, "objects nested too deeply");
    if (!j.is_object()) return Error(path, "an item must be a JSON object");
    auto tag_it = j.find("tag");
    if (tag_it == j.end() || !tag_it->is_string()) return Error(path, "missing \"tag\" string");
    const std::string tag_text = tag_it->get<std::string>();
    uint32_t tag = 0;
    if (const dict::TagInfo* info = dict::FindTagByName(tag_text); info != nullptr) {
      tag = info->tag;
    } else {
      auto r = text::ParseTagHex(tag_text);
      if (!r.ok()) return Error(path, "unknown tag name '" + tag_text + "'");
      tag = *r;
    }
    const std::string where = path + "/" + tag_text;
    ItemType type = ItemType::kStructure;
    if (auto t = j.find("type"); t != j.end()) {
      if (!t->is_string() || !ParseItemTypeName(t->get<std::string>(), &type)) {
        return Error(where, "bad \"type\"");
      }
    }
    auto value_it = j.find("value");
    if (value_it == j.end()) return Error(where, "missing \"value\"");
    const Json& v = *value_it;

    if (type == ItemType::kStructure) {
      if (!v.is_array()) return Error(where, "a Structure's value must be an array");
      std::string attr_name;
      for (const Json& c : v) {
        // Json::value() throws when "tag" is not a string: test the type.
        if (!c.is_object()) continue;
        auto child_tag = c.find("tag");
        if (child_tag != c.end() && child_tag->is_string() &&
            child_tag->get_ref<const std::string&>() == "AttributeName" && c.contains("value") &&
            c["value"].is_string()) {
          attr_name = c["value"].get<std::string>();
          break;
        }
      }
      Item item = Item::Structure(tag);
      for (const Json& c : v) {
        ASSIGN_OR_RETURN(Item child, Read(c, attr_name, depth + 1, where));
        item.Add(std::move(child));
      }
      return item;
    }
    if (v.is_string() && type != ItemType::kTextString &&
        text::IsPlaceholder(v.get_ref<const std::string&>())) {
      return Item::Placeholder(tag, type, v.get<std::string>());
    }
    Result<Item> leaf = MakeLeaf(tag, type, text::NamesFor(tag, sibling_attr_name, 2), v);
    if (!leaf.ok()) return Error(where, leaf.status().message());
    return leaf;
  }

 private:
  static Result<Item> MakeLeaf(uint32_t tag, ItemType type, const text::ValueNames& names,
                               const Json& v) {
    auto need_string = [&]() -> Result<std::string> {
      if (!v.is_string()) {
        return InvalidArgumentError("a " + std::string(ItemTypeName(type)) +
                                    " value must be a string here");
      }
      return v.get<std::string>();
    };
    switch (type) {
      case ItemType::kInteger: {
        if (v.is_number_integer()) {
          const auto x = v.get<int64_t>();
          if (x < INT32_MIN || x > INT32_MAX) return OutOfRangeError("Integer out of range");
          return Item::Integer(tag, static_cast<int32_t>(x));
        }
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(int32_t x, text::ParseInteger(names, s));
        return Item::Integer(tag, x);
      }
      case ItemType::kLongInteger: {
        if (v.is_number_integer()) return Item::LongInteger(tag, v.get<int64_t>());
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(int64_t x, text::ParseLong(s));
        return Item::LongInteger(tag, x);
      }
      case ItemType::kBigInteger:
      case ItemType::kByteString: {
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(Bytes b, text::ParseHexBytes(s));
        return type == ItemType::kBigInteger ? Item::BigInteger(tag, b) : Item::ByteString(tag, b);
      }
      case ItemType::kEnumeration: {
        if (v.is_number_unsigned()) {
          const auto x = v.get<uint64_t>();
          if (x > UINT32_MAX) return OutOfRangeError("Enumeration out of range");
          return Item::Enumeration(tag, static_cast<uint32_t>(x));
        }
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(uint32_t x, text::ParseEnum(names, s));
        return Item::Enumeration(tag, x);
      }
      case ItemType::kBoolean: {
        if (v.is_boolean()) return Item::Boolean(tag, v.get<bool>());
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(bool x, text::ParseBoolean(s));
        return Item::Boolean(tag, x);
      }
      case ItemType::kTextString: {
        ASSIGN_OR_RETURN(std::string s, need_string());
        size_t bad = 0;
        if (!IsValidUtf8(s, &bad)) {
          return InvalidArgumentError("invalid UTF-8 in TextString at character " +
                                      std::to_string(bad));
        }
        return Item::TextString(tag, s);
      }
      case ItemType::kDateTime: {
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(int64_t x, text::ParseDateTime(s));
        return Item::DateTime(tag, x);
      }
      case ItemType::kInterval: {
        if (v.is_number_unsigned()) {
          const auto x = v.get<uint64_t>();
          if (x > UINT32_MAX) return OutOfRangeError("Interval out of range");
          return Item::Interval(tag, static_cast<uint32_t>(x));
        }
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(uint32_t x, text::ParseInterval(s));
        return Item::Interval(tag, x);
      }
      case ItemType::kDateTimeExtended: {
        ASSIGN_OR_RETURN(std::string s, need_string());
        ASSIGN_OR_RETURN(int64_t x, text::ParseDateTimeExtended(s));
        return Item::DateTimeExtended(tag, x);
      }
      default:
        return InvalidArgumentError("unsupported type");
    }
  }

  static Status Error(const std::string& path, const std::string& what) {
    return InvalidArgumentError((path.empty() ? std::string("/") : path) + ": " + what);
  }

  const Limits& limits_;
  size_t items_ = 0;
};

Json ToJson(const Item& item, std::string_view sibling_attr_name, int major) {
  Json j = Json::object();
  std::string_view name = dict::TagName(item.tag(), major);
  j["tag"] = name.empty() ? text::FormatTagHex(item.tag()) : std::string(name);
  if (item.is_structure()) {
    std::string attr_name;
    if (const Item* n = item.Find(tag::kAttributeName);
        n != nullptr && n->type() == ItemType::kTextString) {
      attr_name = std::string(n->text());
    }
    Json arr = Json::array();
    for (const Item& c : item.children()) arr.push_back(ToJson(c, attr_name, major));
    j["value"] = std::move(arr);
    return j;
  }
  j["type"] = std::string(ItemTypeName(item.type()));
  if (item.is_placeholder()) {
    j["value"] = std::string(item.text());
    return j;
  }
  const text::ValueNames names = text::NamesFor(item.tag(), sibling_attr_name, major);
  switch (item.type()) {
    case ItemType::kInteger:
      if (!names.mask_id.empty() && item.int_value() != 0) {
        j["value"] = text::FormatInteger(names, static_cast<int32_t>(item.int_value()), '|');
      } else {
        j["value"] = item.int_value();
      }
      break;
    case ItemType::kLongInteger: {
      const int64_t v = item.int_value();
      if (v > -kMaxJsonSafeInteger && v < kMaxJsonSafeInteger) {
        j["value"] = v;
      } else {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "0x%016llX",
                      static_cast<unsigned long long>(static_cast<uint64_t>(v)));
        j["value"] = std::string(buf);
      }
      break;
    }
    case ItemType::kBigInteger:
      j["value"] = "0x" + HexEncode(item.bytes());
      break;
    case ItemType::kEnumeration:
      j["value"] = text::FormatEnum(names, static_cast<uint32_t>(item.int_value()));
      break;
    case ItemType::kBoolean:
      j["value"] = item.int_value() != 0;
      break;
    case ItemType::kTextString:
      j["value"] = std::string(item.text());
      break;
    case ItemType::kByteString:
      j["value"] = HexEncode(item.bytes());
      break;
    case ItemType::kDateTime:
      j["value"] = text::FormatDateTime(item.int_value());
      break;
    case ItemType::kInterval:
      j["value"] = static_cast<uint32_t>(item.int_value());
      break;
    case ItemType::kDateTimeExtended:
      j["value"] = text::FormatDateTimeExtended(item.int_value());
      break;
    default:
      break;
  }
  return j;
}

size_t LineOf(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + byte, '\n'));
}

}  // namespace

Result<std::vector<Item>> ParseJson(std::string_view document, const Limits& limits) {
  if (document.size() > limits.max_message_size * 8) {
    return OutOfRangeError("JSON document of " + std::to_string(document.size()) +
                           " bytes is too large");
  }
  // nlohmann::json throws on malformed input; the exception stays inside this
  // adapter (STYLE.md rule 3). Depth is bounded by a callback, since its
  // recursive parser would otherwise follow hostile nesting.
  Json doc;
  int depth_limit = limits.max_depth * 2 + 4;
  try {
    doc = Json::parse(
        document.begin(), document.end(),
        [depth_limit](int depth, Json::parse_event_t, Json&) {
          if (depth > depth_limit) throw std::out_of_range("nested too deeply");
          return true;
        },
        /*allow_exceptions=*/true);
  } catch (const Json::parse_error& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    auto colon = what.find("] ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return InvalidArgumentError("line " + std::to_string(LineOf(document, e.byte)) +
                                ": JSON error: " + what);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("JSON error: ") + e.what());
  }
  JsonReader reader(limits);
  std::vector<Item> items;
  if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) {
      ASSIGN_OR_RETURN(Item item, reader.Read(doc[i], "", 0, "[" + std::to_string(i) + "]"));
      items.push_back(std::move(item));
    }
  } else {
    ASSIGN_OR_RETURN(Item item, reader.Read(doc, "", 0, ""));
    items.push_back(std::move(item));
  }
  return items;
}

std::string WriteJson(const Item& item) {
  return ToJson(item, "", text::MajorVersionOf(item))
             .dump(2, ' ', false, Json::error_handler_t::replace) +
         "\n";
}

std::string WriteJsonDocument(const std::vector<Item>& items) {
  Json arr = Json::array();
  for (const Item& item : items) arr.push_back(ToJson(item, "", text::MajorVersionOf(item)));
  return arr.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace vmcrypt::ttlv
