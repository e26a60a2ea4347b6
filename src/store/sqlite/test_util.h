// Test helpers for the SQLite store tests: a temporary folder per test and
// record builders.
#ifndef VMCRYPT_SRC_STORE_SQLITE_TEST_UTIL_H_
#define VMCRYPT_SRC_STORE_SQLITE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "src/base/test_dir.h"
#include "vmcrypt/store/records.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::store {

class StoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_["kms.db"]; }

  std::unique_ptr<ObjectStore> Open(const SqliteOptions& options = {}) {
    auto store = OpenSqliteStore(DbPath(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  test::TestDir dir_{"store"};
};

inline ObjectRecord MakeRecord(std::string uid, std::string tenant = "t1", int64_t created = 1000,
                               std::string name = "") {
  ObjectRecord r;
  r.uid = std::move(uid);
  r.tenant = std::move(tenant);
  r.object_type = 2;  // Symmetric Key
  r.state = 1;        // Pre-Active
  r.created = created;
  r.root_key_version = 3;
  r.wrapped_material = {0xde, 0xad, 0xbe, 0xef};
  r.attributes = {0x42, 0x00, 0x01};
  if (name.empty()) name = "name-" + r.uid;
  // State as the engine gives it: shared, so stored in a profile.
  r.index = {{"Name", IndexValue::Text(name)},
             {"State", IndexValue::Number(r.state), /*shared=*/true},
             {"Initial Date", IndexValue::Number(created)}};
  return r;
}

inline Query MakeQuery(std::string tenant, std::vector<Condition> all_of = {},
                       std::optional<int32_t> max_items = std::nullopt, int32_t offset = 0) {
  Query q;
  q.tenant = std::move(tenant);
  q.all_of = std::move(all_of);
  q.max_items = max_items;
  q.offset = offset;
  return q;
}

}  // namespace vmcrypt::store

#endif  // VMCRYPT_SRC_STORE_SQLITE_TEST_UTIL_H_
