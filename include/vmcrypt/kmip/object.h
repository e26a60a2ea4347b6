// KMIP managed objects (KMIP 1.4 §2.2, 2.1 §2.2) and the Key Block that holds
// key material (1.4 §2.1.3, 2.1 §2.1.3).
//
// Key material lives in SecretBytes (zeroised on free) when it is a byte
// string, and in a ttlv::Item (whose bytes are zeroised too) when it is a
// Transparent structure.
#ifndef VMCRYPT_KMIP_OBJECT_H_
#define VMCRYPT_KMIP_OBJECT_H_

#include <optional>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/attribute.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip {

struct KeyBlock {
  uint32_t key_format_type = static_cast<uint32_t>(KeyFormatType::kRaw);
  std::optional<uint32_t> key_compression_type;
  // Key Value. Exactly one of: byte-string Key Material (Raw, Opaque, PKCS#1,
  // PKCS#8, X.509, EC Private Key formats); a Key Material structure
  // (Transparent formats); or, for a wrapped key, the whole Key Value as a
  // Byte String (1.4 §2.1.4: "Key Value ... Byte String if wrapped").
  SecretBytes key_material;
  std::optional<ttlv::Item> key_material_structure;
  std::optional<SecretBytes> wrapped_key_value;
  AttributeList key_value_attributes;  // 1.x Attribute*, 2.x an Attributes structure
  std::optional<uint32_t> cryptographic_algorithm;
  std::optional<int32_t> cryptographic_length;
  std::optional<ttlv::Item> key_wrapping_data;

  KeyBlock Clone() const;
};

struct ManagedObject {
  ObjectType type = ObjectType::kSymmetricKey;
  // Fields before the Key Block of Split Key / PGP Key, and the type fields
  // of Secret Data, Opaque Object, Certificate and Certificate Request, kept
  // in wire order.
  std::vector<ttlv::Item> fields;
  std::optional<KeyBlock> key_block;  // keys, split keys, secret data, PGP keys
  // Opaque Data Value, Certificate Value, Certificate Request Value.
  SecretBytes value;

  ManagedObject Clone() const;

  // A Raw AES (or other symmetric) key of `key` bytes.
  static ManagedObject SymmetricKey(uint32_t algorithm, const SecretBytes& key);
};

// The tag that carries an object of `type` (Symmetric Key, Certificate, ...).
uint32_t ObjectTag(ObjectType type);
// The object type for an object tag, or nullopt.
std::optional<ObjectType> ObjectTypeForTag(uint32_t tag);

Result<ttlv::Item> EncodeKeyBlock(const KeyBlock& block, ProtocolVersion v);
Result<KeyBlock> DecodeKeyBlock(const ttlv::Item& item);
Result<ttlv::Item> EncodeObject(const ManagedObject& object, ProtocolVersion v);
Result<ManagedObject> DecodeObject(const ttlv::Item& item);

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_OBJECT_H_
