// Functional tests of the SQLite ObjectStore: objects, Locate, clients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "src/store/sqlite/test_util.h"
#include "vmcrypt/base/thread_priority.h"
#include "vmcrypt/store/object_store.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::store {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using SqliteStoreTest = StoreTest;

TEST_F(SqliteStoreTest, InsertGetUpdate) {
  auto store = Open();
  ObjectRecord r = MakeRecord("uid-1");
  r.revision = 77;  // ignored by Insert
  ASSERT_TRUE(store->Insert(r).ok());

  Result<ObjectRecord> got = store->Get("t1", "uid-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  r.revision = 1;
  EXPECT_EQ(*got, r);

  // Update replaces everything but tenant and revision, index as a whole.
  ObjectRecord u = *got;
  u.state = 2;
  u.wrapped_material.clear();  // destroyed: metadata kept, material gone
  u.attributes = {1, 2, 3, 4, 5};
  u.index = {{"Name", IndexValue::Text("renamed")},
             {"Name", IndexValue::Text("alias")},
             {"x-Vendor", IndexValue::Text("VMware, Inc.")},
             {"Bytes", IndexValue::Text(std::string("\0\x01\xff", 3))}};
  ASSERT_TRUE(store->Update(u).ok());
  got = store->Get("t1", "uid-1");
  ASSERT_TRUE(got.ok());
  u.revision = 2;
  EXPECT_EQ(*got, u);
  EXPECT_TRUE(got->wrapped_material.empty());

  EXPECT_EQ(*store->Count("t1"), 1);
  EXPECT_EQ(*store->Count("t2"), 0);
  EXPECT_EQ(store->Get("t1", "missing").status().code(), StatusCode::kNotFound);

  // The same record without its index; same tenant rules.
  Result<ObjectRecord> bare = store->GetWithoutIndex("t1", "uid-1");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->index.empty());
  u.index.clear();
  EXPECT_EQ(*bare, u);
  EXPECT_EQ(store->GetWithoutIndex("t2", "uid-1").status().code(), StatusCode::kNotFound);
}

// A key pair goes in whole or not at all: when the second record cannot be
// stored, the first is not there either, nor any of its index entries.
TEST_F(SqliteStoreTest, InsertAllStoresEveryRecordOrNone) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("taken")).ok());
  const ObjectRecord half[] = {MakeRecord("public-1"), MakeRecord("taken")};
  EXPECT_EQ(store->InsertAll(half).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Get("t1", "public-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store->Count("t1"), 1);
  EXPECT_TRUE(store
                  ->Locate(MakeQuery(
                      "t1", {{"Name", Condition::kEquals, IndexValue::Text("name-public-1")}}))
                  ->empty());

  const ObjectRecord pair[] = {MakeRecord("public-2"), MakeRecord("private-2")};
  ASSERT_TRUE(store->InsertAll(pair).ok());
  EXPECT_EQ(store->Get("t1", "public-2")->revision, 1);
  EXPECT_EQ(store->Get("t1", "private-2")->revision, 1);
  EXPECT_EQ(*store->Count("t1"), 3);

  ObjectRecord bad = MakeRecord("");
  const ObjectRecord invalid[] = {MakeRecord("public-3"), bad};
  EXPECT_EQ(store->InsertAll(invalid).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("t1", "public-3").status().code(), StatusCode::kNotFound);
}

// A re-key: the new key and the old key's link to it land together. A stale
// update (someone changed the old key meanwhile) undoes the insert too.
TEST_F(SqliteStoreTest, InsertAndUpdateAppliesAllOrNothing) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("old")).ok());
  ObjectRecord old = *store->Get("t1", "old");
  ObjectRecord linked = old;
  linked.attributes = {0x01, 0x02};
  ASSERT_TRUE(store->Update(linked).ok());  // revision 2: `old` is now stale

  ObjectRecord stale = old;
  stale.attributes = {0x0A};
  const ObjectRecord fresh[] = {MakeRecord("new-1")};
  const ObjectRecord stale_update[] = {stale};
  Status s = store->InsertAndUpdate(fresh, stale_update);
  EXPECT_TRUE(IsConcurrentUpdate(s)) << s.ToString();
  EXPECT_EQ(store->Get("t1", "new-1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(
      store->Locate(MakeQuery("t1", {{"Name", Condition::kEquals, IndexValue::Text("name-new-1")}}))
          ->empty());
  EXPECT_EQ(store->Get("t1", "old")->revision, 2);

  ObjectRecord current = *store->Get("t1", "old");
  current.attributes = {0x0B};
  const ObjectRecord update[] = {current};
  ASSERT_TRUE(store->InsertAndUpdate(fresh, update).ok());
  EXPECT_EQ(store->Get("t1", "new-1")->revision, 1);
  EXPECT_EQ(store->Get("t1", "old")->revision, 3);
  EXPECT_EQ(store->Get("t1", "old")->attributes, std::vector<uint8_t>({0x0B}));

  // An update of an object that does not exist undoes the insert as well.
  ObjectRecord ghost = MakeRecord("ghost");
  ghost.revision = 1;
  const ObjectRecord another[] = {MakeRecord("new-2")};
  const ObjectRecord ghost_update[] = {ghost};
  EXPECT_EQ(store->InsertAndUpdate(another, ghost_update).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get("t1", "new-2").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, RejectsMalformedRecords) {
  auto store = Open();
  EXPECT_EQ(store->Insert(MakeRecord("")).code(), StatusCode::kInvalidArgument);
  ObjectRecord r = MakeRecord("u");
  r.index.push_back({"", IndexValue::Number(1)});
  EXPECT_EQ(store->Insert(r).code(), StatusCode::kInvalidArgument);
  r = MakeRecord("u");
  r.index.push_back({"Both", IndexValue{5, "five"}});
  EXPECT_EQ(store->Insert(r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Locate(MakeQuery("t1", {}, -1, 0)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Locate(MakeQuery("t1", {}, std::nullopt, -3)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, DuplicateUidFailsAcrossTenants) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("dup", "t1")).ok());
  Status st = store->Insert(MakeRecord("dup", "t2"));
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_EQ(*store->Count("t2"), 0);
  // The failed insert left no index entries behind.
  EXPECT_THAT(
      *store->Locate(MakeQuery("t2", {{"Name", Condition::kEquals, IndexValue::Text("name-dup")}})),
      IsEmpty());
}

TEST_F(SqliteStoreTest, TenantIsolation) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("a", "t1", 1, "shared-name")).ok());
  ASSERT_TRUE(store->Insert(MakeRecord("b", "t2", 2, "shared-name")).ok());
  // Another tenant's object looks exactly like a missing one.
  Result<ObjectRecord> other = store->Get("t2", "a");
  Result<ObjectRecord> missing = store->Get("t2", "zzz");
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(other.status(), missing.status());
  Query q = MakeQuery("t1", {{"Name", Condition::kEquals, IndexValue::Text("shared-name")}});
  EXPECT_THAT(*store->Locate(q), ElementsAre("a"));
  q.tenant = "t2";
  EXPECT_THAT(*store->Locate(q), ElementsAre("b"));
  q.tenant = "t3";
  EXPECT_THAT(*store->Locate(q), IsEmpty());
  EXPECT_THAT(*store->Locate(MakeQuery("t1")), ElementsAre("a"));
  // Update cannot reach into another tenant either.
  ObjectRecord r = MakeRecord("a", "t2");
  r.revision = 1;
  EXPECT_EQ(store->Update(r).code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, LocateEqualityRangesAndPaging) {
  auto store = Open();
  // Five objects; created 100..500; c and d share a creation time (ties go
  // by insertion order, newest first).
  struct {
    const char* uid;
    int64_t created;
    const char* name;
    uint32_t state;
  } objs[] = {{"a", 100, "alpha", 1},
              {"b", 200, "beta", 2},
              {"c", 300, "gamma", 2},
              {"d", 300, "gamma", 2},
              {"e", 500, "epsilon", 3}};
  for (const auto& o : objs) {
    ObjectRecord r = MakeRecord(o.uid, "t1", o.created, o.name);
    r.state = o.state;
    r.index[1].value = IndexValue::Number(o.state);
    r.index.push_back({"x-Vendor", IndexValue::Text("VMware, Inc.")});
    ASSERT_TRUE(store->Insert(r).ok());
  }
  auto locate = [&](std::vector<Condition> c, std::optional<int32_t> max = std::nullopt,
                    int32_t offset = 0) {
    Result<std::vector<std::string>> r = store->Locate(MakeQuery("t1", std::move(c), max, offset));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<std::string>{};
  };
  using C = Condition;
  EXPECT_THAT(locate({}), ElementsAre("e", "d", "c", "b", "a"));
  EXPECT_THAT(locate({{"Name", C::kEquals, IndexValue::Text("gamma")}}), ElementsAre("d", "c"));
  EXPECT_THAT(locate({{"State", C::kEquals, IndexValue::Number(2)}}), ElementsAre("d", "c", "b"));
  // A number never matches text and vice versa.
  EXPECT_THAT(locate({{"State", C::kEquals, IndexValue::Text("2")}}), IsEmpty());
  EXPECT_THAT(locate({{"Name", C::kEquals, IndexValue::Text("gam")}}), IsEmpty());
  // Date ranges, inclusive.
  EXPECT_THAT(locate({{"Initial Date", C::kAtLeast, IndexValue::Number(300)}}),
              ElementsAre("e", "d", "c"));
  EXPECT_THAT(locate({{"Initial Date", C::kAtMost, IndexValue::Number(200)}}),
              ElementsAre("b", "a"));
  EXPECT_THAT(locate({{"Initial Date", C::kAtLeast, IndexValue::Number(200)},
                      {"Initial Date", C::kAtMost, IndexValue::Number(300)}}),
              ElementsAre("d", "c", "b"));
  // Several conditions: AND.
  EXPECT_THAT(locate({{"State", C::kEquals, IndexValue::Number(2)},
                      {"Initial Date", C::kAtMost, IndexValue::Number(250)},
                      {"x-Vendor", C::kEquals, IndexValue::Text("VMware, Inc.")}}),
              ElementsAre("b"));
  EXPECT_THAT(locate({{"State", C::kEquals, IndexValue::Number(2)},
                      {"Name", C::kEquals, IndexValue::Text("alpha")}}),
              IsEmpty());
  EXPECT_THAT(locate({{"No Such Attribute", C::kEquals, IndexValue::Number(2)}}), IsEmpty());
  // Text ranges compare bytewise.
  EXPECT_THAT(locate({{"Name", C::kAtLeast, IndexValue::Text("epsilon")},
                      {"Name", C::kAtMost, IndexValue::Text("gamma")}}),
              ElementsAre("e", "d", "c"));
  // Paging: maximum items and offset.
  EXPECT_THAT(locate({}, 2), ElementsAre("e", "d"));
  EXPECT_THAT(locate({}, 2, 2), ElementsAre("c", "b"));
  EXPECT_THAT(locate({}, 2, 4), ElementsAre("a"));
  EXPECT_THAT(locate({}, std::nullopt, 3), ElementsAre("b", "a"));
  EXPECT_THAT(locate({}, 0), IsEmpty());
  EXPECT_THAT(locate({{"State", C::kEquals, IndexValue::Number(2)}}, 1, 1), ElementsAre("c"));
}

TEST_F(SqliteStoreTest, LocateMatchesEachConditionByAnyEntryAndListsObjectsOnce) {
  auto store = Open();
  ObjectRecord r = MakeRecord("multi");
  r.index = {{"Name", IndexValue::Text("one")},
             {"Name", IndexValue::Text("two")},
             {"Initial Date", IndexValue::Number(10)},
             {"Initial Date", IndexValue::Number(20)}};
  ASSERT_TRUE(store->Insert(r).ok());
  using C = Condition;
  EXPECT_THAT(*store->Locate(MakeQuery("t1", {{"Name", C::kEquals, IndexValue::Text("one")},
                                              {"Name", C::kEquals, IndexValue::Text("two")}})),
              ElementsAre("multi"));
  EXPECT_THAT(
      *store->Locate(MakeQuery("t1", {{"Initial Date", C::kAtLeast, IndexValue::Number(0)}})),
      ElementsAre("multi"));
  EXPECT_THAT(*store->Locate(MakeQuery("t1", {{"Name", C::kAtLeast, IndexValue::Text("")}})),
              ElementsAre("multi"));
  // Update replaces the index: old names no longer match.
  r.revision = 1;
  r.index = {{"Name", IndexValue::Text("three")}};
  ASSERT_TRUE(store->Update(r).ok());
  EXPECT_THAT(*store->Locate(MakeQuery("t1", {{"Name", C::kEquals, IndexValue::Text("one")}})),
              IsEmpty());
  EXPECT_THAT(*store->Locate(MakeQuery("t1", {{"Name", C::kEquals, IndexValue::Text("three")}})),
              ElementsAre("multi"));
}

TEST_F(SqliteStoreTest, UpdateIsOptimistic) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("u")).ok());
  ObjectRecord first = *store->Get("t1", "u");
  ObjectRecord second = first;
  first.state = 2;
  ASSERT_TRUE(store->Update(first).ok());
  second.state = 5;
  Status st = store->Update(second);  // based on revision 1, now stale
  EXPECT_TRUE(IsConcurrentUpdate(st)) << st.ToString();
  EXPECT_FALSE(IsConcurrentUpdate(NotFoundError("x")));
  ObjectRecord now = *store->Get("t1", "u");
  EXPECT_EQ(now.state, 2u);
  EXPECT_EQ(now.revision, 2);
  // Re-read and retry succeeds.
  now.state = 5;
  ASSERT_TRUE(store->Update(now).ok());
  EXPECT_EQ(store->Get("t1", "u")->revision, 3);
  ObjectRecord ghost = MakeRecord("ghost");
  ghost.revision = 1;
  EXPECT_EQ(store->Update(ghost).code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, ConcurrentUpdatesOfOneObjectLoseNothing) {
  auto store = Open();
  ObjectRecord r = MakeRecord("counter");
  r.root_key_version = 0;
  ASSERT_TRUE(store->Insert(r).ok());
  constexpr int kThreads = 4, kIncrements = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements;) {
        ObjectRecord cur = *store->Get("t1", "counter");
        cur.root_key_version += 1;
        Status st = store->Update(cur);
        if (st.ok()) {
          ++i;
        } else {
          ASSERT_TRUE(IsConcurrentUpdate(st)) << st.ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ObjectRecord end = *store->Get("t1", "counter");
  EXPECT_EQ(end.root_key_version, static_cast<uint32_t>(kThreads * kIncrements));
  EXPECT_EQ(end.revision, 1 + kThreads * kIncrements);
}

TEST_F(SqliteStoreTest, Clients) {
  auto store = Open();
  EXPECT_THAT(*store->ListClients(), IsEmpty());
  ClientRecord vc{"vcenter", "t1", "CN=vcenter", "ab01", "-----BEGIN CERTIFICATE-----\n", 1700};
  ClientRecord host{"host-1", "t1", "CN=host-1", "cd02", "pem2", 1800};
  ASSERT_TRUE(store->PutClient(vc).ok());
  ASSERT_TRUE(store->PutClient(host).ok());
  EXPECT_THAT(*store->ListClients(), ElementsAre(host, vc));  // by name
  EXPECT_EQ(*store->FindClientByFingerprint("ab01"), vc);
  EXPECT_EQ(store->FindClientByFingerprint("ffff").status().code(), StatusCode::kNotFound);

  ClientRecord same_name = host;
  same_name.sha256_fingerprint = "ee03";
  EXPECT_EQ(store->PutClient(same_name).code(), StatusCode::kAlreadyExists);
  ClientRecord same_fp = host;
  same_fp.name = "other";
  EXPECT_EQ(store->PutClient(same_fp).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->PutClient({"", "t1", "", "aa", "", 0}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutClient({"n", "t1", "", "", "", 0}).code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(store->RemoveClient("vcenter").ok());
  EXPECT_EQ(store->RemoveClient("vcenter").code(), StatusCode::kNotFound);
  EXPECT_EQ(store->FindClientByFingerprint("ab01").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(*store->ListClients(), ElementsAre(host));
}

TEST_F(SqliteStoreTest, ErrorsDoNotLeakRecordContents) {
  auto store = Open();
  ObjectRecord r = MakeRecord("u");
  r.attributes = {'S', 'E', 'C', 'R', 'E', 'T'};
  ASSERT_TRUE(store->Insert(r).ok());
  Status st = store->Insert(r);
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(st.message().find("SECRET"), std::string::npos);
  EXPECT_EQ(st.message().find("name-u"), std::string::npos);
}

TEST_F(SqliteStoreTest, ReopenKeepsEverything) {
  ObjectRecord r = MakeRecord("persist");
  ClientRecord c{"vc", "t1", "CN=vc", "fp", "pem", 5};
  {
    auto store = Open();
    ASSERT_TRUE(store->Insert(r).ok());
    ASSERT_TRUE(store->PutClient(c).ok());
    r.revision = 1;
    r.state = 3;
    ASSERT_TRUE(store->Update(r).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  r.revision = 2;
  EXPECT_EQ(*store->Get("t1", "persist"), r);
  EXPECT_EQ(*store->FindClientByFingerprint("fp"), c);
  EXPECT_THAT(*store->Locate(MakeQuery(
                  "t1", {{"Name", Condition::kEquals, IndexValue::Text("name-persist")}})),
              ElementsAre("persist"));
}

TEST_F(SqliteStoreTest, RejectsBadPathsAndOptions) {
  EXPECT_EQ(OpenSqliteStore(":memory:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSqliteStore("").status().code(), StatusCode::kInvalidArgument);
  SqliteOptions bad;
  bad.max_batch = 0;
  EXPECT_EQ(OpenSqliteStore(DbPath(), bad).status().code(), StatusCode::kInvalidArgument);
  SqliteOptions no_wal;
  no_wal.max_wal_frames = 0;
  EXPECT_EQ(OpenSqliteStore(DbPath(), no_wal).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(OpenSqliteStore((dir_.path() / "no" / "such" / "dir.db").string()).ok());
}

// The nice value of each of this process's threads named `name`.
std::vector<int> NiceOfThreads(const std::string& name) {
  std::vector<int> nice;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    std::getline(comm, line);
    if (line != name) continue;
    errno = 0;
    const int value = getpriority(PRIO_PROCESS, std::stoi(task.path().filename().string()));
    if (errno == 0) nice.push_back(value);
  }
  return nice;
}

// Every durable write waits for the writer (its commit) and the syncer (the
// WAL flush): both run ahead of the request threads when the process may
// raise priorities, and the checkpointer behind them.
TEST_F(SqliteStoreTest, ThreadsOnTheDurablePathRunAheadOfTheRest) {
  const int process_nice = getpriority(PRIO_PROCESS, 0);
  bool may_raise = false;
  std::thread([&] { may_raise = SetCurrentThreadNice(process_nice - 1); }).join();
  const int durable = may_raise ? -10 : process_nice;
  const int background = may_raise ? 5 : std::max(5, process_nice);

  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("uid-1")).ok());  // the writer and syncer ran
  const std::vector<int> want_durable{durable};
  const std::vector<int> want_background{background};
  // The checkpointer sets its own on its way in: wait for it.
  for (int i = 0; i < 500 && NiceOfThreads("store-ckpt") != want_background; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(NiceOfThreads("store-writer"), want_durable);
  EXPECT_EQ(NiceOfThreads("store-sync"), want_durable);
  EXPECT_EQ(NiceOfThreads("store-ckpt"), want_background);
}

}  // namespace
}  // namespace vmcrypt::store

namespace vmcrypt::store {
namespace {

// The writer leaves checkpoints to the checkpointer thread: under a steady
// stream of commits the WAL is still copied back and reused, so it stays
// bounded instead of growing with every write.
TEST_F(StoreTest, CheckpointsKeepTheWalBounded) {
  SqliteOptions options;
  options.max_wal_frames = 10000;  // about 40 MiB
  auto store = Open(options);
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 1500; ++i) {
        ObjectRecord r = MakeRecord("w" + std::to_string(t) + "-" + std::to_string(i), "t1",
                                    1000 + i, "name-" + std::to_string(i));
        const Status st = store->Insert(r);
        ASSERT_TRUE(st.ok()) << st.ToString();
      }
    });
  }
  for (auto& w : writers) w.join();
  const auto wal = std::filesystem::file_size(DbPath() + "-wal");
  // 12,000 objects: well over 100 MiB of WAL frames written in all.
  EXPECT_LT(wal, 48u << 20) << "the WAL was never checkpointed";
  // The checkpointer runs about once per 500 new WAL frames, not after
  // every commit.
  const StoreStats stats = store->stats();
  EXPECT_GE(stats.checkpoints, 1);
  EXPECT_LT(stats.checkpoints * 5, stats.transactions)
      << stats.checkpoints << " checkpoint passes for " << stats.transactions << " commits";
  EXPECT_GT(std::filesystem::file_size(DbPath()), 1u << 20) << "nothing reached the database";
}

}  // namespace
}  // namespace vmcrypt::store
