#include "src/store/sqlite/rows.h"

#include <algorithm>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "src/store/sqlite/locate_sql.h"
#include "vmcrypt/store/object_store.h"

namespace vmcrypt::store::sqlite {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Status ValidateValue(const IndexValue& value) {
  if (value.number.has_value() && !value.text.empty()) {
    return InvalidArgumentError("index entry value is both a number and text");
  }
  return OkStatus();
}

constexpr const char* kInsertOwnEntry =
    "INSERT INTO index_entries(seq, ord, tenant, name, num_value, text_value) "
    "VALUES(?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertProfileEntry =
    "INSERT INTO profile_entries(profile, ord, tenant, name, num_value, text_value) "
    "VALUES(?, ?, ?, ?, ?, ?)";

// Writes the entries of `record` whose IndexEntry::shared is `shared` with
// `insert` (kInsertOwnEntry keyed by the object's seq, or
// kInsertProfileEntry keyed by the profile's id), each with its position in
// record.index as `ord`, so that reading both back restores the order.
Status InsertEntries(Connection& conn, const char* insert, int64_t key, const ObjectRecord& record,
                     bool shared) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(insert));
  for (size_t i = 0; i < record.index.size(); ++i) {
    const IndexEntry& e = record.index[i];
    if (e.shared != shared) continue;
    stmt.Reset();
    stmt.BindInt(1, key);
    stmt.BindInt(2, static_cast<int64_t>(i));
    stmt.BindText(3, record.tenant);
    stmt.BindText(4, e.name);
    if (e.value.number.has_value()) {
      stmt.BindInt(5, *e.value.number);
      stmt.BindNull(6);
    } else {
      stmt.BindNull(5);
      stmt.BindBlob(6, Bytes(e.value.text));  // BLOB: see locate_sql.cc
    }
    RETURN_IF_ERROR(stmt.Run("insert index entry"));
  }
  return OkStatus();
}

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// The shared entries of `record`, with their positions, in one string:
// two objects have the same profile exactly when these are equal. Empty
// when there are none.
std::string ProfileSignature(const ObjectRecord& record) {
  std::string sig;
  for (size_t i = 0; i < record.index.size(); ++i) {
    const IndexEntry& e = record.index[i];
    if (!e.shared) continue;
    AppendU64(sig, i);
    AppendU64(sig, e.name.size());
    sig += e.name;
    if (e.value.number.has_value()) {
      sig.push_back('n');
      AppendU64(sig, static_cast<uint64_t>(*e.value.number));
    } else {
      sig.push_back('t');
      AppendU64(sig, e.value.text.size());
      sig += e.value.text;
    }
  }
  return sig;
}

// The id of the profile holding `record`'s shared entries, made (with its
// entries) if its tenant has none like it yet; 0 when there are none.
Result<int64_t> ProfileFor(Connection& conn, const ObjectRecord& record) {
  const std::string sig = ProfileSignature(record);
  if (sig.empty()) return 0;
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("SELECT id FROM profiles WHERE tenant = ? AND signature = ?"));
    stmt.BindText(1, record.tenant);
    stmt.BindBlob(2, Bytes(sig));
    ASSIGN_OR_RETURN(bool row, stmt.Step("find profile"));
    if (row) return stmt.ColumnInt(0);
  }
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("INSERT INTO profiles(tenant, signature) VALUES(?, ?)"));
    stmt.BindText(1, record.tenant);
    stmt.BindBlob(2, Bytes(sig));
    RETURN_IF_ERROR(stmt.Run("add profile"));
  }
  const int64_t id = sqlite3_last_insert_rowid(conn.db());
  RETURN_IF_ERROR(InsertEntries(conn, kInsertProfileEntry, id, record, /*shared=*/true));
  return id;
}

// Reads the entries keyed by `key` with `select` (columns ord, name,
// num_value, text_value, in ord order) into `out` with their ords.
Status ReadEntries(Connection& conn, const char* select, int64_t key, bool shared,
                   std::vector<std::pair<int64_t, IndexEntry>>& out) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(select));
  stmt.BindInt(1, key);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step("read index entries"));
    if (!row) return OkStatus();
    IndexEntry e;
    e.name = stmt.ColumnText(1);
    if (!stmt.ColumnIsNull(2)) {
      e.value.number = stmt.ColumnInt(2);
    } else {
      e.value.text = stmt.ColumnText(3);
    }
    e.shared = shared;
    out.emplace_back(stmt.ColumnInt(0), std::move(e));
  }
}

ClientRecord ClientFromRow(const Statement& stmt) {
  ClientRecord c;
  c.name = stmt.ColumnText(0);
  c.tenant = stmt.ColumnText(1);
  c.subject = stmt.ColumnText(2);
  c.sha256_fingerprint = stmt.ColumnText(3);
  c.cert_pem = stmt.ColumnText(4);
  c.added = stmt.ColumnInt(5);
  return c;
}

constexpr const char* kClientColumns =
    "SELECT name, tenant, subject, sha256_fingerprint, cert_pem, added FROM clients ";

}  // namespace

Status ValidateRecord(const ObjectRecord& record) {
  if (record.uid.empty()) return InvalidArgumentError("object without a uid");
  for (const IndexEntry& e : record.index) {
    if (e.name.empty()) return InvalidArgumentError("index entry without a name");
    RETURN_IF_ERROR(ValidateValue(e.value));
  }
  return OkStatus();
}

Status ValidateClient(const ClientRecord& client) {
  if (client.name.empty()) return InvalidArgumentError("client without a name");
  if (client.sha256_fingerprint.empty()) {
    return InvalidArgumentError("client without a fingerprint");
  }
  return OkStatus();
}

Status InsertObject(Connection& conn, const ObjectRecord& r) {
  ASSIGN_OR_RETURN(const int64_t profile, ProfileFor(conn, r));
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("INSERT INTO objects(uid, tenant, object_type, state, created, "
                                "root_key_version, wrapped_material, attributes, revision, "
                                "profile) VALUES(?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"));
  stmt.BindText(1, r.uid);
  stmt.BindText(2, r.tenant);
  stmt.BindInt(3, r.object_type);
  stmt.BindInt(4, r.state);
  stmt.BindInt(5, r.created);
  stmt.BindInt(6, r.root_key_version);
  stmt.BindBlob(7, r.wrapped_material);
  stmt.BindBlob(8, r.attributes);
  stmt.BindInt(9, profile);
  RETURN_IF_ERROR(stmt.Run("insert object"));
  return InsertEntries(conn, kInsertOwnEntry, sqlite3_last_insert_rowid(conn.db()), r,
                       /*shared=*/false);
}

Status UpdateObject(Connection& conn, const ObjectRecord& r) {
  // Made before the update finds the row: a failed update is undone with
  // its savepoint, a new profile included.
  ASSIGN_OR_RETURN(const int64_t profile, ProfileFor(conn, r));
  int64_t seq = 0;
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("UPDATE objects SET object_type = ?, state = ?, created = ?, "
                                  "root_key_version = ?, wrapped_material = ?, attributes = ?, "
                                  "revision = revision + 1, profile = ? "
                                  "WHERE uid = ? AND tenant = ? AND revision = ? RETURNING seq"));
    stmt.BindInt(1, r.object_type);
    stmt.BindInt(2, r.state);
    stmt.BindInt(3, r.created);
    stmt.BindInt(4, r.root_key_version);
    stmt.BindBlob(5, r.wrapped_material);
    stmt.BindBlob(6, r.attributes);
    stmt.BindInt(7, profile);
    stmt.BindText(8, r.uid);
    stmt.BindText(9, r.tenant);
    stmt.BindInt(10, r.revision);
    ASSIGN_OR_RETURN(bool row, stmt.Step("update object"));
    if (row) {
      seq = stmt.ColumnInt(0);
      RETURN_IF_ERROR(stmt.Run("update object"));
    }
  }
  if (seq == 0) {
    // Nothing matched: tell a missing object from a stale revision.
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("SELECT 1 FROM objects WHERE uid = ? AND tenant = ?"));
    stmt.BindText(1, r.uid);
    stmt.BindText(2, r.tenant);
    ASSIGN_OR_RETURN(bool exists, stmt.Step("check object"));
    if (!exists) return NotFoundError("object not found");
    return ConcurrentUpdateError(r.uid);
  }
  {
    ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("DELETE FROM index_entries WHERE seq = ?"));
    stmt.BindInt(1, seq);
    RETURN_IF_ERROR(stmt.Run("replace index entries"));
  }
  return InsertEntries(conn, kInsertOwnEntry, seq, r, /*shared=*/false);
}

Result<ObjectRecord> ReadObject(Connection& conn, std::string_view tenant, std::string_view uid,
                                bool with_index) {
  ObjectRecord r;
  int64_t seq = 0;
  int64_t profile = 0;
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("SELECT seq, object_type, state, created, root_key_version, "
                                  "wrapped_material, attributes, revision, profile FROM objects "
                                  "WHERE uid = ? AND tenant = ?"));
    stmt.BindText(1, uid);
    stmt.BindText(2, tenant);
    ASSIGN_OR_RETURN(bool row, stmt.Step("read object"));
    // Same answer for "absent" and "another tenant's": no existence oracle.
    if (!row) return NotFoundError("object not found");
    seq = stmt.ColumnInt(0);
    r.uid = uid;
    r.tenant = tenant;
    r.object_type = static_cast<uint32_t>(stmt.ColumnInt(1));
    r.state = static_cast<uint32_t>(stmt.ColumnInt(2));
    r.created = stmt.ColumnInt(3);
    r.root_key_version = static_cast<uint32_t>(stmt.ColumnInt(4));
    r.wrapped_material = stmt.ColumnBlob(5);
    r.attributes = stmt.ColumnBlob(6);
    r.revision = stmt.ColumnInt(7);
    profile = stmt.ColumnInt(8);
  }
  if (!with_index) return r;
  // The object's own entries and its profile's, merged back by position.
  std::vector<std::pair<int64_t, IndexEntry>> entries;
  RETURN_IF_ERROR(ReadEntries(conn,
                              "SELECT ord, name, num_value, text_value FROM index_entries "
                              "WHERE seq = ? ORDER BY ord",
                              seq, /*shared=*/false, entries));
  if (profile != 0) {
    RETURN_IF_ERROR(ReadEntries(conn,
                                "SELECT ord, name, num_value, text_value FROM profile_entries "
                                "WHERE profile = ? ORDER BY ord",
                                profile, /*shared=*/true, entries));
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  r.index.reserve(entries.size());
  for (auto& [ord, e] : entries) r.index.push_back(std::move(e));
  return r;
}

Result<std::vector<std::string>> LocateObjects(Connection& conn, const Query& query) {
  RETURN_IF_ERROR(ValidateQuery(query));
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(LocateSql(query)));
  BindLocateSql(query, stmt);
  std::vector<std::string> uids;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step("locate"));
    if (!row) return uids;
    uids.push_back(stmt.ColumnText(0));
  }
}

Result<int64_t> CountObjects(Connection& conn, std::string_view tenant) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT count(*) FROM objects WHERE tenant = ?"));
  stmt.BindText(1, tenant);
  ASSIGN_OR_RETURN(bool row, stmt.Step("count objects"));
  if (!row) return InternalError("sqlite: count objects: no result");
  return stmt.ColumnInt(0);
}

Status InsertClient(Connection& conn, const ClientRecord& c) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("INSERT INTO clients(name, tenant, subject, sha256_fingerprint, "
                                "cert_pem, added) VALUES(?, ?, ?, ?, ?, ?)"));
  stmt.BindText(1, c.name);
  stmt.BindText(2, c.tenant);
  stmt.BindText(3, c.subject);
  stmt.BindText(4, c.sha256_fingerprint);
  stmt.BindText(5, c.cert_pem);
  stmt.BindInt(6, c.added);
  Status st = stmt.Run("add client");
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a client with this name or certificate fingerprint exists");
  }
  return st;
}

Status DeleteClient(Connection& conn, std::string_view name) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("DELETE FROM clients WHERE name = ?"));
  stmt.BindText(1, name);
  RETURN_IF_ERROR(stmt.Run("remove client"));
  if (sqlite3_changes(conn.db()) == 0) return NotFoundError("client not found");
  return OkStatus();
}

Result<std::vector<ClientRecord>> ReadClients(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(std::string(kClientColumns) + "ORDER BY name"));
  std::vector<ClientRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step("list clients"));
    if (!row) return out;
    out.push_back(ClientFromRow(stmt));
  }
}

Result<ClientRecord> ReadClientByFingerprint(Connection& conn, std::string_view fingerprint) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare(std::string(kClientColumns) + "WHERE sha256_fingerprint = ?"));
  stmt.BindText(1, fingerprint);
  ASSIGN_OR_RETURN(bool row, stmt.Step("find client"));
  if (!row) return NotFoundError("no client with this certificate fingerprint");
  return ClientFromRow(stmt);
}

}  // namespace vmcrypt::store::sqlite
