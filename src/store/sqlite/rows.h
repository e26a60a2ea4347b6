// The SQLite store's statements: each function runs against one
// Connection, with no threading or transaction logic of its own (the store
// wraps writes in its group-commit transaction and savepoints).
#ifndef VMCRYPT_SRC_STORE_SQLITE_ROWS_H_
#define VMCRYPT_SRC_STORE_SQLITE_ROWS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "src/store/sqlite/connection.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/store/records.h"

namespace vmcrypt::store::sqlite {

// InvalidArgument for an empty uid or a malformed index entry.
Status ValidateRecord(const ObjectRecord& record);
// InvalidArgument for an empty name or fingerprint.
Status ValidateClient(const ClientRecord& client);

// Inserts `record` with revision 1. AlreadyExists on a duplicate uid.
Status InsertObject(Connection& conn, const ObjectRecord& record);
// Optimistic update (see ObjectStore::Update).
Status UpdateObject(Connection& conn, const ObjectRecord& record);
// Reads one object (with its index rows unless !with_index); call inside a
// read transaction for a consistent view when reading the index too.
Result<ObjectRecord> ReadObject(Connection& conn, std::string_view tenant, std::string_view uid,
                                bool with_index = true);
Result<std::vector<std::string>> LocateObjects(Connection& conn, const Query& query);
Result<int64_t> CountObjects(Connection& conn, std::string_view tenant);

Status InsertClient(Connection& conn, const ClientRecord& client);
Status DeleteClient(Connection& conn, std::string_view name);
Result<std::vector<ClientRecord>> ReadClients(Connection& conn);
Result<ClientRecord> ReadClientByFingerprint(Connection& conn, std::string_view fingerprint);

}  // namespace vmcrypt::store::sqlite

#endif  // VMCRYPT_SRC_STORE_SQLITE_ROWS_H_
