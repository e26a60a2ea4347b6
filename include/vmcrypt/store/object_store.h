// ObjectStore: the key server's persistence interface.
//
// Implementations: SQLite (sqlite_store.h, the single-node default);
// PostgreSQL later. The KMS engine takes an ObjectStore& in its constructor,
// so tests can hand it any implementation.
#ifndef VMCRYPT_STORE_OBJECT_STORE_H_
#define VMCRYPT_STORE_OBJECT_STORE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/store/records.h"

namespace vmcrypt::store {

// Counters for monitoring and tests. `transactions` < `writes` shows that
// group commit batched several writes into one durable commit.
struct StoreStats {
  int64_t writes = 0;        // write requests completed (OK or not)
  int64_t transactions = 0;  // write transactions committed or attempted
  int64_t largest_batch = 0;
  int64_t syncs = 0;              // flushes of the write-ahead log (SQLite store)
  int64_t checkpoints = 0;        // background checkpoint passes (SQLite store)
  int64_t cache_hits = 0;         // reads answered from memory (SQLite store)
  int64_t cache_misses = 0;       // reads that went to the database
  int64_t client_cache_hits = 0;  // clients found by fingerprint from memory
};

// The error Update returns when the stored revision differs from the
// caller's (someone else updated the object since it was read). The caller
// should re-read and retry. (Base has no ABORTED code; this is a
// FailedPrecondition whose message starts with "concurrent update".)
Status ConcurrentUpdateError(std::string_view uid);
bool IsConcurrentUpdate(const Status& status);

// Persistent storage of managed objects and registered clients.
//
// Thread-safety: every method may be called concurrently from many threads.
// Errors never contain record contents (attributes, key material, PEMs).
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores a new object with revision 1. Durable when it returns OK.
  // AlreadyExists if the uid is taken (in any tenant); InvalidArgument for
  // an empty uid or a malformed index entry.
  virtual Status Insert(const ObjectRecord& record) = 0;

  // Stores every record of `records` or none of them, in one durable
  // transaction (a key pair: never a private key without its public half).
  // Errors as for Insert, for the first record that fails.
  Status InsertAll(std::span<const ObjectRecord> records) { return InsertAndUpdate(records, {}); }

  // Inserts every record of `inserts` and applies every update of `updates`
  // (each optimistic, as Update), or does none of it, in one durable
  // transaction: a replacement key never exists without the link from the
  // key it replaces (Re-key). Errors as for Insert and Update, for the first
  // that fails; a ConcurrentUpdateError leaves nothing written.
  virtual Status InsertAndUpdate(std::span<const ObjectRecord> inserts,
                                 std::span<const ObjectRecord> updates) = 0;

  // The object `uid` of `tenant`. NotFound when it does not exist or belongs
  // to another tenant (no existence oracle across tenants).
  virtual Result<ObjectRecord> Get(std::string_view tenant, std::string_view uid) = 0;

  // As Get, but leaves record.index empty: for callers that rebuild the
  // index from the attributes before any Update (one read instead of two).
  virtual Result<ObjectRecord> GetWithoutIndex(std::string_view tenant, std::string_view uid) = 0;

  // Replaces every field of the stored object (uid, tenant) except tenant
  // and revision, including the whole index. Optimistic: `record.revision`
  // must equal the stored revision, else ConcurrentUpdateError. On OK the
  // stored revision is record.revision + 1, durably. NotFound as for Get.
  virtual Status Update(const ObjectRecord& record) = 0;

  // The uids of the objects matching `query`, newest first (created, then
  // insertion order). Equality and range conditions are index lookups.
  // InvalidArgument for a negative max_items/offset or a malformed value.
  virtual Result<std::vector<std::string>> Locate(const Query& query) = 0;

  // Number of objects of `tenant`.
  virtual Result<int64_t> Count(std::string_view tenant) = 0;

  // Registers a client. Durable when OK. AlreadyExists if the name or the
  // fingerprint is taken; InvalidArgument for an empty name or fingerprint.
  virtual Status PutClient(const ClientRecord& client) = 0;
  // Every registered client, ordered by name.
  virtual Result<std::vector<ClientRecord>> ListClients() = 0;
  // NotFound if no client has that fingerprint.
  virtual Result<ClientRecord> FindClientByFingerprint(std::string_view sha256_fingerprint) = 0;
  // Unregisters a client, durably. NotFound if there is no such client.
  virtual Status RemoveClient(std::string_view name) = 0;

  // Monitoring counters; implementations without them return zeros.
  virtual StoreStats stats() const { return {}; }
};

}  // namespace vmcrypt::store

#endif  // VMCRYPT_STORE_OBJECT_STORE_H_
