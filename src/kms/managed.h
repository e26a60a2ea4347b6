// How the engine keeps a managed object in the ObjectStore: its attributes
// (as KMIP 1.x Attribute structures, TTLV-encoded), a Locate index derived
// from them, and its key material encoded as TTLV and wrapped by the root key
// with the object's identifier as associated data. Internal to kms.
#ifndef VMCRYPT_SRC_KMS_MANAGED_H_
#define VMCRYPT_SRC_KMS_MANAGED_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/attribute.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/object.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/store/object_store.h"

namespace vmcrypt::kms::internal {

// A KMIP failure: the Status code follows the reason, detail() carries it.
Status Fail(kmip::ResultReason reason, std::string message);
// The reason for any Status (its detail, or one derived from its code).
kmip::ResultReason ReasonOf(const Status& s);

struct Managed {
  store::ObjectRecord record;

  // The attributes. Copies of a Managed, and objects loaded while their
  // stored attributes are unchanged, share one decoded list (Load keeps a
  // cache of them); the first change through mutable_attributes() or the
  // methods below gives this Managed its own copy.
  const kmip::AttributeList& attributes() const;
  kmip::AttributeList& mutable_attributes();
  void set_attributes(kmip::AttributeList attributes);

  const kmip::Attribute* Find(std::string_view name) const;
  // All values of a multi-instance attribute, in index order.
  std::vector<const kmip::Attribute*> FindAll(std::string_view name) const;
  // Replaces every instance of attr.name by `attr` (single-instance set).
  void Set(kmip::Attribute attr);
  void Remove(std::string_view name);
  kmip::State state() const { return static_cast<kmip::State>(record.state); }
  void set_state(kmip::State s);

 private:
  friend Result<Managed> Load(store::ObjectStore&, std::string_view, std::string_view);
  std::shared_ptr<kmip::AttributeList> attributes_;  // null: none yet
};

// A new identifier: UUID version 7 text (time-ordered, 74 random bits).
std::string NewUid();

Result<Managed> Load(store::ObjectStore& store, std::string_view tenant, std::string_view uid);
// Inserts `m` (record.uid, tenant, type and created must be set) with
// `material` wrapped, when given, and its Key Format Type attribute set from
// the material's Key Block.
Status Insert(store::ObjectStore& store, RootKey& root_key, Managed& m,
              const kmip::ManagedObject* material);
// As Insert, for several objects stored together or not at all (a key pair).
Status InsertAll(store::ObjectStore& store, RootKey& root_key,
                 std::span<const std::pair<Managed*, const kmip::ManagedObject*>> objects);
// Inserts `m` as Insert does and writes `changed` back as Update does
// (attributes and state), both or neither: Re-key's replacement and the
// existing key's link to it. ConcurrentUpdateError when `changed` is stale.
Status InsertAndUpdate(store::ObjectStore& store, RootKey& root_key, Managed& m,
                       const kmip::ManagedObject* material, Managed& changed);
// Writes back attributes, state and (when `material` is given, or cleared
// with `clear_material`) the key material.
Status Update(store::ObjectStore& store, RootKey& root_key, Managed& m,
              const kmip::ManagedObject* material = nullptr, bool clear_material = false);
// The object's key material; Key Value Not Present once destroyed.
Result<kmip::ManagedObject> Material(RootKey& root_key, const Managed& m);

// The Digest attribute of an object's key material (KMIP 1.4 §3.17, 2.1
// §4.13): { Hashing Algorithm SHA-256, Digest Value, Key Format Type }, the
// SHA-256 of the Key Material bytes in the Key Format Type the object is
// held in (Raw for generated symmetric keys), or of the Opaque Data /
// Certificate Value. nullopt when the object has no such bytes (structured
// or wrapped key material), which the spec leaves to the server.
std::optional<kmip::Attribute> DigestOf(const kmip::ManagedObject& object);

// The Random Number Generator attribute (KMIP 1.4 §3.44, 2.1 §4.46) of keys
// this server generates, as RNG Parameters (1.4 §2.1.17): OpenSSL 3's
// default generator, a NIST SP 800-90A DRBG, CTR_DRBG with AES-256.
kmip::Attribute RandomNumberGeneratorAttribute();

// Link Types (KMIP 1.4 §9.1.3.2.20).
inline constexpr uint32_t kPublicKeyLink = 0x102;
inline constexpr uint32_t kPrivateKeyLink = 0x103;
inline constexpr uint32_t kDerivationBaseObjectLink = 0x104;
inline constexpr uint32_t kDerivedKeyLink = 0x105;
inline constexpr uint32_t kReplacementObjectLink = 0x106;
inline constexpr uint32_t kReplacedObjectLink = 0x107;

// A Link attribute (1.4 §3.35): `link_type` to the object `uid`.
kmip::Attribute LinkAttribute(uint32_t link_type, const std::string& uid);

// The Locate index entry for an attribute value: numbers for numeric types,
// text for text, NameValue for Name, hex of the TTLV for other structures.
store::IndexValue IndexValueOf(const ttlv::Item& value);

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_MANAGED_H_
