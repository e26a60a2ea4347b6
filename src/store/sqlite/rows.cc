#include "src/store/sqlite/rows.h"

#include <span>

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

// Writes `record`'s index entries for the object row `seq`.
Status InsertEntries(Connection& conn, int64_t seq, const ObjectRecord& record) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("INSERT INTO index_entries(seq, ord, tenant, name, num_value, "
                                "text_value) VALUES(?, ?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < record.index.size(); ++i) {
    const IndexEntry& e = record.index[i];
    stmt.Reset();
    stmt.BindInt(1, seq);
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
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("INSERT INTO objects(uid, tenant, object_type, state, created, "
                                "root_key_version, wrapped_material, attributes, revision) "
                                "VALUES(?, ?, ?, ?, ?, ?, ?, ?, 1)"));
  stmt.BindText(1, r.uid);
  stmt.BindText(2, r.tenant);
  stmt.BindInt(3, r.object_type);
  stmt.BindInt(4, r.state);
  stmt.BindInt(5, r.created);
  stmt.BindInt(6, r.root_key_version);
  stmt.BindBlob(7, r.wrapped_material);
  stmt.BindBlob(8, r.attributes);
  RETURN_IF_ERROR(stmt.Run("insert object"));
  return InsertEntries(conn, sqlite3_last_insert_rowid(conn.db()), r);
}

Status UpdateObject(Connection& conn, const ObjectRecord& r) {
  int64_t seq = 0;
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("UPDATE objects SET object_type = ?, state = ?, created = ?, "
                                  "root_key_version = ?, wrapped_material = ?, attributes = ?, "
                                  "revision = revision + 1 "
                                  "WHERE uid = ? AND tenant = ? AND revision = ? RETURNING seq"));
    stmt.BindInt(1, r.object_type);
    stmt.BindInt(2, r.state);
    stmt.BindInt(3, r.created);
    stmt.BindInt(4, r.root_key_version);
    stmt.BindBlob(5, r.wrapped_material);
    stmt.BindBlob(6, r.attributes);
    stmt.BindText(7, r.uid);
    stmt.BindText(8, r.tenant);
    stmt.BindInt(9, r.revision);
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
  return InsertEntries(conn, seq, r);
}

Result<ObjectRecord> ReadObject(Connection& conn, std::string_view tenant, std::string_view uid,
                                bool with_index) {
  ObjectRecord r;
  int64_t seq = 0;
  {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn.Prepare("SELECT seq, object_type, state, created, root_key_version, "
                                  "wrapped_material, attributes, revision FROM objects "
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
  }
  if (!with_index) return r;
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT name, num_value, text_value FROM "
                                                "index_entries WHERE seq = ? ORDER BY ord"));
  stmt.BindInt(1, seq);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step("read index entries"));
    if (!row) break;
    IndexEntry e;
    e.name = stmt.ColumnText(0);
    if (!stmt.ColumnIsNull(1)) {
      e.value.number = stmt.ColumnInt(1);
    } else {
      e.value.text = stmt.ColumnText(2);
    }
    r.index.push_back(std::move(e));
  }
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
