#include "src/store/sqlite/connection.h"

#include <utility>

#include "src/store/sqlite/wal_vfs.h"

namespace vmcrypt::store::sqlite {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string message = "sqlite: ";
  message.append(what);
  message.append(": ");
  // sqlite3_errmsg describes the last failed call on `db`; it names tables
  // and columns, never bound values, so records cannot leak into logs.
  message.append(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return UnavailableError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(std::move(message));
      }
      return InvalidArgumentError(std::move(message));
    case SQLITE_TOOBIG:
      return OutOfRangeError(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDeniedError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owned_(std::move(other.owned_)),
      bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::NoteBind(int rc) {
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::BindInt(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindText(int index, std::string_view value) {
  // A null pointer would bind NULL; "" keeps empty text distinct from NULL.
  NoteBind(sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::span<const uint8_t> value) {
  if (value.empty()) {
    NoteBind(sqlite3_bind_zeroblob(stmt_, index, 0));
    return;
  }
  NoteBind(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT));
}

void Statement::BindNull(int index) { NoteBind(sqlite3_bind_null(stmt_, index)); }

Result<bool> Statement::Step(std::string_view what) {
  if (bind_rc_ != SQLITE_OK) return SqliteError(db_, bind_rc_, what);
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, what);
}

Status Statement::Run(std::string_view what) {
  for (;;) {
    ASSIGN_OR_RETURN(bool row, Step(what));
    if (!row) return OkStatus();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::ColumnText(int column) const {
  // Ask for the pointer first, then the size (SQLite's documented order).
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

std::vector<uint8_t> Statement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  const auto* p = static_cast<const uint8_t*>(data);
  return std::vector<uint8_t>(p, p + size);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int flags,
                                                     int busy_timeout_ms) {
  // Process-wide, before SQLite initialises: no memory statistics. With
  // them on (the default), every allocation SQLite makes takes one global
  // mutex (SQLITE_MUTEX_STATIC_MEM), which concurrent readers then queue on
  // (https://sqlite.org/c3ref/c_config_covering_index_scan.html, MEMSTATUS).
  // SQLITE_MISUSE means SQLite was already initialised by someone else:
  // harmless, statistics stay on.
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
  sqlite3* raw = nullptr;
  // Through the WAL-coalescing shim (wal_vfs.h); SQLite's default VFS if it
  // could not be registered.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, WalCoalescingVfsName());
  DbPtr db(raw);  // sqlite3_open_v2 may return a handle even on failure
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, "open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return std::unique_ptr<Connection>(new Connection(std::move(db)));
}

Result<Statement> Connection::Prepare(const std::string& sql) {
  if (auto it = cache_.find(sql); it != cache_.end()) {
    return Statement(db_.get(), it->second.get());
  }
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(db_.get(), rc, "prepare");
  if (stmt == nullptr) return InternalError("sqlite: prepare: empty statement");
  if (cache_.size() >= kMaxCachedStatements) {
    return Statement(db_.get(), raw, std::move(stmt));
  }
  cache_.emplace(sql, std::move(stmt));
  return Statement(db_.get(), raw);
}

Status Connection::Exec(const std::string& sql, std::string_view what) {
  ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  return stmt.Run(what);
}

Result<int64_t> Connection::QueryInt(const std::string& sql, std::string_view what) {
  ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  ASSIGN_OR_RETURN(bool row, stmt.Step(what));
  if (!row) return InternalError("sqlite: " + std::string(what) + ": no result");
  return stmt.ColumnInt(0);
}

Result<std::string> Connection::QueryText(const std::string& sql, std::string_view what) {
  ASSIGN_OR_RETURN(Statement stmt, Prepare(sql));
  ASSIGN_OR_RETURN(bool row, stmt.Step(what));
  if (!row) return InternalError("sqlite: " + std::string(what) + ": no result");
  return stmt.ColumnText(0);
}

namespace {

Status CheckSchema(Connection& conn, const std::string& path, const SchemaSpec& spec,
                   int64_t version) {
  const std::string who = std::string(spec.what) + " " + path;
  if (version > spec.version) {
    return FailedPreconditionError(who + " has schema version " + std::to_string(version) +
                                   ", newer than this vmcrypt supports (" +
                                   std::to_string(spec.version) + "); upgrade vmcrypt");
  }
  ASSIGN_OR_RETURN(int64_t app_id, conn.QueryInt("PRAGMA application_id", "read application id"));
  if (app_id != spec.application_id) {
    return FailedPreconditionError(who + " is an SQLite database of another application");
  }
  return OkStatus();
}

// Runs inside BEGIN IMMEDIATE: from the version found then (another process
// may have migrated meanwhile) to spec.version.
Status Migrate(Connection& conn, const std::string& path, const SchemaSpec& spec) {
  ASSIGN_OR_RETURN(int64_t version, conn.QueryInt("PRAGMA user_version", "read schema version"));
  RETURN_IF_ERROR(CheckSchema(conn, path, spec, version));
  while (version < spec.version) {
    const Migration* step = nullptr;
    for (const Migration& m : spec.migrations) {
      if (m.from == version) step = &m;
    }
    if (step == nullptr) {
      return FailedPreconditionError(std::string(spec.what) + " " + path + " has schema version " +
                                     std::to_string(version) +
                                     ", which this vmcrypt cannot migrate");
    }
    for (const char* sql : step->statements) RETURN_IF_ERROR(conn.Exec(sql, "migrate schema"));
    ++version;
  }
  return conn.Exec("PRAGMA user_version = " + std::to_string(spec.version), "set schema version");
}

// Runs inside BEGIN IMMEDIATE.
Status CreateSchema(Connection& conn, const std::string& path, const SchemaSpec& spec) {
  ASSIGN_OR_RETURN(int64_t version, conn.QueryInt("PRAGMA user_version", "read schema version"));
  if (version != 0) return Migrate(conn, path, spec);
  ASSIGN_OR_RETURN(int64_t tables,
                   conn.QueryInt("SELECT count(*) FROM sqlite_schema", "read schema"));
  if (tables != 0) {
    return FailedPreconditionError(std::string(spec.what) + " " + path +
                                   " is an SQLite database of another application");
  }
  for (const char* sql : spec.statements) {
    RETURN_IF_ERROR(conn.Exec(sql, "create schema"));
  }
  RETURN_IF_ERROR(conn.Exec("PRAGMA application_id = " + std::to_string(spec.application_id),
                            "set application id"));
  return conn.Exec("PRAGMA user_version = " + std::to_string(spec.version), "set schema version");
}

}  // namespace

Status EnsureSchema(Connection& conn, const std::string& path, const SchemaSpec& spec) {
  ASSIGN_OR_RETURN(int64_t version, conn.QueryInt("PRAGMA user_version", "read schema version"));
  if (version >= spec.version) return CheckSchema(conn, path, spec, version);
  // Empty (version 0) or older: created or migrated under the write lock.
  RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE", "begin schema creation"));
  Status st = CreateSchema(conn, path, spec);
  if (!st.ok()) {
    conn.Exec("ROLLBACK", "rollback schema creation").IgnoreError();
    return st;
  }
  return conn.Exec("COMMIT", "commit schema creation");
}

}  // namespace vmcrypt::store::sqlite
