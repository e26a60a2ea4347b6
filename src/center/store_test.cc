#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "src/base/test_dir.h"
#include "vmcrypt/center/store.h"

namespace vmcrypt::center {
namespace {

class CenterStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_["center.db"]; }

  std::unique_ptr<CenterStore> Open() {
    auto store = OpenSqliteCenterStore(DbPath());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs one statement on the database outside the store.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  test::TestDir dir_{"center-store"};
};

TEST_F(CenterStoreTest, InsertGetPutDelete) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert("vms", "vm1", Json{{"name", "web"}, {"cpus", 2}}).ok());

  Result<Json> got = store->Get("vms", "vm1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["name"], "web");
  EXPECT_EQ((*got)["cpus"], 2);

  Status again = store->Insert("vms", "vm1", Json{{"name", "other"}});
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(), "vms vm1 already exists");
  EXPECT_EQ((*store->Get("vms", "vm1"))["name"], "web");

  ASSERT_TRUE(store->Put("vms", "vm1", Json{{"name", "db"}}).ok());
  EXPECT_EQ(*store->Get("vms", "vm1"), (Json{{"name", "db"}}));
  ASSERT_TRUE(store->Put("vms", "vm2", Json{{"name", "new"}}).ok());  // Put also creates
  EXPECT_EQ((*store->Get("vms", "vm2"))["name"], "new");

  // Collections are separate name spaces.
  Result<Json> other = store->Get("hosts", "vm1");
  EXPECT_EQ(other.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(other.status().message(), "no hosts vm1");

  ASSERT_TRUE(store->Delete("vms", "vm1").ok());
  Result<Json> gone = store->Get("vms", "vm1");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "no vms vm1");
  Status del = store->Delete("vms", "vm1");
  EXPECT_EQ(del.code(), StatusCode::kNotFound);
  EXPECT_EQ(del.message(), "no vms vm1");
}

TEST_F(CenterStoreTest, EmptyNamesAreRejected) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Insert("vms", "", Json::object()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Put("", "x", Json::object()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Get("vms", "").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CenterStoreTest, InvalidUtf8IsAnErrorNotAnException) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Status st = store->Put("vms", "vm1", Json{{"name", std::string("\xff\xfe", 2)}});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_EQ(store->Get("vms", "vm1").status().code(), StatusCode::kNotFound);
}

TEST_F(CenterStoreTest, ListIsOrderedByIdAndPerCollection) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (std::string id : {"c", "a", "b"}) {
    ASSERT_TRUE(store->Put("hosts", id, Json{{"id", id}}).ok());
  }
  ASSERT_TRUE(store->Put("vms", "a", Json{{"id", "vm"}}).ok());
  Result<std::vector<Json>> hosts = store->List("hosts");
  ASSERT_TRUE(hosts.ok()) << hosts.status().ToString();
  ASSERT_EQ(hosts->size(), 3u);
  EXPECT_EQ((*hosts)[0]["id"], "a");
  EXPECT_EQ((*hosts)[1]["id"], "b");
  EXPECT_EQ((*hosts)[2]["id"], "c");
  Result<std::vector<Json>> none = store->List("alarms");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(CenterStoreTest, UpdateChangesAndReturnsTheDocument) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert("tasks", "t1", Json{{"state", "queued"}}).ok());
  Result<Json> updated = store->Update("tasks", "t1", [](Json& doc) {
    doc["state"] = "running";
    return OkStatus();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["state"], "running");
  EXPECT_EQ((*store->Get("tasks", "t1"))["state"], "running");

  Result<Json> missing = store->Update("tasks", "t2", [](Json&) { return OkStatus(); });
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "no tasks t2");
}

TEST_F(CenterStoreTest, FailedUpdateWritesNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert("tasks", "t1", Json{{"state", "queued"}}).ok());
  Result<Json> failed = store->Update("tasks", "t1", [](Json& doc) {
    doc["state"] = "half-changed";
    return FailedPreconditionError("task t1 is not running");
  });
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.status().message(), "task t1 is not running");
  EXPECT_EQ((*store->Get("tasks", "t1"))["state"], "queued");

  // A callback that throws (misreading the document) is an error, not a crash.
  Result<Json> threw = store->Update("tasks", "t1", [](Json& doc) {
    doc["state"] = "changed";
    int n = doc["state"].get<int>();  // throws type_error
    doc["n"] = n;
    return OkStatus();
  });
  EXPECT_EQ(threw.status().code(), StatusCode::kInternal);
  EXPECT_EQ((*store->Get("tasks", "t1"))["state"], "queued");

  // The store still works after both rollbacks.
  ASSERT_TRUE(store
                  ->Update("tasks", "t1",
                           [](Json& doc) {
                             doc["state"] = "done";
                             return OkStatus();
                           })
                  .ok());
  EXPECT_EQ((*store->Get("tasks", "t1"))["state"], "done");
}

TEST_F(CenterStoreTest, ConcurrentUpdatesLoseNothing) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert("settings", "counter", Json{{"n", 0}}).ok());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Result<Json> r = store->Update("settings", "counter", [](Json& doc) {
          doc["n"] = doc["n"].get<int>() + 1;
          return OkStatus();
        });
        if (!r.ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*store->Get("settings", "counter"))["n"], kThreads * kPerThread);
}

TEST_F(CenterStoreTest, EventsAreNumberedAndListedAfterN) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 5; ++i) {
    Result<int64_t> n = store->AppendEvent(Json{{"message", "event " + std::to_string(i)}});
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, i);
  }
  Result<std::vector<Json>> all = store->ListEvents(0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0]["id"], 1);
  EXPECT_EQ((*all)[0]["message"], "event 1");
  EXPECT_EQ((*all)[4]["id"], 5);

  Result<std::vector<Json>> page = store->ListEvents(2, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0]["id"], 3);
  EXPECT_EQ((*page)[1]["id"], 4);

  EXPECT_TRUE(store->ListEvents(5, 10)->empty());
  EXPECT_TRUE(store->ListEvents(0, 0)->empty());
  EXPECT_EQ(store->ListEvents(0, SIZE_MAX)->size(), 5u);

  // The newest N, oldest first.
  Result<std::vector<Json>> recent = store->ListRecentEvents(2);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0]["id"], 4);
  EXPECT_EQ((*recent)[1]["id"], 5);
  EXPECT_EQ(store->ListRecentEvents(100)->size(), 5u);
  EXPECT_TRUE(store->ListRecentEvents(0)->empty());

  EXPECT_EQ(store->AppendEvent(Json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*store->AppendEvent(Json{{"message", "after a rejected one"}}), 6);
}

TEST_F(CenterStoreTest, DataSurvivesReopen) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put("clusters", "c1", Json{{"name", "prod"}}).ok());
    ASSERT_TRUE(store->AppendEvent(Json{{"message", "created c1"}}).ok());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ((*store->Get("clusters", "c1"))["name"], "prod");
  ASSERT_EQ(store->ListEvents(0, 10)->size(), 1u);
  // Event numbers continue after a reopen.
  EXPECT_EQ(*store->AppendEvent(Json{{"message", "second"}}), 2);
}

TEST_F(CenterStoreTest, FilesArePrivateAndListed) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("vms", "vm1", Json{{"name", "x"}}).ok());
  std::vector<std::string> files = store->Files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0], DbPath());
  EXPECT_EQ(files[1], DbPath() + "-wal");
  EXPECT_EQ(files[2], DbPath() + "-shm");
  for (const std::string& f : files) {
    struct stat st {};
    ASSERT_EQ(stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
}

TEST_F(CenterStoreTest, GarbageFileGivesAClearError) {
  {
    std::ofstream f(DbPath(), std::ios::binary);
    f << std::string(8192, 'x');
  }
  Result<std::unique_ptr<CenterStore>> store = OpenSqliteCenterStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find(DbPath()), std::string::npos)
      << store.status().ToString();
  EXPECT_NE(store.status().message().find("file is not a database"), std::string::npos)
      << store.status().ToString();
}

TEST_F(CenterStoreTest, NewerSchemaIsRefused) {
  { ASSERT_NE(Open(), nullptr); }
  RawExec("PRAGMA user_version = 7");
  Result<std::unique_ptr<CenterStore>> store = OpenSqliteCenterStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 7"), std::string::npos)
      << store.status().ToString();
  EXPECT_NE(store.status().message().find(DbPath()), std::string::npos);
}

TEST_F(CenterStoreTest, AnotherApplicationsDatabaseIsRefused) {
  RawExec("CREATE TABLE t(x)");
  Result<std::unique_ptr<CenterStore>> store = OpenSqliteCenterStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("another application"), std::string::npos)
      << store.status().ToString();
}

TEST_F(CenterStoreTest, CorruptDocumentIsDataLoss) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Put("vms", "vm1", Json{{"name", "x"}}).ok());
  }
  RawExec("UPDATE documents SET body = '{not json' WHERE id = 'vm1'");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Result<Json> got = store->Get("vms", "vm1");
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("vms vm1"), std::string::npos);
  EXPECT_EQ(store->List("vms").status().code(), StatusCode::kDataLoss);
}

TEST_F(CenterStoreTest, BadPathIsRejected) {
  EXPECT_EQ(OpenSqliteCenterStore("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSqliteCenterStore(":memory:").status().code(), StatusCode::kInvalidArgument);
  Result<std::unique_ptr<CenterStore>> missing_dir =
      OpenSqliteCenterStore((dir_.path() / "no-such-dir" / "center.db").string());
  EXPECT_EQ(missing_dir.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vmcrypt::center
