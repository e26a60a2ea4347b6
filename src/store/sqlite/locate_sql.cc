#include "src/store/sqlite/locate_sql.h"

#include <span>
#include <vector>

namespace vmcrypt::store::sqlite {
namespace {

const char* OpText(Condition::Op op) {
  switch (op) {
    case Condition::kAtLeast:
      return " >= ?";
    case Condition::kAtMost:
      return " <= ?";
    case Condition::kEquals:
    default:
      return " = ?";
  }
}

const char* ValueColumn(const IndexValue& value) {
  return value.number.has_value() ? "num_value" : "text_value";
}

// The order in which conditions appear in the SQL: the first equality
// condition drives the query (usually the most selective: Name, a uid-like
// x-attribute), the others are probed per candidate object.
std::vector<size_t> ConditionOrder(const Query& query) {
  std::vector<size_t> order;
  size_t driver = 0;
  for (size_t i = 0; i < query.all_of.size(); ++i) {
    if (query.all_of[i].op == Condition::kEquals) {
      driver = i;
      break;
    }
  }
  order.push_back(driver);
  for (size_t i = 0; i < query.all_of.size(); ++i) {
    if (i != driver) order.push_back(i);
  }
  return order;
}

void BindValue(const IndexValue& value, int index, Statement& stmt) {
  if (value.number.has_value()) {
    stmt.BindInt(index, *value.number);
  } else {
    // Stored as BLOB (schema.cc), so bound as BLOB: BLOB compares with BLOB
    // bytewise, whereas TEXT never equals BLOB.
    stmt.BindBlob(
        index, std::span(reinterpret_cast<const uint8_t*>(value.text.data()), value.text.size()));
  }
}

}  // namespace

Status ValidateQuery(const Query& query) {
  if (query.max_items.has_value() && *query.max_items < 0) {
    return InvalidArgumentError("locate: negative maximum items");
  }
  if (query.offset < 0) return InvalidArgumentError("locate: negative offset");
  for (const Condition& c : query.all_of) {
    if (c.name.empty()) return InvalidArgumentError("locate: condition without a name");
    if (c.value.number.has_value() && !c.value.text.empty()) {
      return InvalidArgumentError("locate: condition value is both a number and text");
    }
  }
  return OkStatus();
}

std::string LocateSql(const Query& query) {
  // Without conditions: the tenant's objects straight from objects_by_tenant,
  // read backwards, so no sort.
  if (query.all_of.empty()) {
    return "SELECT uid FROM objects WHERE tenant = ? "
           "ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?";
  }
  // With conditions: the driving condition is an index search on
  // index_entries_by_{num,text} (tenant, name, value) yielding object seqs,
  // looked up by primary key, together with (UNION ALL) the objects whose
  // profile has a matching entry (profile_entries_by_{num,text}, then
  // objects_by_profile); every other condition is an EXISTS probe on the
  // object's own entries or its profile's (primary key prefixes). IN and
  // EXISTS (rather than joins) keep an object with several matching entries
  // from appearing twice; OR'ing two IN lists instead of the UNION would
  // make SQLite scan objects. objects.tenant is deliberately not
  // constrained: the driver already is, and naming it would tempt the
  // planner to scan objects_by_tenant to avoid the final sort.
  const std::vector<size_t> order = ConditionOrder(query);
  const Condition& driver = query.all_of[order[0]];
  const std::string driver_test =
      std::string("tenant = ? AND name = ? AND ") + ValueColumn(driver.value) + OpText(driver.op);
  std::string sql = "SELECT uid FROM objects WHERE seq IN (SELECT seq FROM index_entries WHERE " +
                    driver_test +
                    " UNION ALL SELECT o.seq FROM objects AS o WHERE o.profile IN "
                    "(SELECT profile FROM profile_entries WHERE " +
                    driver_test + "))";
  for (size_t k = 1; k < order.size(); ++k) {
    const Condition& c = query.all_of[order[k]];
    auto test = [&c](const char* alias) {
      return std::string(alias) + ".name = ? AND " + alias + "." + ValueColumn(c.value) +
             OpText(c.op);
    };
    sql += " AND (EXISTS (SELECT 1 FROM index_entries AS c WHERE c.seq = objects.seq AND " +
           test("c") +
           ") OR EXISTS (SELECT 1 FROM profile_entries AS p WHERE p.profile = objects.profile "
           "AND " +
           test("p") + "))";
  }
  sql += " ORDER BY created DESC, seq DESC LIMIT ? OFFSET ?";
  return sql;
}

void BindLocateSql(const Query& query, Statement& stmt) {
  int index = 1;
  stmt.BindText(index++, query.tenant);
  if (!query.all_of.empty()) {
    const std::vector<size_t> order = ConditionOrder(query);
    // The driver: own entries (the tenant bound above), then profiles'.
    const Condition& driver = query.all_of[order[0]];
    stmt.BindText(index++, driver.name);
    BindValue(driver.value, index++, stmt);
    stmt.BindText(index++, query.tenant);
    stmt.BindText(index++, driver.name);
    BindValue(driver.value, index++, stmt);
    for (size_t k = 1; k < order.size(); ++k) {
      const Condition& c = query.all_of[order[k]];
      for (int side = 0; side < 2; ++side) {  // own entries, then the profile's
        stmt.BindText(index++, c.name);
        BindValue(c.value, index++, stmt);
      }
    }
  }
  stmt.BindInt(index++, query.max_items.has_value() ? *query.max_items : -1);
  stmt.BindInt(index++, query.offset);
}

}  // namespace vmcrypt::store::sqlite
