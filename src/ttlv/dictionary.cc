#include "vmcrypt/ttlv/dictionary.h"

#include <cctype>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace vmcrypt::ttlv::dict {
namespace {

struct EnumEntry {
  std::string_view enum_id;
  uint32_t value;
  std::string_view name;
  std::string_view spec_name;
  uint8_t versions;
};

struct AliasEntry {
  uint32_t value;
  std::string_view name;
  std::string_view spec_name;
};

// The generated tables, as plain constant arrays.
constexpr TagInfo kTags[] = {
#define VMCRYPT_TAG(v, n, s, ver) {v, n, s, ver},
#include "src/ttlv/kmip_spec_tables.inc"
};

constexpr AliasEntry kTagAliases[] = {
    {0, "", ""},  // keeps the array non-empty
#define VMCRYPT_TAG_ALIAS(v, n, s) {v, n, s},
#include "src/ttlv/kmip_spec_tables.inc"
};

constexpr EnumEntry kEnums[] = {
#define VMCRYPT_ENUM(e, v, n, s, ver) {e, v, n, s, ver},
#include "src/ttlv/kmip_spec_tables.inc"
};

struct EnumAliasEntry {
  std::string_view enum_id;
  uint32_t value;
  std::string_view name;
  std::string_view spec_name;
};

constexpr EnumAliasEntry kEnumAliases[] = {
    {"", 0, "", ""},
#define VMCRYPT_ENUM_ALIAS(e, v, n, s) {e, v, n, s},
#include "src/ttlv/kmip_spec_tables.inc"
};

constexpr EnumEntry kMasks[] = {
#define VMCRYPT_MASK(e, v, n, s, ver) {e, v, n, s, ver},
#include "src/ttlv/kmip_spec_tables.inc"
};

struct TagRef {
  uint32_t tag;
  std::string_view id;
};

constexpr TagRef kTagEnums[] = {
#define VMCRYPT_TAG_ENUM(t, e) {t, e},
#include "src/ttlv/kmip_spec_tables.inc"
};

constexpr TagRef kTagMasks[] = {
    {0, ""},
#define VMCRYPT_TAG_MASK(t, e) {t, e},
#include "src/ttlv/kmip_spec_tables.inc"
};

using Key = std::pair<std::string, uint32_t>;

// Indexes built once over the constant tables.
struct Index {
  std::unordered_map<uint32_t, const TagInfo*> tag_by_value;
  std::unordered_map<std::string_view, const TagInfo*> tag_by_name;
  std::unordered_map<std::string_view, const TagInfo*> tag_by_spec_name;
  std::unordered_map<uint32_t, std::string_view> v1_tag_name;
  std::unordered_map<uint32_t, std::string_view> v1_tag_spec_name;
  std::unordered_map<uint32_t, std::string_view> tag_enum;
  std::unordered_map<uint32_t, std::string_view> tag_mask;
  std::map<std::pair<std::string_view, std::string_view>, uint32_t> enum_by_name;
  std::map<std::pair<std::string_view, uint32_t>, const EnumEntry*> enum_by_value;
  std::map<std::pair<std::string_view, uint32_t>, std::string_view> v1_enum_name;
  std::map<std::pair<std::string_view, std::string_view>, uint32_t> mask_by_name;
  std::map<std::pair<std::string_view, uint32_t>, std::string_view> mask_by_value;

  Index() {
    for (const TagInfo& t : kTags) {
      tag_by_value[t.tag] = &t;
      tag_by_name[t.name] = &t;
      tag_by_spec_name[t.spec_name] = &t;
    }
    for (const AliasEntry& a : kTagAliases) {
      if (a.name.empty()) continue;
      auto it = tag_by_value.find(a.value);
      if (it == tag_by_value.end()) continue;
      tag_by_name.emplace(a.name, it->second);
      tag_by_spec_name.emplace(a.spec_name, it->second);
      v1_tag_name[a.value] = a.name;
      v1_tag_spec_name[a.value] = a.spec_name;
    }
    for (const TagRef& r : kTagEnums) tag_enum[r.tag] = r.id;
    for (const TagRef& r : kTagMasks) {
      if (!r.id.empty()) tag_mask[r.tag] = r.id;
    }
    for (const EnumEntry& e : kEnums) {
      enum_by_name[{e.enum_id, e.name}] = e.value;
      enum_by_value[{e.enum_id, e.value}] = &e;
    }
    for (const EnumAliasEntry& a : kEnumAliases) {
      if (a.name.empty()) continue;
      enum_by_name.emplace(std::make_pair(a.enum_id, a.name), a.value);
      v1_enum_name[{a.enum_id, a.value}] = a.name;
    }
    for (const EnumEntry& m : kMasks) {
      mask_by_name[{m.enum_id, m.name}] = m.value;
      mask_by_value[{m.enum_id, m.value}] = m.name;
    }
  }
};

const Index& GetIndex() {
  static const Index* index = new Index();  // immutable after construction
  return *index;
}

}  // namespace

const TagInfo* FindTag(uint32_t tag) {
  const auto& m = GetIndex().tag_by_value;
  auto it = m.find(tag);
  return it == m.end() ? nullptr : it->second;
}

const TagInfo* FindTagByName(std::string_view name) {
  const auto& m = GetIndex().tag_by_name;
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second;
}

const TagInfo* FindTagBySpecName(std::string_view spec_name) {
  const auto& m = GetIndex().tag_by_spec_name;
  auto it = m.find(spec_name);
  return it == m.end() ? nullptr : it->second;
}

std::string_view TagName(uint32_t tag, int major) {
  if (major == 1) {
    const auto& m = GetIndex().v1_tag_name;
    auto it = m.find(tag);
    if (it != m.end()) return it->second;
  }
  const TagInfo* t = FindTag(tag);
  return t == nullptr ? std::string_view() : t->name;
}

std::string_view TagSpecName(uint32_t tag, int major) {
  if (major == 1) {
    const auto& m = GetIndex().v1_tag_spec_name;
    auto it = m.find(tag);
    if (it != m.end()) return it->second;
  }
  const TagInfo* t = FindTag(tag);
  return t == nullptr ? std::string_view() : t->spec_name;
}

std::string_view EnumerationForTag(uint32_t tag) {
  const auto& m = GetIndex().tag_enum;
  auto it = m.find(tag);
  return it == m.end() ? std::string_view() : it->second;
}

std::string_view MaskForTag(uint32_t tag) {
  const auto& m = GetIndex().tag_mask;
  auto it = m.find(tag);
  return it == m.end() ? std::string_view() : it->second;
}

std::optional<uint32_t> EnumValue(std::string_view enum_id, std::string_view name) {
  if (enum_id == kTagEnumeration) {
    const TagInfo* t = FindTagByName(name);
    if (t == nullptr) return std::nullopt;
    return t->tag;
  }
  const auto& m = GetIndex().enum_by_name;
  auto it = m.find({enum_id, name});
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string_view EnumName(std::string_view enum_id, uint32_t value, int major) {
  if (enum_id == kTagEnumeration) return TagName(value, major);
  const Index& idx = GetIndex();
  if (major == 1) {
    auto it = idx.v1_enum_name.find({enum_id, value});
    if (it != idx.v1_enum_name.end()) return it->second;
  }
  auto it = idx.enum_by_value.find({enum_id, value});
  return it == idx.enum_by_value.end() ? std::string_view() : it->second->name;
}

std::string_view EnumSpecName(std::string_view enum_id, uint32_t value) {
  if (enum_id == kTagEnumeration) return TagSpecName(value);
  const auto& m = GetIndex().enum_by_value;
  auto it = m.find({enum_id, value});
  return it == m.end() ? std::string_view() : it->second->spec_name;
}

std::optional<uint32_t> MaskBit(std::string_view mask_id, std::string_view name) {
  const auto& m = GetIndex().mask_by_name;
  auto it = m.find({mask_id, name});
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string_view MaskBitName(std::string_view mask_id, uint32_t bit) {
  const auto& m = GetIndex().mask_by_value;
  auto it = m.find({mask_id, bit});
  return it == m.end() ? std::string_view() : it->second;
}

size_t TagCount() { return std::size(kTags); }
size_t EnumValueCount() { return std::size(kEnums); }

// KMIP Profiles v1.4 §5.4.1.1 / §5.5.1.1 "Normalizing Names": brackets become
// spaces; a non-word character followed by a letter and a lower-case letter
// becomes a space, any other non-word character '_'; leading digits of the
// first word move to its end ("3DES" -> "DES3"); each word is capitalized and
// the spaces are removed.
std::string NormalizeName(std::string_view in) {
  auto is_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  auto is_alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  auto is_lower = [](char c) { return std::islower(static_cast<unsigned char>(c)) != 0; };
  std::string s(in);
  for (char& c : s) {
    if (c == '(' || c == ')') c = ' ';
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ' || is_word(s[i])) continue;
    const bool before_word = i + 2 < s.size() && is_alpha(s[i + 1]) && is_lower(s[i + 2]);
    s[i] = before_word ? ' ' : '_';
  }
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find(' ', pos);
    if (end == std::string::npos) end = s.size();
    if (end > pos) words.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  if (!words.empty()) {
    std::string& first = words[0];
    size_t digits = 0;
    while (digits < first.size() && std::isdigit(static_cast<unsigned char>(first[digits]))) {
      ++digits;
    }
    if (digits > 0 && digits < first.size()) first = first.substr(digits) + first.substr(0, digits);
  }
  std::string out;
  for (std::string& w : words) {
    w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    out += w;
  }
  return out;
}

}  // namespace vmcrypt::ttlv::dict
