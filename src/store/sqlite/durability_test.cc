// Concurrency, group commit, crash durability and on-disk format checks of
// the SQLite ObjectStore.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/store/sqlite/test_util.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::store {
namespace {

using DurabilityTest = StoreTest;

// Runs `sql` on the database file directly; returns the first column of the
// first row ("" if none).
std::string RawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string out;
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

TEST_F(DurabilityTest, ConcurrentInsertsAllLandWithRevisionOneInFewerCommits) {
  auto store = Open();
  constexpr int kThreads = 8, kPerThread = 500;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ObjectRecord r = MakeRecord("t" + std::to_string(t) + "-" + std::to_string(i), "t1", i);
        if (!store->Insert(r).ok()) ++failures;
      }
    });
  }
  // Reads run alongside the writes (separate connections, WAL).
  std::thread reader([&] {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(store->Count("t1").ok());
      ASSERT_TRUE(store->Locate(MakeQuery("t1", {}, 10)).ok());
    }
  });
  for (auto& t : threads) t.join();
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(*store->Count("t1"), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      Result<ObjectRecord> r = store->Get("t1", "t" + std::to_string(t) + "-" + std::to_string(i));
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->revision, 1);
    }
  }
  StoreStats stats = store->stats();
  EXPECT_EQ(stats.writes, kThreads * kPerThread);
  // Group commit: writers that queued during one fsync share the next one.
  EXPECT_LT(stats.transactions, stats.writes);
  EXPECT_GT(stats.largest_batch, 1);
  EXPECT_LE(stats.largest_batch, SqliteOptions{}.max_batch);
  // One commit per flush: writes that arrive while the WAL is being flushed
  // join the open transaction instead of committing on their own, so every
  // page they share goes to the WAL once per flush. (No batch reaches
  // max_batch here, the only other reason to commit during a flush.)
  EXPECT_LE(stats.transactions, stats.syncs);
  std::printf("group commit: %lld writes in %lld transactions, %lld flushes (largest batch %lld)\n",
              static_cast<long long>(stats.writes), static_cast<long long>(stats.transactions),
              static_cast<long long>(stats.syncs), static_cast<long long>(stats.largest_batch));
}

TEST_F(DurabilityTest, AFailingWriteInABatchFailsOnlyItsCaller) {
  SqliteOptions options;
  options.max_batch = 64;
  auto store = Open(options);
  ASSERT_TRUE(store->Insert(MakeRecord("taken")).ok());
  constexpr int kThreads = 8, kPerThread = 100;
  std::atomic<int> ok{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every other write collides with an existing uid.
        std::string uid = i % 2 ? "taken" : "w" + std::to_string(t) + "-" + std::to_string(i);
        Status st = store->Insert(MakeRecord(uid));
        if (st.ok()) {
          ++ok;
        } else if (st.code() == StatusCode::kAlreadyExists) {
          ++exists;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread / 2);
  EXPECT_EQ(exists.load(), kThreads * kPerThread / 2);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(*store->Count("t1"), 1 + kThreads * kPerThread / 2);
  // The failed inserts left no index entries: one "taken" name only.
  EXPECT_EQ(
      store->Locate(MakeQuery("t1", {{"Name", Condition::kEquals, IndexValue::Text("name-taken")}}))
          ->size(),
      1u);
}

TEST_F(DurabilityTest, DestructorDrainsPendingWrites) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  {
    auto store = Open();
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          if (store->Insert(MakeRecord("d" + std::to_string(t) + "-" + std::to_string(i))).ok()) {
            ++ok;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  auto store = Open();
  EXPECT_EQ(*store->Count("t1"), ok.load());
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(DurabilityTest, CreatesPrivateFilesInWalMode) {
  {
    auto store = Open();
    ASSERT_TRUE(store->Insert(MakeRecord("x")).ok());
    struct stat st;
    ASSERT_EQ(stat(DbPath().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(stat((DbPath() + "-wal").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA integrity_check"), "ok");
}

// A version 1 store (full secondary Locate indexes) is migrated on open to
// version 2 (partial indexes), keeping every object findable.
// Shared entries are stored once per distinct combination and tenant (a
// profile): a hundred keys alike make one profile, not a hundred sets of
// entries. Objects read back exactly as stored (order and flags), Locate
// matches shared and own entries alike, and an update moves an object to
// the profile of its new values.
TEST_F(DurabilityTest, SharedEntriesAreStoredOncePerProfile) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto record = [](const std::string& uid, const std::string& tenant, int64_t state) {
    ObjectRecord r = MakeRecord(uid, tenant);
    r.state = static_cast<uint32_t>(state);
    // Shared and own entries interleaved, a name twice.
    r.index = {{"Object Type", IndexValue::Number(2), true},
               {"Name", IndexValue::Text("name-" + uid)},
               {"State", IndexValue::Number(state), true},
               {"Name", IndexValue::Text("alias-" + uid)},
               {"Random Number Generator", IndexValue::Text("drbg"), true},
               {"Initial Date", IndexValue::Number(1000)}};
    return r;
  };
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store->Insert(record("k" + std::to_string(i), "t1", 1)).ok());
  }
  ASSERT_TRUE(store->Insert(record("other", "t2", 1)).ok());
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM profiles"), "2");  // t1's and t2's
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM profile_entries"), "6");
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM index_entries"), "303");  // 3 own each

  auto got = store->Get("t1", "k7");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->index, record("k7", "t1", 1).index);

  auto locate = [&](const std::string& tenant, std::vector<Condition> all_of) {
    auto found = store->Locate(MakeQuery(tenant, std::move(all_of)));
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    return found.ok() ? *found : std::vector<std::string>{};
  };
  EXPECT_EQ(locate("t1", {{"State", Condition::kEquals, IndexValue::Number(1)}}).size(), 100u);
  EXPECT_EQ(locate("t2", {{"State", Condition::kEquals, IndexValue::Number(1)}}),
            std::vector<std::string>{"other"});
  EXPECT_EQ(locate("t1", {{"Name", Condition::kEquals, IndexValue::Text("alias-k7")},
                          {"Random Number Generator", Condition::kEquals, IndexValue::Text("drbg")},
                          {"Object Type", Condition::kAtLeast, IndexValue::Number(2)}}),
            std::vector<std::string>{"k7"});
  EXPECT_TRUE(locate("t1", {{"Name", Condition::kEquals, IndexValue::Text("name-k7")},
                            {"State", Condition::kEquals, IndexValue::Number(2)}})
                  .empty());

  ObjectRecord active = record("k7", "t1", 2);
  active.revision = got->revision;
  ASSERT_TRUE(store->Update(active).ok());
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM profiles"), "3");
  EXPECT_EQ(locate("t1", {{"State", Condition::kEquals, IndexValue::Number(1)}}).size(), 99u);
  EXPECT_EQ(locate("t1", {{"State", Condition::kEquals, IndexValue::Number(2)}}),
            std::vector<std::string>{"k7"});
  got = store->Get("t1", "k7");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->index, active.index);
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA integrity_check"), "ok");
}

// What versions 1 and 2 wrote: every entry the object's own (no profiles).
ObjectRecord OldRecord(std::string uid) {
  ObjectRecord r = MakeRecord(std::move(uid));
  for (IndexEntry& e : r.index) e.shared = false;
  return r;
}

TEST_F(DurabilityTest, MigratesAVersion1Store) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Insert(OldRecord("before")).ok());
    ASSERT_TRUE(store->Insert(OldRecord("updated")).ok());
  }
  // Turn it back into what version 1 wrote.
  for (const char* sql :
       {"DROP INDEX objects_by_profile", "DROP TABLE profile_entries", "DROP TABLE profiles",
        "ALTER TABLE objects DROP COLUMN profile", "DROP INDEX index_entries_by_num",
        "DROP INDEX index_entries_by_text",
        "CREATE INDEX index_entries_by_num ON index_entries(tenant, name, num_value)",
        "CREATE INDEX index_entries_by_text ON index_entries(tenant, name, text_value)",
        "PRAGMA user_version = 1"}) {
    RawQuery(DbPath(), sql);
  }
  ASSERT_EQ(RawQuery(DbPath(), "PRAGMA user_version"), "1");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(RawQuery(DbPath(),
                     "SELECT count(*) FROM sqlite_schema WHERE name LIKE "
                     "'index_entries_by_%' AND sql LIKE '%IS NOT NULL'"),
            "2");
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM objects WHERE profile = 0"), "2");
  // A new object puts State in a profile; an updated old one moves there.
  ASSERT_TRUE(store->Insert(MakeRecord("after")).ok());
  auto old = store->Get("t1", "updated");
  ASSERT_TRUE(old.ok());
  ObjectRecord moved = MakeRecord("updated");
  moved.revision = old->revision;
  ASSERT_TRUE(store->Update(moved).ok());
  EXPECT_EQ(RawQuery(DbPath(), "SELECT count(*) FROM objects WHERE profile = 0"), "1");
  for (const char* uid : {"before", "updated", "after"}) {
    auto found = store->Locate(
        MakeQuery("t1", {{"Name", Condition::kEquals, IndexValue::Text(std::string("name-") + uid)},
                         {"State", Condition::kEquals, IndexValue::Number(1)}}));
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, std::vector<std::string>{uid});
  }
  // State=1 finds the old object by its own entry and the others by their
  // profile, once each.
  auto all = store->Locate(MakeQuery("t1", {{"State", Condition::kEquals, IndexValue::Number(1)}}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA integrity_check"), "ok");
}

TEST_F(DurabilityTest, RefusesANewerSchema) {
  { ASSERT_NE(Open(), nullptr); }
  RawQuery(DbPath(), "PRAGMA user_version = 99");
  Result<std::unique_ptr<ObjectStore>> store = OpenSqliteStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 99, newer than this vmcrypt supports"),
            std::string::npos)
      << store.status().ToString();
}

TEST_F(DurabilityTest, RefusesAnotherApplicationsDatabase) {
  RawQuery(DbPath(), "CREATE TABLE notes(body TEXT)");
  Result<std::unique_ptr<ObjectStore>> store = OpenSqliteStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("another application"), std::string::npos)
      << store.status().ToString();
}

TEST_F(DurabilityTest, CorruptFileGivesAClearError) {
  {
    std::ofstream f(DbPath(), std::ios::binary);
    std::string garbage(64 * 1024, '\0');
    uint32_t x = 12345;
    for (char& c : garbage) {
      x = x * 1103515245 + 12345;
      c = static_cast<char>(x >> 24);
    }
    f << garbage;
  }
  Result<std::unique_ptr<ObjectStore>> store = OpenSqliteStore(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("file is not a database"), std::string::npos)
      << store.status().ToString();
}

TEST_F(DurabilityTest, CorruptPagesAreReportedNotCrashedOn) {
  {
    auto store = Open();
    for (int i = 0; i < 300; ++i)
      ASSERT_TRUE(store->Insert(MakeRecord("c" + std::to_string(i))).ok());
  }
  RawQuery(DbPath(), "PRAGMA wal_checkpoint(TRUNCATE)");
  {
    // Overwrite everything after the first page (the header stays valid).
    std::fstream f(DbPath(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(4096);
    std::string junk(64 * 1024, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  Result<std::unique_ptr<ObjectStore>> store = OpenSqliteStore(DbPath());
  if (!store.ok()) {
    EXPECT_EQ(store.status().code(), StatusCode::kDataLoss) << store.status().ToString();
    return;
  }
  Result<ObjectRecord> r = (*store)->Get("t1", "c7");
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  }
  Result<int64_t> n = (*store)->Count("t1");
  if (!n.ok()) {
    EXPECT_EQ(n.status().code(), StatusCode::kDataLoss) << n.status().ToString();
  }
  EXPECT_FALSE(r.ok() && n.ok());
}

// The child of KillDashNine: inserts from 4 threads forever and writes each
// acknowledged uid to `fd`, one line per ack, until it is killed.
[[noreturn]] void InsertAndAckForever(const std::string& path, int fd) {
  Result<std::unique_ptr<ObjectStore>> store = OpenSqliteStore(path);
  if (!store.ok()) _exit(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        const std::string uid = "k" + std::to_string(t) + "-" + std::to_string(i);
        if (!(*store)->Insert(MakeRecord(uid, "t1", i)).ok()) _exit(3);
        const std::string line = uid + "\n";
        // Lines are shorter than PIPE_BUF, so each write is atomic.
        if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
      }
    });
  }
  for (;;) pause();
}

TEST_F(DurabilityTest, KillDashNineLosesNoAcknowledgedWrite) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    InsertAndAckForever(DbPath(), fds[1]);
  }
  close(fds[1]);
  // Read acks for about a second while the child is under load.
  std::string acks;
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      acks.append(buf, static_cast<size_t>(n));
    } else {
      usleep(1000);
    }
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
  // Acks written before the kill are still in the pipe.
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    acks.append(buf, static_cast<size_t>(n));
  close(fds[0]);

  std::vector<std::string> uids;
  for (size_t pos = 0, nl; (nl = acks.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    uids.push_back(acks.substr(pos, nl - pos));
  }
  ASSERT_GT(uids.size(), 10u) << "the child made too little progress to test anything";
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA integrity_check"), "ok");
  // Every index entry belongs to an object (the reference is not enforced).
  EXPECT_EQ(RawQuery(DbPath(), "PRAGMA foreign_key_check"), "");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  size_t missing = 0;
  for (const std::string& uid : uids) {
    if (!store->Get("t1", uid).ok()) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << uids.size() << " acknowledged inserts";
  // Some writes may have committed without their ack reaching the pipe.
  EXPECT_GE(*store->Count("t1"), static_cast<int64_t>(uids.size()));
  std::printf("kill -9: %zu acknowledged inserts, all present after reopen\n", uids.size());
}

}  // namespace
}  // namespace vmcrypt::store
