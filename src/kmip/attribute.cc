#include "vmcrypt/kmip/attribute.h"

#include <cstdio>

#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using ttlv::Item;
using ttlv::ItemType;
namespace tag = ttlv::tag;
namespace dict = ttlv::dict;

Status NeedStructure(const Item& item, const char* what) {
  if (!item.is_structure()) return InvalidArgumentError(std::string(what) + " is not a Structure");
  return OkStatus();
}

Result<std::string> TextChild(const Item& parent, uint32_t child_tag, const char* what) {
  const Item* c = parent.Find(child_tag);
  if (c == nullptr) return InvalidArgumentError(std::string("missing ") + what);
  if (c->type() != ItemType::kTextString) {
    return InvalidArgumentError(std::string(what) + " is not a Text String");
  }
  return std::string(c->text());
}

// "x-Vendor" -> {"x", "Vendor"}.
bool SplitCustomName(std::string_view name, std::string* vendor, std::string* attr) {
  size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return false;
  *vendor = std::string(name.substr(0, dash));
  *attr = std::string(name.substr(dash + 1));
  return true;
}

bool IsV1Container(uint32_t t) {
  return t == tag::kTemplateAttribute || t == tag::kCommonTemplateAttribute ||
         t == tag::kPrivateKeyTemplateAttribute || t == tag::kPublicKeyTemplateAttribute;
}

}  // namespace

Attribute Attribute::Text(std::string_view name, std::string_view value) {
  return {std::string(name), std::nullopt, Item::TextString(tag::kAttributeValue, value)};
}
Attribute Attribute::Integer(std::string_view name, int32_t value) {
  return {std::string(name), std::nullopt, Item::Integer(tag::kAttributeValue, value)};
}
Attribute Attribute::Enum(std::string_view name, uint32_t value) {
  return {std::string(name), std::nullopt, Item::Enumeration(tag::kAttributeValue, value)};
}
Attribute Attribute::Boolean(std::string_view name, bool value) {
  return {std::string(name), std::nullopt, Item::Boolean(tag::kAttributeValue, value)};
}
Attribute Attribute::DateTime(std::string_view name, int64_t seconds) {
  return {std::string(name), std::nullopt, Item::DateTime(tag::kAttributeValue, seconds)};
}
Attribute Attribute::Name(std::string_view value, NameType type) {
  return {"Name", std::nullopt,
          Item::Structure(tag::kAttributeValue,
                          {Item::TextString(tag::kNameValue, value),
                           Item::Enumeration(tag::kNameType, static_cast<uint32_t>(type))})};
}

bool Attribute::is_custom() const { return dict::FindTagBySpecName(name) == nullptr; }

const Attribute* FindAttribute(const AttributeList& list, std::string_view name) {
  for (const Attribute& a : list) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Item EncodeAttribute1(const Attribute& attr) {
  Item s = Item::Structure(tag::kAttribute);
  s.Add(Item::TextString(tag::kAttributeName, attr.name));
  if (attr.index.has_value()) s.Add(Item::Integer(tag::kAttributeIndex, *attr.index));
  s.Add(attr.value.WithTag(tag::kAttributeValue));
  return s;
}

Result<Attribute> DecodeAttribute1(const Item& item) {
  RETURN_IF_ERROR(NeedStructure(item, "Attribute"));
  Attribute attr;
  ASSIGN_OR_RETURN(attr.name, TextChild(item, tag::kAttributeName, "Attribute Name"));
  if (const Item* idx = item.Find(tag::kAttributeIndex); idx != nullptr) {
    if (idx->type() != ItemType::kInteger || idx->int_value() < 0) {
      return InvalidArgumentError("bad Attribute Index for '" + attr.name + "'");
    }
    attr.index = static_cast<int32_t>(idx->int_value());
  }
  const Item* value = item.Find(tag::kAttributeValue);
  if (value == nullptr) {
    return InvalidArgumentError("Attribute '" + attr.name + "' has no Attribute Value");
  }
  attr.value = *value;
  return attr;
}

Result<Item> EncodeAttribute2(const Attribute& attr) {
  if (const dict::TagInfo* t = dict::FindTagBySpecName(attr.name); t != nullptr) {
    if ((t->versions & dict::kInV2) == 0) {
      return InvalidArgumentError("attribute '" + attr.name + "' does not exist in KMIP 2.x");
    }
    return attr.value.WithTag(t->tag);
  }
  std::string vendor, name;
  if (!SplitCustomName(attr.name, &vendor, &name)) {
    return InvalidArgumentError("unknown attribute '" + attr.name +
                                "' (custom attributes are named vendor-name, e.g. x-Name)");
  }
  return Item::Structure(tag::kAttribute, {Item::TextString(tag::kVendorIdentification, vendor),
                                           Item::TextString(tag::kAttributeName, name),
                                           attr.value.WithTag(tag::kAttributeValue)});
}

Result<Attribute> DecodeAttribute2(const Item& item) {
  if (item.tag() == tag::kAttribute) {
    RETURN_IF_ERROR(NeedStructure(item, "Attribute"));
    ASSIGN_OR_RETURN(std::string vendor,
                     TextChild(item, tag::kVendorIdentification, "Vendor Identification"));
    ASSIGN_OR_RETURN(std::string name, TextChild(item, tag::kAttributeName, "Attribute Name"));
    const Item* value = item.Find(tag::kAttributeValue);
    if (value == nullptr) {
      return InvalidArgumentError("vendor attribute '" + vendor + "-" + name +
                                  "' has no Attribute Value");
    }
    return Attribute{vendor + "-" + name, std::nullopt, *value};
  }
  std::string_view spec_name = dict::TagSpecName(item.tag());
  if (spec_name.empty()) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%06X", item.tag());
    return InvalidArgumentError(std::string("unknown attribute tag ") + buf);
  }
  return Attribute{std::string(spec_name), std::nullopt, item};
}

Result<Item> EncodeAttributes(const AttributeList& attrs, ProtocolVersion v, uint32_t tag_v1,
                              uint32_t tag_v2) {
  if (!v.is_v2()) {
    Item s = Item::Structure(tag_v1);
    for (const Attribute& a : attrs) s.Add(EncodeAttribute1(a));
    return s;
  }
  Item s = Item::Structure(tag_v2);
  for (const Attribute& a : attrs) {
    ASSIGN_OR_RETURN(Item item, EncodeAttribute2(a));
    s.Add(std::move(item));
  }
  return s;
}

Result<AttributeList> DecodeAttributes(const Item& container) {
  RETURN_IF_ERROR(NeedStructure(container, "attribute container"));
  AttributeList out;
  const bool v1 = IsV1Container(container.tag());
  for (const Item& c : container.children()) {
    if (v1) {
      if (c.tag() == tag::kName) {
        return UnimplementedError("named templates are not supported (KMIP 1.x Template)");
      }
      if (c.tag() != tag::kAttribute)
        return InvalidArgumentError("unexpected item in Template-Attribute");
      ASSIGN_OR_RETURN(Attribute a, DecodeAttribute1(c));
      out.push_back(std::move(a));
    } else {
      ASSIGN_OR_RETURN(Attribute a, DecodeAttribute2(c));
      out.push_back(std::move(a));
    }
  }
  return out;
}

Result<Item> EncodeAttributeReference(std::string_view name, ProtocolVersion v) {
  if (!v.is_v2()) return Item::TextString(tag::kAttributeName, name);
  if (const dict::TagInfo* t = dict::FindTagBySpecName(name); t != nullptr) {
    return Item::Enumeration(tag::kAttributeReference, t->tag);
  }
  std::string vendor, attr;
  if (!SplitCustomName(name, &vendor, &attr)) {
    return InvalidArgumentError("unknown attribute '" + std::string(name) + "'");
  }
  return Item::Structure(tag::kAttributeReference,
                         {Item::TextString(tag::kVendorIdentification, vendor),
                          Item::TextString(tag::kAttributeName, attr)});
}

Result<std::string> DecodeAttributeReference(const Item& item) {
  if (item.tag() == tag::kAttributeName && item.type() == ItemType::kTextString) {
    return std::string(item.text());
  }
  if (item.tag() != tag::kAttributeReference) {
    return InvalidArgumentError("expected an Attribute Name or Attribute Reference");
  }
  if (item.type() == ItemType::kEnumeration) {
    std::string_view name = dict::TagSpecName(static_cast<uint32_t>(item.int_value()));
    if (name.empty()) return InvalidArgumentError("Attribute Reference to an unknown tag");
    return std::string(name);
  }
  RETURN_IF_ERROR(NeedStructure(item, "Attribute Reference"));
  ASSIGN_OR_RETURN(std::string vendor,
                   TextChild(item, tag::kVendorIdentification, "Vendor Identification"));
  ASSIGN_OR_RETURN(std::string name, TextChild(item, tag::kAttributeName, "Attribute Name"));
  return vendor + "-" + name;
}

}  // namespace vmcrypt::kmip
