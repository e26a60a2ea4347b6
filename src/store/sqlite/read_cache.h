// A cache of object rows in front of the SQLite reader connections, valid
// for exactly one state of the database, which it detects without a read
// transaction, across processes.
//
// The state is the WAL-index header in the database's "-shm" file, which
// every connection of every process updates when it commits (iChange is
// "incremented with each transaction"; mxFrame, the salts and checksums move
// too: https://sqlite.org/walformat.html, "The WAL-Index Header"). The cache
// maps that file read-only and remembers the header it was filled under:
// while the header is unchanged, no transaction has committed anywhere, so
// a cached row is exactly what SQLite would return. Any commit (ours or
// another process's), and any WAL restart, empties the cache on the next
// lookup. A write acknowledged to a client has already updated the header
// (SQLite writes it before COMMIT returns), so a read that follows it never
// sees the old row.
//
// Rows go in only when the header was the same before and after they were
// read from SQLite and equals the cache's own. If the header cannot be read
// (no "-shm" file, an unknown WAL-index version), the cache stays off and
// every read goes to SQLite.
//
// Thread-safety: all methods may be called concurrently.
#ifndef VMCRYPT_SRC_STORE_SQLITE_READ_CACHE_H_
#define VMCRYPT_SRC_STORE_SQLITE_READ_CACHE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "vmcrypt/store/records.h"

namespace vmcrypt::store::sqlite {

class ReadCache {
 public:
  // One consistent copy of the WAL-index header (48 bytes, native order).
  using Header = std::array<uint8_t, 48>;

  // Maps `db_path` + "-shm" (which the writer connection has created by
  // putting the database in WAL mode). `capacity`: rows kept at most; a
  // full cache is emptied and refilled. A cache that cannot map the file is
  // disabled (enabled() is false), not an error.
  ReadCache(const std::string& db_path, size_t capacity);
  ~ReadCache();
  ReadCache(const ReadCache&) = delete;
  ReadCache& operator=(const ReadCache&) = delete;

  bool enabled() const { return shm_ != nullptr; }

  // The current header, or nullopt while a commit is rewriting it (or the
  // cache is disabled).
  std::optional<Header> CurrentHeader() const;

  // The row cached for (tenant, uid, with_index), if the database has not
  // changed since it was cached.
  std::optional<ObjectRecord> Find(std::string_view tenant, std::string_view uid, bool with_index);
  // Keeps `record`, read from SQLite between CurrentHeader() calls that both
  // returned `before` (the caller checks `after`).
  void Put(const Header& before, const Header& after, bool with_index, const ObjectRecord& record);

  // Hits and misses so far (for tests and monitoring).
  int64_t hits() const;
  int64_t misses() const;

 private:
  static std::string Key(std::string_view tenant, std::string_view uid, bool with_index);

  const size_t capacity_;
  const uint8_t* shm_ = nullptr;  // read-only MAP_SHARED view of "-shm"
  size_t mapped_ = 0;

  // Lookups share the lock; filling and emptying take it alone.
  mutable std::shared_mutex mu_;
  Header header_{};  // the state the rows below belong to; guarded by mu_
  bool have_header_ = false;
  std::unordered_map<std::string, std::shared_ptr<const ObjectRecord>> rows_;  // guarded by mu_
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
};

}  // namespace vmcrypt::store::sqlite

#endif  // VMCRYPT_SRC_STORE_SQLITE_READ_CACHE_H_
