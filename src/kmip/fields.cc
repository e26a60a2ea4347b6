#include "src/kmip/fields.h"

#include <cstdio>

#include "vmcrypt/ttlv/dictionary.h"

namespace vmcrypt::kmip::internal {

using ttlv::Item;
using ttlv::ItemType;

std::string TagLabel(uint32_t tag) {
  std::string_view name = ttlv::dict::TagSpecName(tag);
  if (!name.empty()) return std::string(name);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%06X", tag);
  return buf;
}

Fields::Fields(const Item& s) : s_(s), used_(s.children().size(), false) {}

Status Fields::Error(const std::string& what) const {
  return InvalidArgumentError(TagLabel(s_.tag()) + ": " + what);
}

Result<const Item*> Fields::Typed(uint32_t tag, ItemType type, bool required) {
  if (!s_.is_structure()) return Error("is not a Structure");
  const auto& c = s_.children();
  for (size_t i = 0; i < c.size(); ++i) {
    if (used_[i] || c[i].tag() != tag) continue;
    used_[i] = true;
    if (c[i].type() != type) {
      return Error(TagLabel(tag) + " is a " + std::string(ttlv::ItemTypeName(c[i].type())) +
                   ", not a " + std::string(ttlv::ItemTypeName(type)));
    }
    if (c[i].is_placeholder()) return Error(TagLabel(tag) + " holds a placeholder");
    return &c[i];
  }
  if (required) return Error("missing " + TagLabel(tag));
  return static_cast<const Item*>(nullptr);
}

Result<const Item*> Fields::Optional(uint32_t tag) {
  if (!s_.is_structure()) return Error("is not a Structure");
  const auto& c = s_.children();
  for (size_t i = 0; i < c.size(); ++i) {
    if (used_[i] || c[i].tag() != tag) continue;
    used_[i] = true;
    return &c[i];
  }
  return static_cast<const Item*>(nullptr);
}

Result<const Item*> Fields::Required(uint32_t tag) {
  ASSIGN_OR_RETURN(const Item* p, Optional(tag));
  if (p == nullptr) return Error("missing " + TagLabel(tag));
  return p;
}

#define VMCRYPT_OPT_FIELD(Name, T, TYPE, EXPR)                          \
  Result<std::optional<T>> Fields::Name(uint32_t tag) {                 \
    ASSIGN_OR_RETURN(const Item* p, Typed(tag, ItemType::TYPE, false)); \
    if (p == nullptr) return std::optional<T>();                        \
    return std::optional<T>(EXPR);                                      \
  }

VMCRYPT_OPT_FIELD(OptInt, int32_t, kInteger, static_cast<int32_t>(p->int_value()))
VMCRYPT_OPT_FIELD(OptLong, int64_t, kLongInteger, p->int_value())
VMCRYPT_OPT_FIELD(OptEnum, uint32_t, kEnumeration, static_cast<uint32_t>(p->int_value()))
VMCRYPT_OPT_FIELD(OptBool, bool, kBoolean, p->int_value() != 0)
VMCRYPT_OPT_FIELD(OptText, std::string, kTextString, std::string(p->text()))
VMCRYPT_OPT_FIELD(OptBytes, ttlv::Bytes, kByteString, p->bytes())
VMCRYPT_OPT_FIELD(OptDateTime, int64_t, kDateTime, p->int_value())
VMCRYPT_OPT_FIELD(OptInterval, uint32_t, kInterval, static_cast<uint32_t>(p->int_value()))
VMCRYPT_OPT_FIELD(OptStruct, Item, kStructure, *p)
#undef VMCRYPT_OPT_FIELD

#define VMCRYPT_REQ_FIELD(Name, T, TYPE, EXPR)                         \
  Result<T> Fields::Name(uint32_t tag) {                               \
    ASSIGN_OR_RETURN(const Item* p, Typed(tag, ItemType::TYPE, true)); \
    return T(EXPR);                                                    \
  }

VMCRYPT_REQ_FIELD(Int, int32_t, kInteger, static_cast<int32_t>(p->int_value()))
VMCRYPT_REQ_FIELD(Enum, uint32_t, kEnumeration, static_cast<uint32_t>(p->int_value()))
VMCRYPT_REQ_FIELD(Bool, bool, kBoolean, p->int_value() != 0)
VMCRYPT_REQ_FIELD(Text, std::string, kTextString, std::string(p->text()))
VMCRYPT_REQ_FIELD(Bytes, ttlv::Bytes, kByteString, p->bytes())
VMCRYPT_REQ_FIELD(DateTime, int64_t, kDateTime, p->int_value())
VMCRYPT_REQ_FIELD(Struct, Item, kStructure, *p)
#undef VMCRYPT_REQ_FIELD

std::vector<const Item*> Fields::All(uint32_t tag) {
  std::vector<const Item*> out;
  if (!s_.is_structure()) return out;
  const auto& c = s_.children();
  for (size_t i = 0; i < c.size(); ++i) {
    if (used_[i] || c[i].tag() != tag) continue;
    used_[i] = true;
    out.push_back(&c[i]);
  }
  return out;
}

Result<std::vector<uint32_t>> Fields::AllEnums(uint32_t tag) {
  std::vector<uint32_t> out;
  for (const Item* p : All(tag)) {
    if (p->type() != ItemType::kEnumeration) return Error(TagLabel(tag) + " is not an Enumeration");
    out.push_back(static_cast<uint32_t>(p->int_value()));
  }
  return out;
}

Result<std::vector<std::string>> Fields::AllTexts(uint32_t tag) {
  std::vector<std::string> out;
  for (const Item* p : All(tag)) {
    if (p->type() != ItemType::kTextString) return Error(TagLabel(tag) + " is not a Text String");
    out.emplace_back(p->text());
  }
  return out;
}

Status Fields::Done() const {
  if (!s_.is_structure()) return Error("is not a Structure");
  const auto& c = s_.children();
  for (size_t i = 0; i < c.size(); ++i) {
    if (!used_[i]) return Error("unexpected " + TagLabel(c[i].tag()));
  }
  return OkStatus();
}

void AddInt(Item& s, uint32_t tag, const std::optional<int32_t>& v) {
  if (v) s.Add(Item::Integer(tag, *v));
}
void AddEnum(Item& s, uint32_t tag, const std::optional<uint32_t>& v) {
  if (v) s.Add(Item::Enumeration(tag, *v));
}
void AddBool(Item& s, uint32_t tag, const std::optional<bool>& v) {
  if (v) s.Add(Item::Boolean(tag, *v));
}
void AddText(Item& s, uint32_t tag, const std::optional<std::string>& v) {
  if (v) s.Add(Item::TextString(tag, *v));
}
void AddBytes(Item& s, uint32_t tag, const std::optional<ttlv::Bytes>& v) {
  if (v) s.Add(Item::ByteString(tag, *v));
}
void AddDateTime(Item& s, uint32_t tag, const std::optional<int64_t>& v) {
  if (v) s.Add(Item::DateTime(tag, *v));
}
void AddItem(Item& s, const std::optional<Item>& v) {
  if (v) s.Add(*v);
}

Status NotInVersion(const char* field, const char* version) {
  return InvalidArgumentError(std::string(field) + " does not exist before KMIP " + version);
}

}  // namespace vmcrypt::kmip::internal
