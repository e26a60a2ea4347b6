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
#include <cstdio>
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
  if (IsWal(fd)) RaiseTo(g_last_wal_write, g_clock.fetch_add(1));
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

}  // namespace
}  // namespace vmcrypt::store
