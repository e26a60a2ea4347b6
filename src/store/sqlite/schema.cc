#include "src/store/sqlite/schema.h"

#include <string>

#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::store::sqlite {
namespace {

// Schema version 3 (versions 1 and 2 are migrated, below).
//
// objects: one row per managed object. `seq` (AUTOINCREMENT, never reused)
// is the insertion order that breaks ties between equal `created` times;
// objects_by_tenant serves Count and condition-less Locate in result order.
//
// index_entries: the Locate index, clustered by object (WITHOUT ROWID with
// primary key (seq, ord)) so that replacing an object's entries and probing
// "does object X have an entry matching C" are range reads. The two
// secondary indexes carry the primary key, so they are covering for
// "which objects have an entry (tenant, name, value)", equality or range.
// Numbers and text live in separate columns so that they never compare with
// each other; text is stored as BLOB and compared bytewise. Each secondary
// index is partial (version 2): it holds only the entries with a value in
// its column, so an entry goes into two B-trees, not three. Every Locate
// condition compares the column, which implies IS NOT NULL, so the planner
// still uses them (https://sqlite.org/partialindex.html, 3.2).
//
// profiles, profile_entries (version 3): the shared entries (IndexEntry::
// shared: State, Object Type, Cryptographic Algorithm, the flags, ...) of
// an object are stored once per distinct combination, a profile, keyed by
// their serialized form (signature) within a tenant; objects.profile names
// it (0: none). A new object with a known combination then adds one entry
// to objects_by_profile instead of a dozen to the Locate indexes, whose
// pages for State=Active and the like every Create used to rewrite.
// profile_entries has the shape and partial indexes of index_entries; a
// Locate condition matches either (locate_sql.cc). Profiles are never
// deleted: there are few, and a later object may need one again.
constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE objects(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  object_type INTEGER NOT NULL,
  state INTEGER NOT NULL,
  created INTEGER NOT NULL,
  root_key_version INTEGER NOT NULL,
  wrapped_material BLOB NOT NULL,
  attributes BLOB NOT NULL,
  revision INTEGER NOT NULL,
  profile INTEGER NOT NULL DEFAULT 0))sql",
    "CREATE INDEX objects_by_tenant ON objects(tenant, created, seq)",
    R"sql(CREATE TABLE index_entries(
  seq INTEGER NOT NULL REFERENCES objects(seq) ON DELETE CASCADE,
  ord INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  num_value INTEGER,
  text_value BLOB,
  PRIMARY KEY (seq, ord),
  CHECK ((num_value IS NULL) <> (text_value IS NULL))) WITHOUT ROWID)sql",
    "CREATE INDEX index_entries_by_num ON index_entries(tenant, name, num_value) "
    "WHERE num_value IS NOT NULL",
    "CREATE INDEX index_entries_by_text ON index_entries(tenant, name, text_value) "
    "WHERE text_value IS NOT NULL",
    R"sql(CREATE TABLE profiles(
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  signature BLOB NOT NULL,
  UNIQUE (tenant, signature)))sql",
    R"sql(CREATE TABLE profile_entries(
  profile INTEGER NOT NULL REFERENCES profiles(id),
  ord INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  num_value INTEGER,
  text_value BLOB,
  PRIMARY KEY (profile, ord),
  CHECK ((num_value IS NULL) <> (text_value IS NULL))) WITHOUT ROWID)sql",
    "CREATE INDEX profile_entries_by_num ON profile_entries(tenant, name, num_value) "
    "WHERE num_value IS NOT NULL",
    "CREATE INDEX profile_entries_by_text ON profile_entries(tenant, name, text_value) "
    "WHERE text_value IS NOT NULL",
    "CREATE INDEX objects_by_profile ON objects(profile)",
    R"sql(CREATE TABLE clients(
  name TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  sha256_fingerprint TEXT NOT NULL UNIQUE,
  cert_pem TEXT NOT NULL,
  added INTEGER NOT NULL))sql",
};

// Version 1 -> 2: the secondary Locate indexes become partial.
constexpr const char* kPartialLocateIndexes[] = {
    "DROP INDEX index_entries_by_num",
    "DROP INDEX index_entries_by_text",
    kSchema[3],
    kSchema[4],
};
// Version 2 -> 3: profiles. Existing objects keep every entry of their own
// (profile 0), which Locate still matches; they move to a profile when next
// updated.
constexpr const char* kProfiles[] = {
    "ALTER TABLE objects ADD COLUMN profile INTEGER NOT NULL DEFAULT 0",
    kSchema[5],
    kSchema[6],
    kSchema[7],
    kSchema[8],
    kSchema[9],
};
constexpr Migration kMigrations[] = {{1, kPartialLocateIndexes}, {2, kProfiles}};

// Locate's IN-subquery and ORDER BY use ephemeral tables; with the default
// temp_store=FILE each one creates and unlinks a temporary file (measured: an
// index lookup went from 35 us to 215 us). They hold uids of one result set.
Status SetTempStoreMemory(Connection& conn) {
  return conn.Exec("PRAGMA temp_store = MEMORY", "set temp_store");
}

}  // namespace

Status PrepareWriterConnection(Connection& conn, const std::string& path) {
  // The first statement that reads the file: a file that is not a database
  // fails here with SQLITE_NOTADB -> DataLoss.
  ASSIGN_OR_RETURN(std::string mode, conn.QueryText("PRAGMA journal_mode = WAL", "enable WAL"));
  if (mode != "wal") {
    return FailedPreconditionError("store " + path + ": cannot enable WAL (journal mode " + mode +
                                   ")");
  }
  // FULL while the schema is created or migrated: that commit is on disk
  // before the store opens (https://sqlite.org/pragma.html#pragma_synchronous).
  RETURN_IF_ERROR(conn.Exec("PRAGMA synchronous = FULL", "set synchronous"));
  // index_entries REFERENCES objects, unenforced: objects are never deleted
  // (destroyed objects keep their metadata) and an entry is written only in
  // the transaction that writes its object, so enforcement would only add a
  // lookup of the parent row per entry: about a sixth of a durable Create's
  // writer time here. `PRAGMA foreign_key_check` stays empty (durability
  // test after kill -9).
  RETURN_IF_ERROR(conn.Exec("PRAGMA foreign_keys = OFF", "set foreign keys"));
  RETURN_IF_ERROR(SetTempStoreMemory(conn));
  // The writer keeps the B-tree pages it touches, 8 MiB instead of 2 MiB,
  // and leaves checkpoints to the store's checkpointer thread. Not more:
  // every COMMIT ends in pcache1TruncateUnsafe (from pager_end_transaction,
  // SQLite 3.40), which walks the page cache's hash table. At 64 MiB that
  // walk took a tenth of the writer's time (perf), and durable Creates into a
  // fresh store went 3,700 -> 4,300/s; into a store of 300,000 keys it made
  // no difference (page reads come from the OS page cache).
  RETURN_IF_ERROR(conn.Exec("PRAGMA cache_size = -8192", "set cache_size"));
  RETURN_IF_ERROR(conn.Exec("PRAGMA wal_autocheckpoint = 0", "set wal_autocheckpoint"));

  RETURN_IF_ERROR(EnsureSchema(
      conn, path, {"store", kApplicationId, kSqliteSchemaVersion, kSchema, kMigrations}));
  // Then NORMAL: COMMIT writes the WAL without waiting for the disk; the
  // store's syncer thread fdatasyncs the WAL before any write is reported
  // done (sqlite_store.cc, SyncLoop), so the writer does not wait for the
  // disk between transactions. Checkpoints still sync the WAL before and the
  // database after.
  return conn.Exec("PRAGMA synchronous = NORMAL", "set synchronous");
}

Status PrepareReaderConnection(Connection& conn) {
  RETURN_IF_ERROR(conn.Exec("PRAGMA query_only = ON", "set query_only"));
  return SetTempStoreMemory(conn);
}

}  // namespace vmcrypt::store::sqlite
