// RAII wrappers around the SQLite C API, internal to the SQLite store.
//
// Connection owns one sqlite3* and a cache of prepared statements keyed by
// their SQL text. Statement borrows a cached sqlite3_stmt* and resets and
// unbinds it when it goes out of scope, so a statement never keeps a read
// snapshot or a lock alive by accident.
//
// Thread-safety: a Connection (and its Statements) is used by one thread at
// a time; the store hands connections out under its own locks (the database
// is opened with SQLITE_OPEN_NOMUTEX).
#ifndef VMCRYPT_SRC_STORE_SQLITE_CONNECTION_H_
#define VMCRYPT_SRC_STORE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vmcrypt/base/status.h"

namespace vmcrypt::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Turns an SQLite result code into a Status "sqlite: <what>: <errmsg>".
// `db` may be null (then the generic text of `rc` is used). Codes: BUSY and
// LOCKED, I/O, FULL and CANTOPEN -> Unavailable; CORRUPT and NOTADB ->
// DataLoss; UNIQUE/PRIMARY KEY constraints -> AlreadyExists; other
// constraints -> InvalidArgument; TOOBIG -> OutOfRange; else Internal. The
// message never holds bound values: SQLite's messages name columns only.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// A borrowed prepared statement; see the file comment.
class Statement {
 public:
  // Borrows `stmt` (owned by a Connection's cache), or owns it when `owned`.
  Statement(sqlite3* db, sqlite3_stmt* stmt, StmtPtr owned = nullptr)
      : db_(db), stmt_(stmt), owned_(std::move(owned)) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are numbered from 1. A failed bind is reported by Step().
  void BindInt(int index, int64_t value);
  void BindText(int index, std::string_view value);
  void BindBlob(int index, std::span<const uint8_t> value);  // empty -> empty blob, not NULL
  void BindNull(int index);

  // Runs one step: true when a row is available, false when done.
  // `what` names the operation in error messages.
  Result<bool> Step(std::string_view what);
  // Steps to completion, ignoring rows.
  Status Run(std::string_view what);
  // Makes the statement runnable again with new bindings.
  void Reset();

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;  // TEXT or BLOB bytes
  std::vector<uint8_t> ColumnBlob(int column) const;

  sqlite3_stmt* get() const { return stmt_; }

 private:
  void NoteBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  StmtPtr owned_;  // set for statements that did not fit in the cache
  int bind_rc_ = SQLITE_OK;
};

// One open database connection with its statement cache.
class Connection {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_NOMUTEX is added), extended
  // result codes on and the given busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                  int busy_timeout_ms);

  static constexpr size_t kMaxCachedStatements = 256;

  sqlite3* db() const { return db_.get(); }

  // Returns the cached statement for `sql`, preparing it on first use. Past
  // kMaxCachedStatements distinct texts, new ones are prepared per use.
  Result<Statement> Prepare(const std::string& sql);
  // Runs `sql` (cached) to completion.
  Status Exec(const std::string& sql, std::string_view what);
  // Runs a query returning one integer (e.g. "PRAGMA user_version").
  Result<int64_t> QueryInt(const std::string& sql, std::string_view what);
  // Runs a query returning one text value (e.g. "PRAGMA journal_mode=WAL").
  Result<std::string> QueryText(const std::string& sql, std::string_view what);

 private:
  explicit Connection(DbPtr db) : db_(std::move(db)) {}

  // Statements are finalized before the connection closes (member order).
  DbPtr db_;
  std::unordered_map<std::string, StmtPtr> cache_;
};

// The statements that bring a database of schema version `from` to
// from + 1.
struct Migration {
  int64_t from;
  std::span<const char* const> statements;
};

// What identifies a database and how to create it: PRAGMA application_id,
// PRAGMA user_version, the statements of the current schema, and the
// migrations from older versions.
struct SchemaSpec {
  std::string_view what;  // starts messages: "store", "center store"
  int32_t application_id;
  int64_t version;
  std::span<const char* const> statements;  // the whole schema of `version`
  std::span<const Migration> migrations = {};
};

// In an empty database, creates the schema and sets both pragmas inside
// BEGIN IMMEDIATE (two processes opening a new database do not both create
// it); in another, checks them, and migrates an older schema step by step
// to `version` inside BEGIN IMMEDIATE (all steps or none). FailedPrecondition
// "WHAT PATH has schema version N, newer than ...", "... version N, which
// this vmcrypt cannot migrate" or "WHAT PATH is an SQLite database of
// another application".
Status EnsureSchema(Connection& conn, const std::string& path, const SchemaSpec& spec);

}  // namespace vmcrypt::store::sqlite

#endif  // VMCRYPT_SRC_STORE_SQLITE_CONNECTION_H_
