// Checks that Locate's SQL is answered from indexes (EXPLAIN QUERY PLAN).
#include "src/store/sqlite/locate_sql.h"

#include <gtest/gtest.h>

#include "src/store/sqlite/connection.h"
#include "src/store/sqlite/test_util.h"

namespace vmcrypt::store {
namespace {

using LocateSqlTest = StoreTest;

// The EXPLAIN QUERY PLAN lines of `query`'s SQL, joined by newlines.
std::string Plan(sqlite::Connection& conn, const Query& query) {
  Result<sqlite::Statement> stmt = conn.Prepare("EXPLAIN QUERY PLAN " + sqlite::LocateSql(query));
  EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
  if (!stmt.ok()) return "";
  sqlite::BindLocateSql(query, *stmt);
  std::string plan;
  for (;;) {
    Result<bool> row = stmt->Step("explain");
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    if (!row.ok() || !*row) return plan;
    plan += stmt->ColumnText(3) + "\n";  // columns: id, parent, notused, detail
  }
}

class LocatePlanTest : public LocateSqlTest {
 protected:
  void SetUp() override {
    LocateSqlTest::SetUp();
    {
      auto store = Open();
      for (int i = 0; i < 200; ++i) {
        ASSERT_TRUE(store->Insert(MakeRecord("p" + std::to_string(i), "t1", i)).ok());
      }
    }
    auto conn = sqlite::Connection::Open(DbPath(), SQLITE_OPEN_READWRITE, 1000);
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }
  std::unique_ptr<sqlite::Connection> conn_;
};

void ExpectNoScans(const std::string& plan) {
  for (const char* table : {"index_entries", "profile_entries", "objects", "c", "o", "p"}) {
    EXPECT_EQ(plan.find(std::string("SCAN ") + table + "\n"), std::string::npos) << plan;
    EXPECT_EQ(plan.find(std::string("SCAN ") + table + " "), std::string::npos) << plan;
  }
}

TEST_F(LocatePlanTest, NameEqualityUsesTheTextIndex) {
  const std::string plan = Plan(
      *conn_, MakeQuery("t1", {{"Name", Condition::kEquals, IndexValue::Text("name-p7")}}, 10, 0));
  EXPECT_NE(plan.find("USING COVERING INDEX index_entries_by_text (tenant=? AND name=? AND "
                      "text_value=?)"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("SEARCH objects USING INTEGER PRIMARY KEY"), std::string::npos) << plan;
  ExpectNoScans(plan);
}

TEST_F(LocatePlanTest, NumberEqualityAndRangesUseTheNumberIndex) {
  std::string plan =
      Plan(*conn_, MakeQuery("t1", {{"State", Condition::kEquals, IndexValue::Number(1)}}, 10, 0));
  EXPECT_NE(plan.find("USING COVERING INDEX index_entries_by_num (tenant=? AND name=? AND "
                      "num_value=?)"),
            std::string::npos)
      << plan;
  // And the objects whose profile matches (State is shared in MakeRecord).
  EXPECT_NE(plan.find("USING COVERING INDEX profile_entries_by_num (tenant=? AND name=? AND "
                      "num_value=?)"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("SEARCH o USING COVERING INDEX objects_by_profile (profile=?)"),
            std::string::npos)
      << plan;
  ExpectNoScans(plan);
  plan =
      Plan(*conn_, {"t1", {{"Initial Date", Condition::kAtLeast, IndexValue::Number(100)}}, 10, 0});
  EXPECT_NE(plan.find("USING COVERING INDEX index_entries_by_num (tenant=? AND name=? AND "
                      "num_value>?)"),
            std::string::npos)
      << plan;
  ExpectNoScans(plan);
}

TEST_F(LocatePlanTest, SeveralConditionsDriveByEqualityAndProbeTheRest) {
  const std::string plan =
      Plan(*conn_, MakeQuery("t1",
                             {{"Initial Date", Condition::kAtMost, IndexValue::Number(100)},
                              {"Name", Condition::kEquals, IndexValue::Text("name-p7")},
                              {"State", Condition::kEquals, IndexValue::Number(1)}},
                             std::nullopt, 0));
  EXPECT_NE(plan.find("USING COVERING INDEX index_entries_by_text"), std::string::npos) << plan;
  EXPECT_NE(plan.find("SEARCH c USING PRIMARY KEY (seq=?)"), std::string::npos) << plan;
  EXPECT_NE(plan.find("SEARCH p USING PRIMARY KEY (profile=?)"), std::string::npos) << plan;
  ExpectNoScans(plan);
}

TEST_F(LocatePlanTest, NoConditionsReadsTheTenantIndexInOrder) {
  const std::string plan = Plan(*conn_, MakeQuery("t1", {}, 10, 0));
  EXPECT_NE(plan.find("USING INDEX objects_by_tenant (tenant=?)"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
  ExpectNoScans(plan);
}

}  // namespace
}  // namespace vmcrypt::store
