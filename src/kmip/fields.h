// Fields: strict, typed reading of a Structure's children for the KMIP
// message and payload decoders. Internal to the kmip component.
//
// Each Take* consumes the first unconsumed child with the tag and checks its
// type; Done() fails if any child was left unconsumed, so that a field the
// model does not know (or one sent twice) is an error, not silently dropped.
// Error messages name the structure and the field by their spec names:
// "Request Header: missing Protocol Version".
#ifndef VMCRYPT_SRC_KMIP_FIELDS_H_
#define VMCRYPT_SRC_KMIP_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip::internal {

// "Request Header" for a tag, or its hex value.
std::string TagLabel(uint32_t tag);

class Fields {
 public:
  // Fails later (in every call) if `s` is not a Structure.
  explicit Fields(const ttlv::Item& s);

  // Optional fields: nullopt when absent; an error when present with the
  // wrong type.
  Result<const ttlv::Item*> Optional(uint32_t tag);  // any type; nullptr if absent
  Result<std::optional<int32_t>> OptInt(uint32_t tag);
  Result<std::optional<int64_t>> OptLong(uint32_t tag);
  Result<std::optional<uint32_t>> OptEnum(uint32_t tag);
  Result<std::optional<bool>> OptBool(uint32_t tag);
  Result<std::optional<std::string>> OptText(uint32_t tag);
  Result<std::optional<ttlv::Bytes>> OptBytes(uint32_t tag);
  Result<std::optional<int64_t>> OptDateTime(uint32_t tag);
  Result<std::optional<uint32_t>> OptInterval(uint32_t tag);
  Result<std::optional<ttlv::Item>> OptStruct(uint32_t tag);

  // Required fields: an error naming the field when absent.
  Result<const ttlv::Item*> Required(uint32_t tag);
  Result<int32_t> Int(uint32_t tag);
  Result<uint32_t> Enum(uint32_t tag);
  Result<bool> Bool(uint32_t tag);
  Result<std::string> Text(uint32_t tag);
  Result<ttlv::Bytes> Bytes(uint32_t tag);
  Result<int64_t> DateTime(uint32_t tag);
  Result<ttlv::Item> Struct(uint32_t tag);

  // Every remaining child with `tag` (any type), in order.
  std::vector<const ttlv::Item*> All(uint32_t tag);
  Result<std::vector<uint32_t>> AllEnums(uint32_t tag);
  Result<std::vector<std::string>> AllTexts(uint32_t tag);

  // OK if every child was consumed.
  Status Done() const;

  // An error about this structure: "<Structure>: <what>".
  Status Error(const std::string& what) const;

 private:
  Result<const ttlv::Item*> Typed(uint32_t tag, ttlv::ItemType type, bool required);

  const ttlv::Item& s_;
  std::vector<bool> used_;
};

// Appends optional fields only when set.
void AddInt(ttlv::Item& s, uint32_t tag, const std::optional<int32_t>& v);
void AddEnum(ttlv::Item& s, uint32_t tag, const std::optional<uint32_t>& v);
void AddBool(ttlv::Item& s, uint32_t tag, const std::optional<bool>& v);
void AddText(ttlv::Item& s, uint32_t tag, const std::optional<std::string>& v);
void AddBytes(ttlv::Item& s, uint32_t tag, const std::optional<ttlv::Bytes>& v);
void AddDateTime(ttlv::Item& s, uint32_t tag, const std::optional<int64_t>& v);
void AddItem(ttlv::Item& s, const std::optional<ttlv::Item>& v);

// A Status for encoding a field that the protocol version lacks.
Status NotInVersion(const char* field, const char* version);

}  // namespace vmcrypt::kmip::internal

#endif  // VMCRYPT_SRC_KMIP_FIELDS_H_
