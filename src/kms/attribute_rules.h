// The server-managed attributes of KMIP 1.4 §3 / 2.1 §4 that follow from
// other attributes or from what happens to an object, which protocol
// versions know which attribute, and the order Get Attribute List reports
// them in. Internal to kms; used by the Ops handlers.
#ifndef VMCRYPT_SRC_KMS_ATTRIBUTE_RULES_H_
#define VMCRYPT_SRC_KMS_ATTRIBUTE_RULES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/kms/managed.h"
#include "vmcrypt/kmip/enums.h"

namespace vmcrypt::kms::internal {

// The Lease Time (1.4 §3.20, 2.1 §4.30) this server stores on every
// cryptographic object: the longest lease it serves, one hour (the value the
// OASIS reference server reports). Obtain Lease is not implemented; clients
// read the attribute only. docs/kms.md.
inline constexpr uint32_t kLeaseTimeSeconds = 3600;

// Sets the attributes the server manages on a new object `m` (type and
// Initial Date already set, `now` its creation time):
// * Sensitive (1.4 §3.48) False and Extractable (§3.50) True unless the
//   client gave them; Always Sensitive (§3.49) = Sensitive and Never
//   Extractable (§3.51) = !Extractable;
// * Short Unique Identifier (2.1 §4.56): SHA-256 of the Unique Identifier;
// * Protection Storage Mask (2.1 §4.44): Software, where the server keeps
//   every object (wrapped by the root key in its database);
// * on cryptographic objects (not Opaque Objects): Fresh (§3.34) True and
//   Lease Time (§3.20) kLeaseTimeSeconds;
// * when the server `generated` the key material (Create, Create Key Pair,
//   Derive Key; §3.43): Original Creation Date = the Initial Date. A
//   registered object keeps the one its client gave, if any.
void SetServerManagedAttributes(Managed& m, int64_t now, bool generated);

// After a client changed Sensitive or Extractable: Always Sensitive becomes
// False once Sensitive has been False (1.4 §3.49), Never Extractable False
// once Extractable has been True (§3.51); neither ever turns back to True.
void TrackSensitivity(Managed& m);

// Invalid Field unless a client-given Sensitive or Extractable is a Boolean.
Status CheckFlagValue(const kmip::Attribute& a);

// Permission Denied for attributes a client may not delete (1.4 §3 rules,
// "Deletable by client: No", among those a client may otherwise set):
// Sensitive, Extractable, Original Creation Date.
Status CheckClientDeletable(std::string_view name);
// Permission Denied for Original Creation Date, which is set once (by the
// server, or by the client at Register or with Add Attribute) and "SHALL NOT
// be deleted or updated" (1.4 §3.43).
Status CheckClientModifiable(std::string_view name);

// Whether the Get of `m`'s key material may proceed: Not Extractable when
// Extractable is False (1.4 §3.50, §11 Get: "Object is not Extractable"),
// Sensitive when Sensitive is True and the key would leave unwrapped (§3.48:
// only a wrapped value may leave; `wrapped` when the Get has a Key Wrapping
// Specification). Versions before 1.4 have
// neither reason (1.4 §9.1.3.2.29): Permission Denied there.
Status CheckGettable(const Managed& m, kmip::ProtocolVersion v, bool wrapped = false);

// Whether `name` is an attribute of protocol version `v`: the 1.x
// attributes by the minor version that introduced them (1.1: Fresh,
// Certificate Length, X.509 Certificate Identifier / Subject / Issuer,
// Digital Signature Algorithm; 1.2: Alternative Name, Key Value Present /
// Location, Original Creation Date; 1.3: Random Number Generator; 1.4:
// PKCS#12 Friendly Name, Description, Comment, Sensitive, Always Sensitive,
// Extractable, Never Extractable), Key Format Type an attribute in 2.x only
// (2.1 §4.26; a Key Block field in 1.x), others by the tag dictionary.
// Custom attributes exist in all versions.
bool AttributeInVersion(std::string_view name, kmip::ProtocolVersion v);

// Sorts attribute names into the order Get Attribute List and Get
// Attributes without names report (the OASIS reference server's, which
// SKFF-M-9..12 and SKLC-O-1 expect in 1.4 and 2.1): first the identity of
// the object, Unique Identifier, Short Unique Identifier, Object Type,
// Cryptographic Algorithm, Cryptographic Length; then every other standard
// attribute alphabetically by spec name, with Key Format Type right after
// Digest (whose structure carries a Key Format Type in 1.x); then custom
// attributes alphabetically. (The OASIS cases the server passed before ask
// for attributes by name only, which keep the request's order.)
void SortForListing(std::vector<std::string>& names);

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_ATTRIBUTE_RULES_H_
