#include "vmcrypt/ttlv/xml.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cstring>

#include "src/ttlv/utf8.h"
#include "src/ttlv/value_text.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::ttlv {
namespace {

// Maps byte offsets in the source to 1-based line numbers.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') newlines_.push_back(i);
    }
  }
  size_t LineOf(ptrdiff_t offset) const {
    if (offset < 0) return 0;
    return static_cast<size_t>(
               std::lower_bound(newlines_.begin(), newlines_.end(), static_cast<size_t>(offset)) -
               newlines_.begin()) +
           1;
  }

 private:
  std::vector<size_t> newlines_;
};

class XmlReader {
 public:
  XmlReader(const LineIndex& lines, const Limits& limits) : lines_(lines), limits_(limits) {}

  Result<Item> ReadElement(const pugi::xml_node& node, std::string_view sibling_attr_name,
                           int depth) {
    if (++items_ > limits_.max_items) return Error(node, "too many items");
    if (depth > limits_.max_depth) return Error(node, "elements nested too deeply");
    ASSIGN_OR_RETURN(uint32_t tag, TagOf(node));

    ItemType type = ItemType::kStructure;
    pugi::xml_attribute type_attr = node.attribute("type");
    if (type_attr && !ParseItemTypeName(type_attr.value(), &type)) {
      return Error(node, "unknown type '" + std::string(type_attr.value()) + "'");
    }

    if (type == ItemType::kStructure) {
      if (node.attribute("value")) return Error(node, "a Structure cannot have a value");
      Item item = Item::Structure(tag);
      // KMIP 1.x: an Attribute Value's names come from its Attribute Name.
      std::string attr_name;
      for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && std::strcmp(c.name(), "AttributeName") == 0) {
          attr_name = c.attribute("value").value();
          break;
        }
      }
      for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_pcdata && !IsBlank(c.value())) {
          return Error(c, "unexpected text inside a Structure");
        }
        if (c.type() != pugi::node_element) continue;
        ASSIGN_OR_RETURN(Item child, ReadElement(c, attr_name, depth + 1));
        item.Add(std::move(child));
      }
      return item;
    }

    if (node.first_child().type() == pugi::node_element) {
      return Error(node, "a " + std::string(ItemTypeName(type)) + " cannot have child elements");
    }
    pugi::xml_attribute value_attr = node.attribute("value");
    if (!value_attr) return Error(node, "missing value attribute");
    std::string_view v = value_attr.value();
    if (type != ItemType::kTextString && text::IsPlaceholder(v)) {
      return Item::Placeholder(tag, type, v);
    }
    const text::ValueNames names = text::NamesFor(tag, sibling_attr_name, 2);
    Result<Item> leaf = MakeLeaf(tag, type, names, v);
    if (!leaf.ok()) return Error(node, leaf.status().message());
    return leaf;
  }

 private:
  static bool IsBlank(const char* s) {
    for (; *s != '\0'; ++s) {
      if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t') return false;
    }
    return true;
  }

  Result<uint32_t> TagOf(const pugi::xml_node& node) {
    std::string_view name = node.name();
    if (name == "TTLV") {
      auto r = text::ParseTagHex(node.attribute("tag").value());
      if (!r.ok()) return Error(node, "TTLV element needs tag=\"0x42xxxx\" or \"0x54xxxx\"");
      return *r;
    }
    const dict::TagInfo* info = dict::FindTagByName(name);
    if (info == nullptr) return Error(node, "unknown tag name '" + std::string(name) + "'");
    return info->tag;
  }

  static Result<Item> MakeLeaf(uint32_t tag, ItemType type, const text::ValueNames& names,
                               std::string_view v) {
    switch (type) {
      case ItemType::kInteger: {
        ASSIGN_OR_RETURN(int32_t x, text::ParseInteger(names, v));
        return Item::Integer(tag, x);
      }
      case ItemType::kLongInteger: {
        ASSIGN_OR_RETURN(int64_t x, text::ParseLong(v));
        return Item::LongInteger(tag, x);
      }
      case ItemType::kBigInteger: {
        ASSIGN_OR_RETURN(Bytes b, text::ParseHexBytes(v));
        return Item::BigInteger(tag, b);
      }
      case ItemType::kEnumeration: {
        ASSIGN_OR_RETURN(uint32_t x, text::ParseEnum(names, v));
        return Item::Enumeration(tag, x);
      }
      case ItemType::kBoolean: {
        ASSIGN_OR_RETURN(bool x, text::ParseBoolean(v));
        return Item::Boolean(tag, x);
      }
      case ItemType::kTextString: {
        size_t bad = 0;
        if (!IsValidUtf8(v, &bad)) {
          return InvalidArgumentError("invalid UTF-8 in TextString at character " +
                                      std::to_string(bad));
        }
        return Item::TextString(tag, v);
      }
      case ItemType::kByteString: {
        ASSIGN_OR_RETURN(Bytes b, text::ParseHexBytes(v));
        return Item::ByteString(tag, b);
      }
      case ItemType::kDateTime: {
        ASSIGN_OR_RETURN(int64_t x, text::ParseDateTime(v));
        return Item::DateTime(tag, x);
      }
      case ItemType::kInterval: {
        ASSIGN_OR_RETURN(uint32_t x, text::ParseInterval(v));
        return Item::Interval(tag, x);
      }
      case ItemType::kDateTimeExtended: {
        ASSIGN_OR_RETURN(int64_t x, text::ParseDateTimeExtended(v));
        return Item::DateTimeExtended(tag, x);
      }
      default:
        return InvalidArgumentError("unsupported type");
    }
  }

  Status Error(const pugi::xml_node& node, const std::string& what) const {
    return InvalidArgumentError("line " + std::to_string(lines_.LineOf(node.offset_debug())) +
                                ": " + what);
  }

  const LineIndex& lines_;
  const Limits& limits_;
  size_t items_ = 0;
};

void Escape(std::string_view s, std::string& out) {
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string ValueText(const Item& item, const text::ValueNames& names) {
  if (item.is_placeholder()) return std::string(item.text());
  switch (item.type()) {
    case ItemType::kInteger:
      return text::FormatInteger(names, static_cast<int32_t>(item.int_value()), ' ');
    case ItemType::kLongInteger:
      return std::to_string(item.int_value());
    case ItemType::kEnumeration:
      return text::FormatEnum(names, static_cast<uint32_t>(item.int_value()));
    case ItemType::kBoolean:
      return item.int_value() != 0 ? "true" : "false";
    case ItemType::kTextString:
      return std::string(item.text());
    case ItemType::kBigInteger:
    case ItemType::kByteString:
      return HexEncode(item.bytes());
    case ItemType::kDateTime:
      return text::FormatDateTime(item.int_value());
    case ItemType::kInterval:
      return std::to_string(static_cast<uint32_t>(item.int_value()));
    case ItemType::kDateTimeExtended:
      return text::FormatDateTimeExtended(item.int_value());
    default:
      return "";
  }
}

void WriteElement(const Item& item, std::string_view sibling_attr_name, int major, int indent,
                  std::string& out) {
  out.append(static_cast<size_t>(indent), ' ');
  std::string_view name = dict::TagName(item.tag(), major);
  std::string open;
  if (name.empty()) {
    open = "TTLV tag=\"" + text::FormatTagHex(item.tag()) + "\"";
    name = "TTLV";
  } else {
    open = std::string(name);
  }
  out += "<" + open;
  if (item.is_structure()) {
    if (item.children().empty()) {
      out += "/>\n";
      return;
    }
    out += ">\n";
    std::string attr_name;
    if (const Item* n = item.Find(tag::kAttributeName);
        n != nullptr && n->type() == ItemType::kTextString) {
      attr_name = std::string(n->text());
    }
    for (const Item& c : item.children()) WriteElement(c, attr_name, major, indent + 2, out);
    out.append(static_cast<size_t>(indent), ' ');
    out += "</" + std::string(name) + ">\n";
    return;
  }
  out += " type=\"";
  out += ItemTypeName(item.type());
  out += "\" value=\"";
  Escape(ValueText(item, text::NamesFor(item.tag(), sibling_attr_name, major)), out);
  out += "\"/>\n";
}

}  // namespace

Result<std::vector<Item>> ParseXml(std::string_view document, const Limits& limits) {
  if (document.size() > limits.max_message_size * 8) {
    return OutOfRangeError("XML document of " + std::to_string(document.size()) +
                           " bytes is too large");
  }
  LineIndex lines(document);
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(document.data(), document.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return InvalidArgumentError("line " + std::to_string(lines.LineOf(parsed.offset)) +
                                ": XML error: " + parsed.description());
  }
  pugi::xml_node root = doc.document_element();
  if (!root) return InvalidArgumentError("line 1: no XML element");
  XmlReader reader(lines, limits);
  std::vector<Item> items;
  if (std::string_view(root.name()) == "KMIP") {
    for (pugi::xml_node c = root.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      ASSIGN_OR_RETURN(Item item, reader.ReadElement(c, "", 0));
      items.push_back(std::move(item));
    }
  } else {
    ASSIGN_OR_RETURN(Item item, reader.ReadElement(root, "", 0));
    items.push_back(std::move(item));
  }
  return items;
}

std::string WriteXml(const Item& item) {
  std::string out;
  WriteElement(item, "", text::MajorVersionOf(item), 0, out);
  return out;
}

std::string WriteXmlDocument(const std::vector<Item>& items) {
  std::string out = "<KMIP>\n";
  for (size_t i = 0; i < items.size(); ++i) {
    out += "\n";
    WriteElement(items[i], "", text::MajorVersionOf(items[i]), 0, out);
  }
  out += "\n</KMIP>\n";
  return out;
}

}  // namespace vmcrypt::ttlv
