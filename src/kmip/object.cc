// KMIP managed objects and the Key Block (KMIP 1.4 §2.1.3-§2.1.4, §2.2; KMIP
// 2.1 §2, §3.1-§3.2).
#include "vmcrypt/kmip/object.h"

#include "src/kmip/fields.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using internal::Fields;
using ttlv::Item;
using ttlv::ItemType;
namespace tag = ttlv::tag;

// One field of an object structure ahead of (or instead of) its Key Block or
// value.
struct FieldSpec {
  uint32_t tag;
  ItemType type;
  bool required;
};

// The leading fields of each object type, in wire order (KMIP 1.4 Tables
// 45-53; 2.1 Tables 2-10).
std::vector<FieldSpec> LeadingFields(ObjectType type) {
  switch (type) {
    case ObjectType::kCertificate:
      return {{tag::kCertificateType, ItemType::kEnumeration, true}};
    case ObjectType::kCertificateRequest:
      return {{tag::kCertificateRequestType, ItemType::kEnumeration, true}};
    case ObjectType::kOpaqueObject:
      return {{tag::kOpaqueDataType, ItemType::kEnumeration, true}};
    case ObjectType::kSecretData:
      return {{tag::kSecretDataType, ItemType::kEnumeration, true}};
    case ObjectType::kPgpKey:
      return {{tag::kPgpKeyVersion, ItemType::kInteger, true}};
    case ObjectType::kSplitKey:
      return {{tag::kSplitKeyParts, ItemType::kInteger, true},
              {tag::kKeyPartIdentifier, ItemType::kInteger, true},
              {tag::kSplitKeyThreshold, ItemType::kInteger, true},
              {tag::kSplitKeyMethod, ItemType::kEnumeration, true},
              // Required only for Polynomial Sharing Prime Field (1.4 §2.2.5).
              {tag::kPrimeFieldSize, ItemType::kBigInteger, false}};
    default:
      return {};
  }
}

// The tag of the byte-string value of objects without a Key Block, or 0.
uint32_t ValueTag(ObjectType type) {
  switch (type) {
    case ObjectType::kCertificate:
      return tag::kCertificateValue;
    case ObjectType::kCertificateRequest:
      return tag::kCertificateRequestValue;
    case ObjectType::kOpaqueObject:
      return tag::kOpaqueDataValue;
    default:
      return 0;
  }
}

// Checks `fields` against the schema of `type`: the same tags, types and
// order, no required field missing, nothing extra.
Status CheckLeadingFields(ObjectType type, const std::vector<Item>& fields) {
  const std::vector<FieldSpec> spec = LeadingFields(type);
  size_t i = 0;
  for (const FieldSpec& f : spec) {
    if (i < fields.size() && fields[i].tag() == f.tag) {
      if (fields[i].type() != f.type) {
        return InvalidArgumentError(internal::TagLabel(f.tag) + " is a " +
                                    std::string(ttlv::ItemTypeName(fields[i].type())) + ", not a " +
                                    std::string(ttlv::ItemTypeName(f.type)));
      }
      ++i;
      continue;
    }
    if (f.required) {
      return InvalidArgumentError(std::string(ObjectTypeName(type)) + ": missing " +
                                  internal::TagLabel(f.tag));
    }
  }
  if (i != fields.size()) {
    return InvalidArgumentError(std::string(ObjectTypeName(type)) + ": unexpected " +
                                internal::TagLabel(fields[i].tag()));
  }
  return OkStatus();
}

// Object types by the first version that has them (1.4 §2.2.9 PGP Key is
// 1.2; the Certificate Request object is 2.0, 2.1 §2.2).
Status CheckObjectVersion(ObjectType type, ProtocolVersion v) {
  if (type == ObjectType::kPgpKey && v < kKmip12) return internal::NotInVersion("PGP Key", "1.2");
  if (type == ObjectType::kCertificateRequest && !v.is_v2()) {
    return internal::NotInVersion("Certificate Request object", "2.0");
  }
  if (type == ObjectType::kTemplate) {
    return UnimplementedError("Template objects (KMIP 1.x) are not supported");
  }
  return OkStatus();
}

bool HasKeyValue(const KeyBlock& b) {
  return !b.key_material.empty() || b.key_material_structure.has_value() ||
         b.wrapped_key_value.has_value() || !b.key_value_attributes.empty();
}

Result<Item> EncodeKeyValue(const KeyBlock& b, ProtocolVersion v) {
  // 1.4 §2.1.4: a wrapped Key Value is a Byte String holding the wrapped
  // structure or key material.
  if (b.wrapped_key_value.has_value()) {
    if (!b.key_material.empty() || b.key_material_structure || !b.key_value_attributes.empty()) {
      return InvalidArgumentError("Key Block: a wrapped Key Value has no plaintext fields");
    }
    if (!b.key_wrapping_data) {
      return InvalidArgumentError("Key Block: a wrapped Key Value needs Key Wrapping Data");
    }
    return Item::ByteString(tag::kKeyValue, b.wrapped_key_value->span());
  }
  if (b.key_material_structure && !b.key_material.empty()) {
    return InvalidArgumentError("Key Block: Key Material is either bytes or a structure");
  }
  Item kv = Item::Structure(tag::kKeyValue);
  if (b.key_material_structure) {
    kv.Add(b.key_material_structure->WithTag(tag::kKeyMaterial));
  } else {
    kv.Add(Item::ByteString(tag::kKeyMaterial, b.key_material.span()));
  }
  if (b.key_value_attributes.empty()) return kv;
  // 1.4 Table 8: Attribute*; 2.1 Table 13: an Attributes structure.
  if (!v.is_v2()) {
    for (const Attribute& a : b.key_value_attributes) kv.Add(EncodeAttribute1(a));
    return kv;
  }
  ASSIGN_OR_RETURN(Item attrs, EncodeAttributes(b.key_value_attributes, v, tag::kTemplateAttribute,
                                                tag::kAttributes));
  kv.Add(std::move(attrs));
  return kv;
}

Status DecodeKeyValue(const Item& kv, KeyBlock* b) {
  if (kv.type() == ItemType::kByteString) {
    if (!b->key_wrapping_data) {
      return InvalidArgumentError("Key Block: a Byte String Key Value without Key Wrapping Data");
    }
    b->wrapped_key_value = SecretBytes(std::span<const uint8_t>(kv.bytes()));
    return OkStatus();
  }
  if (!kv.is_structure()) return InvalidArgumentError("Key Value is neither a Structure nor bytes");
  Fields f(kv);
  ASSIGN_OR_RETURN(const Item* km, f.Required(tag::kKeyMaterial));
  if (km->type() == ItemType::kByteString) {
    b->key_material = SecretBytes(std::span<const uint8_t>(km->bytes()));
  } else if (km->is_structure()) {
    b->key_material_structure = *km;
  } else {
    return f.Error("Key Material is neither a Byte String nor a Structure");
  }
  for (const Item* a : f.All(tag::kAttribute)) {
    ASSIGN_OR_RETURN(Attribute attr, DecodeAttribute1(*a));
    b->key_value_attributes.push_back(std::move(attr));
  }
  ASSIGN_OR_RETURN(std::optional<Item> attrs, f.OptStruct(tag::kAttributes));
  if (attrs) {
    if (!b->key_value_attributes.empty()) return f.Error("both Attribute and Attributes");
    ASSIGN_OR_RETURN(b->key_value_attributes, DecodeAttributes(*attrs));
  }
  return f.Done();
}

}  // namespace

KeyBlock KeyBlock::Clone() const {
  KeyBlock b;
  b.key_format_type = key_format_type;
  b.key_compression_type = key_compression_type;
  b.key_material = key_material.Clone();
  b.key_material_structure = key_material_structure;
  if (wrapped_key_value) b.wrapped_key_value = wrapped_key_value->Clone();
  b.key_value_attributes = key_value_attributes;
  b.cryptographic_algorithm = cryptographic_algorithm;
  b.cryptographic_length = cryptographic_length;
  b.key_wrapping_data = key_wrapping_data;
  return b;
}

ManagedObject ManagedObject::Clone() const {
  ManagedObject o;
  o.type = type;
  o.fields = fields;
  if (key_block) o.key_block = key_block->Clone();
  o.value = value.Clone();
  return o;
}

ManagedObject ManagedObject::SymmetricKey(uint32_t algorithm, const SecretBytes& key) {
  ManagedObject o;
  o.type = ObjectType::kSymmetricKey;
  KeyBlock b;
  b.key_format_type = static_cast<uint32_t>(KeyFormatType::kRaw);
  b.key_material = key.Clone();
  b.cryptographic_algorithm = algorithm;
  b.cryptographic_length = static_cast<int32_t>(key.size() * 8);
  o.key_block = std::move(b);
  return o;
}

uint32_t ObjectTag(ObjectType type) {
  switch (type) {
    case ObjectType::kCertificate:
      return tag::kCertificate;
    case ObjectType::kSymmetricKey:
      return tag::kSymmetricKey;
    case ObjectType::kPublicKey:
      return tag::kPublicKey;
    case ObjectType::kPrivateKey:
      return tag::kPrivateKey;
    case ObjectType::kSplitKey:
      return tag::kSplitKey;
    case ObjectType::kTemplate:
      return tag::kTemplate;
    case ObjectType::kSecretData:
      return tag::kSecretData;
    case ObjectType::kOpaqueObject:
      return tag::kOpaqueObject;
    case ObjectType::kPgpKey:
      return tag::kPgpKey;
    case ObjectType::kCertificateRequest:
      return tag::kCertificateRequest;
    default:
      return 0;
  }
}

std::optional<ObjectType> ObjectTypeForTag(uint32_t t) {
  for (uint32_t v = 1; v <= static_cast<uint32_t>(ObjectType::kCertificateRequest); ++v) {
    if (ObjectTag(static_cast<ObjectType>(v)) == t) return static_cast<ObjectType>(v);
  }
  return std::nullopt;
}

Result<Item> EncodeKeyBlock(const KeyBlock& b, ProtocolVersion v) {
  // Field order of 1.4 Table 7 / 2.1 Table 12.
  Item s = Item::Structure(tag::kKeyBlock);
  s.Add(Item::Enumeration(tag::kKeyFormatType, b.key_format_type));
  internal::AddEnum(s, tag::kKeyCompressionType, b.key_compression_type);
  // An absent Key Value (all of its fields empty) is allowed, e.g. when the
  // server returns only the metadata of a key.
  if (HasKeyValue(b)) {
    ASSIGN_OR_RETURN(Item kv, EncodeKeyValue(b, v));
    s.Add(std::move(kv));
  }
  internal::AddEnum(s, tag::kCryptographicAlgorithm, b.cryptographic_algorithm);
  internal::AddInt(s, tag::kCryptographicLength, b.cryptographic_length);
  if (b.key_wrapping_data) s.Add(b.key_wrapping_data->WithTag(tag::kKeyWrappingData));
  return s;
}

Result<KeyBlock> DecodeKeyBlock(const Item& item) {
  if (item.tag() != tag::kKeyBlock) return InvalidArgumentError("not a Key Block");
  Fields f(item);
  KeyBlock b;
  ASSIGN_OR_RETURN(b.key_format_type, f.Enum(tag::kKeyFormatType));
  ASSIGN_OR_RETURN(b.key_compression_type, f.OptEnum(tag::kKeyCompressionType));
  ASSIGN_OR_RETURN(const Item* kv, f.Optional(tag::kKeyValue));
  ASSIGN_OR_RETURN(b.cryptographic_algorithm, f.OptEnum(tag::kCryptographicAlgorithm));
  ASSIGN_OR_RETURN(b.cryptographic_length, f.OptInt(tag::kCryptographicLength));
  ASSIGN_OR_RETURN(b.key_wrapping_data, f.OptStruct(tag::kKeyWrappingData));
  RETURN_IF_ERROR(f.Done());
  if (kv != nullptr) RETURN_IF_ERROR(DecodeKeyValue(*kv, &b));
  return b;
}

Result<Item> EncodeObject(const ManagedObject& o, ProtocolVersion v) {
  RETURN_IF_ERROR(CheckObjectVersion(o.type, v));
  const uint32_t object_tag = ObjectTag(o.type);
  if (object_tag == 0) return InvalidArgumentError("unknown object type");
  RETURN_IF_ERROR(CheckLeadingFields(o.type, o.fields));
  Item s = Item::Structure(object_tag, o.fields);
  if (const uint32_t value_tag = ValueTag(o.type); value_tag != 0) {
    if (o.key_block) {
      return InvalidArgumentError(std::string(ObjectTypeName(o.type)) + " has no Key Block");
    }
    s.Add(Item::ByteString(value_tag, o.value.span()));
    return s;
  }
  if (!o.key_block) {
    return InvalidArgumentError(std::string(ObjectTypeName(o.type)) + ": missing Key Block");
  }
  if (!o.value.empty()) {
    return InvalidArgumentError(std::string(ObjectTypeName(o.type)) + " has no value field");
  }
  ASSIGN_OR_RETURN(Item block, EncodeKeyBlock(*o.key_block, v));
  s.Add(std::move(block));
  return s;
}

Result<ManagedObject> DecodeObject(const Item& item) {
  std::optional<ObjectType> type = ObjectTypeForTag(item.tag());
  if (!type) return InvalidArgumentError("not a managed object: " + internal::TagLabel(item.tag()));
  if (*type == ObjectType::kTemplate) {
    return UnimplementedError("Template objects (KMIP 1.x) are not supported");
  }
  ManagedObject o;
  o.type = *type;
  Fields f(item);
  for (const FieldSpec& spec : LeadingFields(o.type)) {
    ASSIGN_OR_RETURN(const Item* p, f.Optional(spec.tag));
    if (p == nullptr) {
      if (spec.required) return f.Error("missing " + internal::TagLabel(spec.tag));
      continue;
    }
    if (p->type() != spec.type)
      return f.Error(internal::TagLabel(spec.tag) + " has the wrong type");
    o.fields.push_back(*p);
  }
  if (const uint32_t value_tag = ValueTag(o.type); value_tag != 0) {
    ASSIGN_OR_RETURN(ttlv::Bytes value, f.Bytes(value_tag));
    o.value = SecretBytes(std::span<const uint8_t>(value));
  } else {
    ASSIGN_OR_RETURN(const Item* block, f.Required(tag::kKeyBlock));
    ASSIGN_OR_RETURN(o.key_block, DecodeKeyBlock(*block));
  }
  RETURN_IF_ERROR(f.Done());
  return o;
}

}  // namespace vmcrypt::kmip
