// CenterStore: the control plane's state (inventory, providers, users, tasks,
// events) as JSON documents in named collections, in the style of the KMS's
// ObjectStore: an interface with an embedded SQLite implementation (WAL,
// synchronous=FULL); PostgreSQL comes later behind the same interface.
//
// Documents hold names, ids, certificates and sealed blobs only: the caller
// never puts key bytes in clear here (a test scans the database for them).
//
// Collections used by center: "users", "roles", "clusters", "hosts", "vms",
// "providers", "tasks", "alarms", "settings". Events are a separate
// append-only log numbered from 1.
//
// Thread-safety: every method may be called from any thread.
#ifndef VMCRYPT_CENTER_STORE_H_
#define VMCRYPT_CENTER_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/status.h"

namespace vmcrypt::center {

using Json = nlohmann::json;

class CenterStore {
 public:
  virtual ~CenterStore() = default;

  // Adds a document; AlreadyExists "<collection> <id> already exists".
  virtual Status Insert(std::string_view collection, std::string_view id, const Json& doc) = 0;
  // Adds or replaces a document.
  virtual Status Put(std::string_view collection, std::string_view id, const Json& doc) = 0;
  // NotFound "no <collection> <id>" (e.g. "no vms vm1").
  virtual Result<Json> Get(std::string_view collection, std::string_view id) = 0;
  // Every document of a collection, ordered by id.
  virtual Result<std::vector<Json>> List(std::string_view collection) = 0;
  // NotFound if absent.
  virtual Status Delete(std::string_view collection, std::string_view id) = 0;
  // Reads, lets `change` modify, writes back, in one transaction (no other
  // Update of the same store interleaves). If `change` fails nothing is
  // written and its Status is returned. NotFound if absent. `change` runs
  // under the store's lock: it must not call the store (it would deadlock).
  virtual Result<Json> Update(std::string_view collection, std::string_view id,
                              const std::function<Status(Json&)>& change) = 0;

  // Appends an event; returns its number (1, 2, ...), also set as "id".
  virtual Result<int64_t> AppendEvent(Json event) = 0;
  // Events with a number > `after`, oldest first, at most `limit`.
  virtual Result<std::vector<Json>> ListEvents(int64_t after, size_t limit) = 0;
  // The newest `limit` events, oldest first.
  virtual Result<std::vector<Json>> ListRecentEvents(size_t limit) = 0;

  // The database files (for scans in tests and for backups).
  virtual std::vector<std::string> Files() const = 0;
};

// Opens (creating if needed) a SQLite database at `path` in WAL mode with
// synchronous=FULL. The file is created with mode 0600.
Result<std::unique_ptr<CenterStore>> OpenSqliteCenterStore(const std::string& path);

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_STORE_H_
