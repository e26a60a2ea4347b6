#include "src/ttlv/value_text.h"

#include <charconv>
#include <cstdio>
#include <vector>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::ttlv::text {
namespace {

std::string Quote(std::string_view s) {
  // Values in errors are names and numbers, never key material: callers only
  // pass text fields that are not Byte Strings.
  std::string out = "'";
  out.append(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  out += "'";
  return out;
}

bool StartsWithHex(std::string_view s) {
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

Result<uint64_t> ParseHexU64(std::string_view s, int max_digits) {
  std::string_view digits = s.substr(2);
  if (digits.empty() || static_cast<int>(digits.size()) > max_digits) {
    return InvalidArgumentError("bad hex number " + Quote(s));
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
  if (ec != std::errc() || p != digits.data() + digits.size()) {
    return InvalidArgumentError("bad hex number " + Quote(s));
  }
  return v;
}

template <typename T>
Result<T> ParseDecimal(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
    return InvalidArgumentError("bad number " + Quote(s));
  }
  return v;
}

// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string FormatCivil(int64_t seconds, const char* fraction) {
  const int64_t days = FloorDiv(seconds, 86400);
  const int64_t sod = seconds - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld%s+00:00",
                static_cast<long long>(y), m, d, static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60), fraction);
  return buf;
}

// Parses "YYYY-MM-DDThh:mm:ss[.ffffff](Z|+hh:mm|-hh:mm)"; micros may be null
// to forbid a fraction.
Result<int64_t> ParseIso(std::string_view s, int64_t* micros) {
  auto bad = [&] { return InvalidArgumentError("bad ISO 8601 date-time " + Quote(s)); };
  if (s.size() < 20) return bad();
  auto num = [&](size_t pos, size_t n, int64_t* out) {
    auto r = ParseDecimal<int64_t>(s.substr(pos, n));
    if (!r.ok()) return false;
    *out = *r;
    return true;
  };
  int64_t y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' || !num(8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, &h) || s[13] != ':' ||
      !num(14, 2, &mi) || s[16] != ':' || !num(17, 2, &se)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return bad();
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    if (micros == nullptr) return bad();
    size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    size_t n = pos - start;
    if (n == 0 || n > 6) return bad();
    frac = *ParseDecimal<int64_t>(s.substr(start, n));
    for (size_t i = n; i < 6; ++i) frac *= 10;
  }
  int64_t offset = 0;
  std::string_view tz = s.substr(pos);
  if (tz == "Z" || tz == "z") {
    offset = 0;
  } else if (tz.size() == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':') {
    int64_t oh, om;
    auto rh = ParseDecimal<int64_t>(tz.substr(1, 2));
    auto rm = ParseDecimal<int64_t>(tz.substr(4, 2));
    if (!rh.ok() || !rm.ok() || *rh > 23 || *rm > 59) return bad();
    oh = *rh;
    om = *rm;
    offset = (oh * 3600 + om * 60) * (tz[0] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  if (micros != nullptr) *micros = frac;
  return days * 86400 + h * 3600 + mi * 60 + se - offset;
}

}  // namespace

ValueNames NamesFor(uint32_t tag, std::string_view sibling_attribute_name, int major) {
  ValueNames n;
  n.major = major;
  uint32_t effective = tag;
  if (tag == tag::kAttributeValue && !sibling_attribute_name.empty()) {
    const dict::TagInfo* t = dict::FindTagBySpecName(sibling_attribute_name);
    if (t == nullptr) return n;
    effective = t->tag;
  }
  n.enum_id = dict::EnumerationForTag(effective);
  n.mask_id = dict::MaskForTag(effective);
  return n;
}

std::string FormatEnum(const ValueNames& names, uint32_t value) {
  if (!names.enum_id.empty()) {
    std::string_view name = dict::EnumName(names.enum_id, value, names.major);
    if (!name.empty()) return std::string(name);
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08X", value);
  return buf;
}

Result<uint32_t> ParseEnum(const ValueNames& names, std::string_view s) {
  if (StartsWithHex(s)) {
    ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 8));
    return static_cast<uint32_t>(v);
  }
  if (!names.enum_id.empty()) {
    auto v = dict::EnumValue(names.enum_id, s);
    if (v.has_value()) return *v;
    return InvalidArgumentError("unknown " + std::string(names.enum_id) + " enumeration value " +
                                Quote(s));
  }
  auto dec = ParseDecimal<uint32_t>(s);
  if (dec.ok()) return *dec;
  return InvalidArgumentError("enumeration value " + Quote(s) +
                              " has no known enumeration for its tag (use 0x hex)");
}

std::string FormatInteger(const ValueNames& names, int32_t value, char separator) {
  if (names.mask_id.empty() || value == 0) return std::to_string(value);
  auto bits = static_cast<uint32_t>(value);
  std::string out;
  uint32_t unnamed = 0;
  for (int i = 0; i < 32; ++i) {
    uint32_t bit = uint32_t{1} << i;
    if ((bits & bit) == 0) continue;
    std::string_view name = dict::MaskBitName(names.mask_id, bit);
    if (name.empty()) {
      unnamed |= bit;
      continue;
    }
    if (!out.empty()) out.push_back(separator);
    out.append(name);
  }
  if (unnamed != 0) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "0x%08X", unnamed);
    if (!out.empty()) out.push_back(separator);
    out += buf;
  }
  return out;
}

Result<int32_t> ParseInteger(const ValueNames& names, std::string_view s) {
  if (StartsWithHex(s)) {
    ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 8));
    return static_cast<int32_t>(static_cast<uint32_t>(v));
  }
  auto dec = ParseDecimal<int32_t>(s);
  if (dec.ok()) return *dec;
  if (names.mask_id.empty()) return InvalidArgumentError("bad Integer " + Quote(s));
  uint32_t bits = 0;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find_first_of(" |", pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view word = s.substr(pos, end - pos);
    if (!word.empty()) {
      if (StartsWithHex(word)) {
        ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(word, 8));
        bits |= static_cast<uint32_t>(v);
      } else {
        auto bit = dict::MaskBit(names.mask_id, word);
        if (!bit.has_value()) {
          return InvalidArgumentError("unknown " + std::string(names.mask_id) + " name " +
                                      Quote(word));
        }
        bits |= *bit;
      }
    }
    pos = end + 1;
  }
  return static_cast<int32_t>(bits);
}

Result<int64_t> ParseLong(std::string_view s) {
  if (StartsWithHex(s)) {
    ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 16));
    return static_cast<int64_t>(v);
  }
  return ParseDecimal<int64_t>(s);
}

Result<uint32_t> ParseInterval(std::string_view s) {
  if (StartsWithHex(s)) {
    ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 8));
    return static_cast<uint32_t>(v);
  }
  return ParseDecimal<uint32_t>(s);
}

Result<bool> ParseBoolean(std::string_view s) {
  if (s == "true" || s == "0x0000000000000001") return true;
  if (s == "false" || s == "0x0000000000000000") return false;
  return InvalidArgumentError("bad Boolean " + Quote(s) + " (must be true or false)");
}

std::string FormatDateTime(int64_t seconds) { return FormatCivil(seconds, ""); }

Result<int64_t> ParseDateTime(std::string_view s) {
  if (StartsWithHex(s)) {
    ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 16));
    return static_cast<int64_t>(v);
  }
  return ParseIso(s, nullptr);
}

std::string FormatDateTimeExtended(int64_t micros) {
  const int64_t secs = FloorDiv(micros, 1000000);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(micros - secs * 1000000));
  return FormatCivil(secs, frac);
}

Result<int64_t> ParseDateTimeExtended(std::string_view s) {
  if (StartsWithHex(s)) {
    ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 16));
    return static_cast<int64_t>(v);
  }
  int64_t frac = 0;
  ASSIGN_OR_RETURN(int64_t secs, ParseIso(s, &frac));
  return secs * 1000000 + frac;
}

Result<Bytes> ParseHexBytes(std::string_view s) {
  if (StartsWithHex(s)) s.remove_prefix(2);
  auto r = HexDecode(s);
  if (!r.ok()) return r.status();
  Bytes out(r->begin(), r->end());
  return out;
}

std::string FormatTagHex(uint32_t tag) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%06X", tag);
  return buf;
}

Result<uint32_t> ParseTagHex(std::string_view s) {
  if (!StartsWithHex(s)) return InvalidArgumentError("bad tag " + Quote(s));
  ASSIGN_OR_RETURN(uint64_t v, ParseHexU64(s, 6));
  return static_cast<uint32_t>(v);
}

int MajorVersionOf(const Item& message) {
  for (uint32_t header_tag : {tag::kRequestHeader, tag::kResponseHeader}) {
    const Item* header = message.Find(header_tag);
    if (header == nullptr) continue;
    const Item* version = header->Find(tag::kProtocolVersion);
    if (version == nullptr) continue;
    const Item* major = version->Find(tag::kProtocolVersionMajor);
    if (major != nullptr && major->type() == ItemType::kInteger && !major->is_placeholder()) {
      return major->int_value() == 1 ? 1 : 2;
    }
  }
  return 2;
}

}  // namespace vmcrypt::ttlv::text
