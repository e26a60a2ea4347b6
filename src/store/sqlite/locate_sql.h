// Translation of a Locate Query into one SQL statement over the schema in
// schema.cc. Separate from the store so tests can EXPLAIN the exact SQL.
#ifndef VMCRYPT_SRC_STORE_SQLITE_LOCATE_SQL_H_
#define VMCRYPT_SRC_STORE_SQLITE_LOCATE_SQL_H_

#include <string>

#include "src/store/sqlite/connection.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/store/records.h"

namespace vmcrypt::store::sqlite {

// Checks a query: names not empty, values well-formed (a number or text,
// not both), max_items and offset not negative. InvalidArgument otherwise.
Status ValidateQuery(const Query& query);

// The SQL text for `query` (which must be valid). It depends only on the
// query's shape (number of conditions, their operators and value kinds), so
// it is a good statement-cache key; values are bound by BindLocateSql.
// The statement returns one column, the uid, newest first.
std::string LocateSql(const Query& query);

// Binds `query`'s values to a statement prepared from LocateSql(query).
void BindLocateSql(const Query& query, Statement& stmt);

}  // namespace vmcrypt::store::sqlite

#endif  // VMCRYPT_SRC_STORE_SQLITE_LOCATE_SQL_H_
