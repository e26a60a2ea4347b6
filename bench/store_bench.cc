// SQLite ObjectStore throughput: durable inserts (group commit, 1 and 16
// threads), Get by uid and Locate among N = 100k objects. bench/run_all.sh
// prints these next to the sqlite3 CLI doing one durable INSERT per
// transaction. The database lives in $VMCRYPT_BENCH_DIR (default: the
// current folder) so that fsync costs what it costs on the real disk.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_dir.h"
#include "vmcrypt/store/object_store.h"
#include "vmcrypt/store/sqlite_store.h"

namespace {

using vmcrypt::store::Condition;
using vmcrypt::store::IndexValue;
using vmcrypt::store::ObjectRecord;
using vmcrypt::store::ObjectStore;
using vmcrypt::store::Query;

constexpr int kObjects = 100'000;

using vmcrypt::bench::BenchDir;

BenchDir& Dir() {
  static BenchDir dir("store_bench");
  return dir;
}

std::unique_ptr<ObjectStore> OpenOrDie(const std::string& path) {
  auto store = vmcrypt::store::OpenSqliteStore(path);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    std::abort();
  }
  return std::move(store).value();
}

// A vCenter-like AES-256 key: 40-byte RFC 3394 wrapped key, ~300 bytes of
// TTLV attributes, five index entries.
ObjectRecord MakeKey(int64_t i) {
  ObjectRecord r;
  r.uid = "uid-" + std::to_string(i);
  r.tenant = "default";
  r.object_type = 2;
  r.state = 2;
  r.created = 1'700'000'000 + i;
  r.root_key_version = 1;
  r.wrapped_material.assign(40, static_cast<uint8_t>(i));
  r.attributes.assign(300, 0x42);
  r.index = {{"Name", IndexValue::Text("vm-key-" + std::to_string(i))},
             {"State", IndexValue::Number(2 + i % 3)},
             {"Object Type", IndexValue::Number(2)},
             {"Initial Date", IndexValue::Number(r.created)},
             {"x-Vendor", IndexValue::Text("VMware, Inc.")}};
  return r;
}

// --- durable inserts -------------------------------------------------------

std::unique_ptr<ObjectStore> g_insert_store;
std::atomic<int64_t> g_next_uid{0};

void OpenInsertStore(const benchmark::State&) {
  std::filesystem::remove(Dir().File("insert.db"));
  std::filesystem::remove(Dir().File("insert.db-wal"));
  std::filesystem::remove(Dir().File("insert.db-shm"));
  g_insert_store = OpenOrDie(Dir().File("insert.db"));
}
void CloseInsertStore(const benchmark::State&) { g_insert_store.reset(); }

void BM_InsertDurable(benchmark::State& state) {
  for (auto _ : state) {
    ObjectRecord r = MakeKey(g_next_uid.fetch_add(1));
    if (!g_insert_store->Insert(r).ok()) state.SkipWithError("insert failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const auto stats = g_insert_store->stats();
    state.counters["writes_per_commit"] =
        static_cast<double>(stats.writes) /
        static_cast<double>(std::max<int64_t>(1, stats.transactions));
  }
}
BENCHMARK(BM_InsertDurable)
    ->Setup(OpenInsertStore)
    ->Teardown(CloseInsertStore)
    ->Threads(1)
    ->Threads(16)
    ->UseRealTime();

// --- reads among N objects ---------------------------------------------------

// The store with kObjects keys, filled once (many writer threads, so group
// commit keeps the set-up short).
ObjectStore& Populated() {
  static ObjectStore* store = [] {
    ObjectStore* s = OpenOrDie(Dir().File("read.db")).release();
    std::atomic<int64_t> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 128; ++t) {
      threads.emplace_back([&] {
        for (int64_t i; (i = next.fetch_add(1)) < kObjects;) {
          if (!s->Insert(MakeKey(i)).ok()) std::abort();
        }
      });
    }
    for (auto& t : threads) t.join();
    return s;
  }();
  return *store;
}

void BM_GetByUid(benchmark::State& state) {
  ObjectStore& store = Populated();
  std::mt19937 rng(1);
  for (auto _ : state) {
    auto r = store.Get("default", "uid-" + std::to_string(rng() % kObjects));
    if (!r.ok()) state.SkipWithError("get failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetByUid)->UseRealTime();

void BM_LocateByName(benchmark::State& state) {
  ObjectStore& store = Populated();
  std::mt19937 rng(2);
  Query q;
  q.tenant = "default";
  q.all_of = {{"Name", Condition::kEquals, IndexValue::Text("")}};
  for (auto _ : state) {
    q.all_of[0].value.text = "vm-key-" + std::to_string(rng() % kObjects);
    auto r = store.Locate(q);
    if (!r.ok() || r->size() != 1) state.SkipWithError("locate failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocateByName)->UseRealTime();

// A broad condition (a third of the objects) with a page of 50, newest
// first: the cost of sorting the matching set.
void BM_LocateByStatePage50(benchmark::State& state) {
  ObjectStore& store = Populated();
  Query q;
  q.tenant = "default";
  q.all_of = {{"State", Condition::kEquals, IndexValue::Number(3)}};
  q.max_items = 50;
  for (auto _ : state) {
    auto r = store.Locate(q);
    if (!r.ok() || r->size() != 50) state.SkipWithError("locate failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LocateByStatePage50)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
