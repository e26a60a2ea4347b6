// The SQLite ObjectStore: the single-node default.
//
// One database file (plus its -wal and -shm files, created 0600) in WAL mode:
// a write is on disk (fdatasync of the WAL) before its call returns.
// Writes from every thread go to one writer thread that commits all pending
// writes in one transaction (group commit), so N concurrent writers cost
// about one flush, not N; a second thread flushes the WAL while the writer
// adds the writes that arrive meanwhile to the next transaction, which it
// commits once the flush is done. Reads use a pool of separate connections and
// never wait for the writer (WAL readers see the last committed state, which
// may be a write whose caller is still waiting for its flush).
#ifndef VMCRYPT_STORE_SQLITE_STORE_H_
#define VMCRYPT_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/store/object_store.h"

namespace vmcrypt::store {

struct SqliteOptions {
  // How long a connection waits for a lock held by another process.
  int busy_timeout_ms = 5000;
  // Group commit: at most this many writes per transaction.
  int max_batch = 256;
  // Idle read connections kept open (more are opened on demand and closed).
  int max_idle_readers = 8;
  // Object rows kept in memory for Get / GetWithoutIndex while the database
  // is unchanged (src/store/sqlite/read_cache.h: any commit, by any process,
  // empties it); 0 turns the cache off.
  int read_cache_rows = 65536;
};

// The schema version this build writes and reads (PRAGMA user_version).
inline constexpr int kSqliteSchemaVersion = 3;

// Opens (creating if missing) the store at `path`. Errors: DataLoss if the
// file is not an SQLite database or is corrupt; FailedPrecondition if it is
// another application's database or has a newer schema version than this
// build understands; Unavailable/Internal for I/O and lock failures.
// The returned store's destructor completes every pending write, then
// closes the database.
Result<std::unique_ptr<ObjectStore>> OpenSqliteStore(const std::string& path,
                                                     const SqliteOptions& options = {});

}  // namespace vmcrypt::store

#endif  // VMCRYPT_STORE_SQLITE_STORE_H_
