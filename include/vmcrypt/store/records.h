// The records the key server persists, as the store sees them.
//
// The store knows nothing of KMIP: an ObjectRecord is an opaque blob of
// serialized attributes plus the few columns the store itself needs (tenant,
// ordering, optimistic concurrency) and a list of IndexEntry values that
// Locate can match. The KMS engine decides what goes into the index (for
// example {"Name", text "vm-key-1"}, {"State", number 2},
// {"Initial Date", number 1700000000}, {"x-Vendor", text "VMware, Inc."}).
//
// Thread-safety: plain values.
#ifndef VMCRYPT_STORE_RECORDS_H_
#define VMCRYPT_STORE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmcrypt::store {

// A value the Locate index can match: a number (enumerations, integers,
// dates as seconds since the epoch) or text/bytes (compared bytewise).
// Exactly one is meaningful: when `number` is set, `text` must be empty.
// Numbers only ever match numbers and text only text.
struct IndexValue {
  std::optional<int64_t> number;
  std::string text;

  static IndexValue Number(int64_t n) { return IndexValue{n, {}}; }
  static IndexValue Text(std::string t) { return IndexValue{std::nullopt, std::move(t)}; }
  friend bool operator==(const IndexValue&, const IndexValue&) = default;
};

// One searchable (name, value) pair of an object. A name may appear several
// times in one object (multi-valued attributes such as Name).
struct IndexEntry {
  std::string name;
  IndexValue value;
  // A value that many objects have in common (an enumeration, a flag, a key
  // length): the store may keep such entries once per distinct combination
  // (a profile) instead of once per object, so that a new object writes one
  // index entry for all of them. Locate matches both kinds alike; an object
  // reads back with the flags it was stored with.
  bool shared = false;
  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

// A managed object as stored. Key material is stored only already wrapped by
// the caller (under the root key version `root_key_version`).
struct ObjectRecord {
  std::string uid;     // unique per store (across tenants); not empty
  std::string tenant;  // objects are only visible within their tenant; fixed at insert
  uint32_t object_type = 0;
  uint32_t state = 0;
  // Seconds since the epoch. Locate results are ordered newest first by
  // (created, insertion order).
  int64_t created = 0;
  uint32_t root_key_version = 0;
  // Wrapped key material; empty when there is none (destroyed objects keep
  // their metadata).
  std::vector<uint8_t> wrapped_material;
  // Opaque serialized attributes (the caller's TTLV).
  std::vector<uint8_t> attributes;
  // What Locate can match; replaced as a whole on Update. Order is kept.
  std::vector<IndexEntry> index;
  // Set by the store: 1 on insert, +1 per successful update. Ignored by
  // Insert; checked by Update.
  int64_t revision = 0;

  friend bool operator==(const ObjectRecord&, const ObjectRecord&) = default;
};

// One Locate condition on the index entries named `name`: some entry of that
// name must compare to `value` with `op` (kAtLeast: >=, kAtMost: <=).
struct Condition {
  enum Op { kEquals, kAtLeast, kAtMost };
  std::string name;
  Op op = kEquals;
  IndexValue value;
};

// A Locate query: objects of `tenant` satisfying every condition in `all_of`
// (several conditions on one name must all hold, each possibly by a different
// entry), newest first, skipping `offset` and returning at most `max_items`.
struct Query {
  std::string tenant;
  std::vector<Condition> all_of;
  std::optional<int32_t> max_items;  // >= 0; nullopt: no limit
  int32_t offset = 0;                // >= 0
};

// A registered KMIP client: the server authorizes TLS clients by the SHA-256
// fingerprint of their certificate (caller's canonical form, e.g. lower-case
// hex without separators; the store compares it bytewise).
struct ClientRecord {
  std::string name;  // unique
  std::string tenant;
  std::string subject;
  std::string sha256_fingerprint;  // unique
  std::string cert_pem;
  int64_t added = 0;  // seconds since the epoch

  friend bool operator==(const ClientRecord&, const ClientRecord&) = default;
};

}  // namespace vmcrypt::store

#endif  // VMCRYPT_STORE_RECORDS_H_
