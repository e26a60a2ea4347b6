// A write the SQLite store reports done is on disk: no caller learns that its
// write succeeded before an fdatasync(2) of the WAL that began after the
// write's frames were written to it. The WAL is flushed by the store's
// syncer thread, not inside COMMIT (sqlite_store.cc, SyncLoop), so this is
// the store's own guarantee, not SQLite's.
//
// This test binary interposes fdatasync, fsync and pwrite: every call on a
// file whose name ends in "-wal" takes a ticket from one clock, so the test
// can tell which WAL flush started after which WAL write.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "src/store/sqlite/test_util.h"

namespace {

std::atomic<int64_t> g_clock{1};
// Ticket taken when the latest WAL write began.
std::atomic<int64_t> g_last_wal_write{0};
// Largest start ticket among the WAL flushes that have completed.
std::atomic<int64_t> g_flushed_from{0};
std::atomic<int64_t> g_wal_flushes{0};
std::atomic<int64_t> g_wal_writes{0};
// When set, the next pwrite to a WAL fails with ENOSPC (a full disk).
std::atomic<bool> g_fail_next_wal_write{false};

bool IsWal(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[4096];
  const ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  return std::string_view(target, static_cast<size_t>(n)).ends_with("-wal");
}

void RaiseTo(std::atomic<int64_t>& value, int64_t to) {
  int64_t seen = value.load();
  while (seen < to && !value.compare_exchange_weak(seen, to)) {
  }
}

template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

int Flush(int fd, int (*real)(int)) {
  const bool wal = IsWal(fd);
  const int64_t start = g_clock.fetch_add(1);
  const int rc = real(fd);
  if (wal && rc == 0) {
    ++g_wal_flushes;
    RaiseTo(g_flushed_from, start);
  }
  return rc;
}

ssize_t Write(int fd, const void* buf, size_t count, off_t offset,
              ssize_t (*real)(int, const void*, size_t, off_t)) {
  if (IsWal(fd)) {
    if (g_fail_next_wal_write.exchange(false)) {
      errno = ENOSPC;
      return -1;
    }
    ++g_wal_writes;
    RaiseTo(g_last_wal_write, g_clock.fetch_add(1));
  }
  return real(fd, buf, count, offset);
}

}  // namespace

extern "C" {
int fdatasync(int fd) {
  static const auto real = Next<int (*)(int)>("fdatasync");
  return Flush(fd, real);
}
int fsync(int fd) {
  static const auto real = Next<int (*)(int)>("fsync");
  return Flush(fd, real);
}
ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static const auto real = Next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  return Write(fd, buf, count, offset, real);
}
ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  static const auto real = Next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite64");
  return Write(fd, buf, count, offset, real);
}
}

namespace vmcrypt::store {
namespace {

class SyncOrderTest : public StoreTest {};

TEST_F(SyncOrderTest, EveryWriteIsFlushedBeforeItsCallerIsAnswered) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // One writer at a time: no other transaction writes to the WAL between a
  // write's commit and its answer, so the last WAL write before the answer
  // is this write's own.
  for (int i = 0; i < 40; ++i) {
    const int64_t writes_before = g_last_wal_write.load();
    ASSERT_TRUE(store->Insert(MakeRecord("seq-" + std::to_string(i))).ok());
    const int64_t written = g_last_wal_write.load();
    ASSERT_GT(written, writes_before) << "write " << i << " wrote nothing to the WAL";
    EXPECT_GT(g_flushed_from.load(), written)
        << "write " << i << " was answered before a flush of its WAL frames";
  }
  EXPECT_GE(store->stats().syncs, 40);
  EXPECT_GE(g_wal_flushes.load(), 40);
}

TEST_F(SyncOrderTest, ConcurrentWritesShareFlushesAndWaitForOne) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> unflushed{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t submitted = g_clock.fetch_add(1);
        if (!store->Insert(MakeRecord("c-" + std::to_string(t) + "-" + std::to_string(i))).ok()) {
          ++failed;
          continue;
        }
        // Some flush that began after this write was submitted is complete.
        if (g_flushed_from.load() <= submitted) ++unflushed;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(unflushed.load(), 0);
  const StoreStats stats = store->stats();
  EXPECT_EQ(stats.writes, kThreads * kPerThread);
  // One flush covers every batch committed while the previous one ran.
  EXPECT_GE(stats.syncs, 1);
  EXPECT_LE(stats.syncs, stats.transactions);
  EXPECT_EQ(store->Count("t1").value(), kThreads * kPerThread);
}

// wal_vfs.h: a commit's frames reach the WAL in one write call, not two per
// frame (a 24-byte header, then the page), and what was committed reads back.
TEST_F(SyncOrderTest, ACommitWritesItsWalFramesInOneCall) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Insert(MakeRecord("first")).ok());  // the WAL's header is written
  std::vector<ObjectRecord> batch;
  for (int i = 0; i < 600; ++i) batch.push_back(MakeRecord("batch-" + std::to_string(i)));
  const int64_t wal_size_before = std::filesystem::file_size(DbPath() + "-wal");
  const int64_t writes_before = g_wal_writes.load();
  ASSERT_TRUE(store->InsertAndUpdate(batch, {}).ok());
  const int64_t calls = g_wal_writes.load() - writes_before;
  const int64_t frames =
      (static_cast<int64_t>(std::filesystem::file_size(DbPath() + "-wal")) - wal_size_before) /
      (24 + 4096);
  EXPECT_GE(frames, 20) << "the batch should span many pages";
  EXPECT_EQ(calls, 1) << frames << " frames written in " << calls << " calls";
  for (const ObjectRecord& r : batch) {
    Result<ObjectRecord> got = store->Get("t1", r.uid);
    ASSERT_TRUE(got.ok()) << r.uid << ": " << got.status().ToString();
    EXPECT_EQ(got->wrapped_material, r.wrapped_material);
  }
}

// A commit whose WAL write fails (here: the disk is full) fails its own
// callers with the reason and loses nothing that was committed before; the
// store goes on taking writes, and a reopened store has exactly the
// committed records.
TEST_F(SyncOrderTest, AFailedWalWriteFailsOnlyThatCommit) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Insert(MakeRecord("before")).ok());
    g_fail_next_wal_write = true;
    const Status failed = store->Insert(MakeRecord("lost"));
    EXPECT_FALSE(failed.ok());
    EXPECT_NE(failed.ToString().find("disk is full"), std::string::npos) << failed.ToString();
    EXPECT_FALSE(g_fail_next_wal_write.load()) << "no WAL write was attempted";
    EXPECT_EQ(store->Get("t1", "lost").status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(store->Insert(MakeRecord("after")).ok());
    EXPECT_TRUE(store->Get("t1", "before").ok());
    EXPECT_TRUE(store->Get("t1", "after").ok());
  }
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->Get("t1", "before").ok());
  EXPECT_TRUE(reopened->Get("t1", "after").ok());
  EXPECT_EQ(reopened->Get("t1", "lost").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reopened->Count("t1").value(), 2);
}

}  // namespace
}  // namespace vmcrypt::store
