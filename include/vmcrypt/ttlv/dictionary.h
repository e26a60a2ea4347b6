// The KMIP tag, enumeration and bit-mask dictionaries of KMIP 1.0-2.1.
//
// Generated from the specifications' tables (KMIP 1.4 §9.1.3, KMIP 2.1 §11) by
// scripts/gen_kmip_dictionary.py into src/ttlv/kmip_spec_tables.inc. Names are
// "normalized" as the XML and JSON encodings use them: "Symmetric Key" becomes
// "SymmetricKey", "SHA-256" becomes "SHA_256".
//
// A dictionary entry records whether it appears in the KMIP 1.4 table
// (covering 1.0-1.4) and in the 2.1 table (covering 2.0-2.1). Where a name
// changed between the two, lookups by name accept both and lookups by value
// return the name of the requested major version.
//
// All functions are thread-safe (the tables are immutable).
#ifndef VMCRYPT_TTLV_DICTIONARY_H_
#define VMCRYPT_TTLV_DICTIONARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vmcrypt::ttlv::dict {

// Bits of the `versions` field.
inline constexpr uint8_t kInV1 = 1;  // listed in the KMIP 1.4 specification
inline constexpr uint8_t kInV2 = 2;  // listed in the KMIP 2.1 specification

// The id of the pseudo-enumeration whose values are the tags themselves
// (KMIP 2.1 §11.56; used by Attribute Reference).
inline constexpr std::string_view kTagEnumeration = "Tag";

struct TagInfo {
  uint32_t tag;
  std::string_view name;       // normalized, e.g. "ActivationDate"
  std::string_view spec_name;  // e.g. "Activation Date"
  uint8_t versions;
};

// Looks a tag up by value.
const TagInfo* FindTag(uint32_t tag);
// Looks a tag up by normalized name (current or former name).
const TagInfo* FindTagByName(std::string_view name);
// Looks a tag up by its spec name as used in KMIP 1.x Attribute Names, e.g.
// "Cryptographic Algorithm" (current or former name).
const TagInfo* FindTagBySpecName(std::string_view spec_name);
// The normalized name for `tag` in protocol major version `major` (1 or 2);
// empty if unknown.
std::string_view TagName(uint32_t tag, int major = 2);
// The spec name, e.g. "Cryptographic Usage Mask"; empty if unknown.
std::string_view TagSpecName(uint32_t tag, int major = 2);

// The enumeration id used by an Enumeration-typed tag, e.g. "ObjectType" for
// the Object Type tag, kTagEnumeration for Attribute Reference; empty if none.
std::string_view EnumerationForTag(uint32_t tag);
// The bit-mask id used by an Integer-typed tag, e.g. "CryptographicUsageMask".
std::string_view MaskForTag(uint32_t tag);

// Enumeration value by normalized name (current or former), within `enum_id`.
std::optional<uint32_t> EnumValue(std::string_view enum_id, std::string_view name);
// Normalized name of an enumeration value; empty if unknown.
std::string_view EnumName(std::string_view enum_id, uint32_t value, int major = 2);
// Spec name of an enumeration value, e.g. "Symmetric Key"; empty if unknown.
std::string_view EnumSpecName(std::string_view enum_id, uint32_t value);

// Bit of a mask value by normalized name.
std::optional<uint32_t> MaskBit(std::string_view mask_id, std::string_view name);
// Normalized name of a single mask bit; empty if unknown.
std::string_view MaskBitName(std::string_view mask_id, uint32_t bit);

// Counts, for tests and diagnostics.
size_t TagCount();
size_t EnumValueCount();

// The KMIP name normalization used by the XML and JSON encodings.
std::string NormalizeName(std::string_view spec_name);

}  // namespace vmcrypt::ttlv::dict

#endif  // VMCRYPT_TTLV_DICTIONARY_H_
