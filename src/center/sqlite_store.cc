// CenterStore on embedded SQLite: one connection guarded by one mutex (the
// control plane writes rarely), WAL with synchronous=FULL, and documents as
// JSON text. It reuses the KMS store's RAII wrappers (src/store/sqlite/
// connection.h: sqlite3* and a cache of sqlite3_stmt*).
//
// Schema version 1 (PRAGMA user_version; PRAGMA application_id "vmcc"):
//   documents(collection, id, body)  one JSON document per (collection, id)
//   events(id AUTOINCREMENT, body)   the append-only event log, ids never reused
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <string>
#include <utility>

#include "src/store/sqlite/connection.h"
#include "vmcrypt/center/store.h"

namespace vmcrypt::center {
namespace {

using store::sqlite::Connection;
using store::sqlite::Statement;

// "vmcc" (vmcrypt center), big-endian; distinct from the KMS store's "vmcs".
constexpr int32_t kCenterApplicationId = 0x766d6363;
constexpr int64_t kCenterSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kSchemaV1[] = {
    R"sql(CREATE TABLE documents(
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (collection, id)) WITHOUT ROWID)sql",
    R"sql(CREATE TABLE events(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL))sql",
};

std::string Name(std::string_view collection, std::string_view id) {
  std::string s(collection);
  s.push_back(' ');
  s.append(id);
  return s;
}

Status CheckKey(std::string_view collection, std::string_view id) {
  if (collection.empty() || id.empty()) {
    return InvalidArgumentError("center store: collection and id must not be empty");
  }
  return OkStatus();
}

// Serialises `doc`; nlohmann throws on strings that are not UTF-8, and no
// exception may leave the store.
Result<std::string> Serialize(const Json& doc, std::string_view what) {
  try {
    return doc.dump();
  } catch (const Json::exception&) {
    return InvalidArgumentError(std::string(what) + ": document holds text that is not UTF-8");
  }
}

Result<Json> Parse(const std::string& text, std::string_view what) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return DataLossError(std::string(what) + ": stored document is not valid JSON");
  }
  return doc;
}

// Rolls back an open transaction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) conn_.Exec("ROLLBACK", "rollback").IgnoreError();
  }

  // IMMEDIATE takes the write lock now (waiting up to the busy timeout for
  // another process), so that COMMIT cannot fail with SQLITE_BUSY later.
  Status Begin() {
    RETURN_IF_ERROR(conn_.Exec("BEGIN IMMEDIATE", "begin"));
    open_ = true;
    return OkStatus();
  }
  Status Commit() {
    RETURN_IF_ERROR(conn_.Exec("COMMIT", "commit"));
    open_ = false;
    return OkStatus();
  }

 private:
  Connection& conn_;
  bool open_ = false;
};

class SqliteCenterStore final : public CenterStore {
 public:
  SqliteCenterStore(std::unique_ptr<Connection> conn, std::string path)
      : conn_(std::move(conn)), path_(std::move(path)) {}

  Status Insert(std::string_view collection, std::string_view id, const Json& doc) override {
    RETURN_IF_ERROR(CheckKey(collection, id));
    const std::string what = "insert " + Name(collection, id);
    ASSIGN_OR_RETURN(std::string body, Serialize(doc, what));
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement stmt,
                     conn_->Prepare("INSERT INTO documents(collection, id, body) VALUES(?, ?, ?) "
                                    "ON CONFLICT DO NOTHING"));
    stmt.BindText(1, collection);
    stmt.BindText(2, id);
    stmt.BindText(3, body);
    RETURN_IF_ERROR(stmt.Run(what));
    if (sqlite3_changes(conn_->db()) == 0) {
      return AlreadyExistsError(Name(collection, id) + " already exists");
    }
    return OkStatus();
  }

  Status Put(std::string_view collection, std::string_view id, const Json& doc) override {
    RETURN_IF_ERROR(CheckKey(collection, id));
    const std::string what = "put " + Name(collection, id);
    ASSIGN_OR_RETURN(std::string body, Serialize(doc, what));
    std::lock_guard lock(mu_);
    return WriteLocked(collection, id, body, what);
  }

  Result<Json> Get(std::string_view collection, std::string_view id) override {
    RETURN_IF_ERROR(CheckKey(collection, id));
    std::lock_guard lock(mu_);
    return ReadLocked(collection, id);
  }

  Result<std::vector<Json>> List(std::string_view collection) override {
    const std::string what = "list " + std::string(collection);
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement stmt,
                     conn_->Prepare("SELECT id, body FROM documents WHERE collection = ? "
                                    "ORDER BY id"));
    stmt.BindText(1, collection);
    std::vector<Json> docs;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step(what));
      if (!row) break;
      ASSIGN_OR_RETURN(Json doc, Parse(stmt.ColumnText(1),
                                       "center store " + Name(collection, stmt.ColumnText(0))));
      docs.push_back(std::move(doc));
    }
    return docs;
  }

  Status Delete(std::string_view collection, std::string_view id) override {
    RETURN_IF_ERROR(CheckKey(collection, id));
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement stmt,
                     conn_->Prepare("DELETE FROM documents WHERE collection = ? AND id = ?"));
    stmt.BindText(1, collection);
    stmt.BindText(2, id);
    RETURN_IF_ERROR(stmt.Run("delete " + Name(collection, id)));
    if (sqlite3_changes(conn_->db()) == 0) return NotFoundError("no " + Name(collection, id));
    return OkStatus();
  }

  // `change` runs with the store's lock held: it must not call the store.
  Result<Json> Update(std::string_view collection, std::string_view id,
                      const std::function<Status(Json&)>& change) override {
    RETURN_IF_ERROR(CheckKey(collection, id));
    const std::string what = "update " + Name(collection, id);
    std::lock_guard lock(mu_);
    Transaction txn(*conn_);
    RETURN_IF_ERROR(txn.Begin());
    ASSIGN_OR_RETURN(Json doc, ReadLocked(collection, id));
    Status changed;
    try {
      changed = change(doc);
    } catch (const Json::exception& e) {
      // A callback that misreads the document (e.g. get<int>() on a string);
      // type errors name types only, never values.
      changed = InternalError(what + ": " + e.what());
    }
    if (!changed.ok()) return changed;  // txn rolls back; nothing was written
    ASSIGN_OR_RETURN(std::string body, Serialize(doc, what));
    RETURN_IF_ERROR(WriteLocked(collection, id, body, what));
    RETURN_IF_ERROR(txn.Commit());
    return doc;
  }

  Result<int64_t> AppendEvent(Json event) override {
    if (!event.is_object()) return InvalidArgumentError("an event must be a JSON object");
    // Checked before the row is written: the stored body has the same text
    // plus "id".
    RETURN_IF_ERROR(Serialize(event, "append event").status());
    std::lock_guard lock(mu_);
    Transaction txn(*conn_);
    RETURN_IF_ERROR(txn.Begin());
    {
      ASSIGN_OR_RETURN(Statement insert, conn_->Prepare("INSERT INTO events(body) VALUES('{}')"));
      RETURN_IF_ERROR(insert.Run("append event"));
    }
    const int64_t number = sqlite3_last_insert_rowid(conn_->db());
    event["id"] = number;
    ASSIGN_OR_RETURN(std::string body, Serialize(event, "append event"));
    {
      ASSIGN_OR_RETURN(Statement update, conn_->Prepare("UPDATE events SET body = ? WHERE id = ?"));
      update.BindText(1, body);
      update.BindInt(2, number);
      RETURN_IF_ERROR(update.Run("append event"));
    }
    RETURN_IF_ERROR(txn.Commit());
    return number;
  }

  Result<std::vector<Json>> ListEvents(int64_t after, size_t limit) override {
    return QueryEvents("SELECT id, body FROM events WHERE id > ? ORDER BY id LIMIT ?", after,
                       limit);
  }

  Result<std::vector<Json>> ListRecentEvents(size_t limit) override {
    ASSIGN_OR_RETURN(
        std::vector<Json> events,
        QueryEvents("SELECT id, body FROM events WHERE id > ? ORDER BY id DESC LIMIT ?", 0, limit));
    std::reverse(events.begin(), events.end());
    return events;
  }

  // Runs an events query with parameters (after, limit).
  Result<std::vector<Json>> QueryEvents(const char* sql, int64_t after, size_t limit) {
    std::vector<Json> events;
    if (limit == 0) return events;
    const int64_t max = static_cast<int64_t>(
        std::min<size_t>(limit, static_cast<size_t>(std::numeric_limits<int64_t>::max())));
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(Statement stmt, conn_->Prepare(sql));
    stmt.BindInt(1, after);
    stmt.BindInt(2, max);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step("list events"));
      if (!row) break;
      ASSIGN_OR_RETURN(
          Json event,
          Parse(stmt.ColumnText(1), "center store event " + std::to_string(stmt.ColumnInt(0))));
      events.push_back(std::move(event));
    }
    return events;
  }

  std::vector<std::string> Files() const override {
    return {path_, path_ + "-wal", path_ + "-shm"};
  }

 private:
  Result<Json> ReadLocked(std::string_view collection, std::string_view id) {
    const std::string name = Name(collection, id);
    ASSIGN_OR_RETURN(Statement stmt,
                     conn_->Prepare("SELECT body FROM documents WHERE collection = ? AND id = ?"));
    stmt.BindText(1, collection);
    stmt.BindText(2, id);
    ASSIGN_OR_RETURN(bool row, stmt.Step("get " + name));
    if (!row) return NotFoundError("no " + name);
    return Parse(stmt.ColumnText(0), "center store " + name);
  }

  Status WriteLocked(std::string_view collection, std::string_view id, const std::string& body,
                     const std::string& what) {
    ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("INSERT INTO documents(collection, id, body) VALUES(?, ?, ?) "
                       "ON CONFLICT(collection, id) DO UPDATE SET body = excluded.body"));
    stmt.BindText(1, collection);
    stmt.BindText(2, id);
    stmt.BindText(3, body);
    return stmt.Run(what);
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // guarded by mu_
  const std::string path_;
};

// Creates `path` with mode 0600 if it does not exist: SQLite gives the -wal
// and -shm files the main file's mode, and the store holds users' token
// hashes and sealed blobs that are nobody else's business.
Status CreatePrivateFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot create center store " + path);
  ::close(fd);
  return OkStatus();
}

Status PrepareConnection(Connection& conn, const std::string& path) {
  // The first statement that reads the file: a file that is not a database
  // fails here with SQLITE_NOTADB -> DataLoss.
  ASSIGN_OR_RETURN(std::string mode, conn.QueryText("PRAGMA journal_mode = WAL", "enable WAL"));
  if (mode != "wal") {
    return FailedPreconditionError("center store " + path + ": cannot enable WAL (journal mode " +
                                   mode + ")");
  }
  // FULL: in WAL mode the WAL is fsynced at every commit, so a commit that
  // returned survives power loss (https://sqlite.org/pragma.html#pragma_synchronous).
  RETURN_IF_ERROR(conn.Exec("PRAGMA synchronous = FULL", "set synchronous"));
  return store::sqlite::EnsureSchema(
      conn, path, {"center store", kCenterApplicationId, kCenterSchemaVersion, kSchemaV1});
}

}  // namespace

Result<std::unique_ptr<CenterStore>> OpenSqliteCenterStore(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return InvalidArgumentError("center store path must be a file name");
  }
  RETURN_IF_ERROR(CreatePrivateFile(path));
  auto conn = Connection::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kBusyTimeoutMs);
  if (!conn.ok()) return conn.status().WithContext("open center store " + path);
  // Errors of SQLite name neither the file nor the store: add both, so that
  // "file is not a database" tells the user which file.
  Status prepared = PrepareConnection(**conn, path);
  if (!prepared.ok()) {
    if (prepared.message().find(path) != std::string::npos) return prepared;
    return prepared.WithContext("open center store " + path);
  }
  return std::unique_ptr<CenterStore>(new SqliteCenterStore(std::move(conn).value(), path));
}

}  // namespace vmcrypt::center
