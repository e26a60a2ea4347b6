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
  // The WAL's length, in frames (a 4 KiB page and 24 bytes each), at which
  // the writer finishes a checkpoint itself so that the WAL file is reused
  // rather than grown (about 120 MiB). A background thread checkpoints from
  // 2,000 frames on, but under a steady stream of commits the WAL restarts
  // only after the writer's pass, during which every write waits. With
  // 10,000 frames that happened 31 times in a 10 s Create load (0.8 s in
  // all). With 30,000, in interleaved 10 s runs, Create's p99 went from
  // 14-19 ms to 9-14 ms and its p99.9 from 39-45 to 46-51 ms (rarer but
  // longer passes); throughput did not change beyond noise.
  int max_wal_frames = 30000;
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
