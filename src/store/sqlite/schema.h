// The SQLite store's schema: creation, identification and version checks.
//
// The database identifies itself with PRAGMA application_id = kApplicationId
// and its schema version with PRAGMA user_version (kSqliteSchemaVersion).
#ifndef VMCRYPT_SRC_STORE_SQLITE_SCHEMA_H_
#define VMCRYPT_SRC_STORE_SQLITE_SCHEMA_H_

#include <cstdint>

#include "src/store/sqlite/connection.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::store::sqlite {

// "vmcs" (vmcrypt store), big-endian.
inline constexpr int32_t kApplicationId = 0x766d6373;

// Sets the per-connection pragmas of the writer (WAL, synchronous=FULL,
// unenforced foreign keys), then creates the schema in an empty database or checks an
// existing one. Errors: DataLoss for a file that is not a database;
// FailedPrecondition for another application's database or a newer schema.
Status PrepareWriterConnection(Connection& conn, const std::string& path);

// Sets the pragmas of a read-only pool connection.
Status PrepareReaderConnection(Connection& conn);

}  // namespace vmcrypt::store::sqlite

#endif  // VMCRYPT_SRC_STORE_SQLITE_SCHEMA_H_
