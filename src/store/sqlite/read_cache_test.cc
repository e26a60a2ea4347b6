// The SQLite store's read cache (read_cache.h): repeated reads come from
// memory, and every commit, by this store or by another one on the same
// file (as another process would), is seen by the very next read.
#include <gtest/gtest.h>

#include "src/store/sqlite/test_util.h"
#include "vmcrypt/store/object_store.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::store {
namespace {

using ReadCacheTest = StoreTest;

int64_t Hits(ObjectStore& s) { return s.stats().cache_hits; }

TEST_F(ReadCacheTest, RepeatedReadsComeFromMemoryUntilSomethingCommits) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("x")).ok());
  ASSERT_TRUE(store->GetWithoutIndex("t1", "x").ok());  // fills
  EXPECT_EQ(Hits(*store), 0);
  Result<ObjectRecord> again = store->GetWithoutIndex("t1", "x");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Hits(*store), 1);
  EXPECT_TRUE(again->index.empty());
  // With its index: cached apart from the bare row.
  ASSERT_TRUE(store->Get("t1", "x").ok());
  Result<ObjectRecord> full = store->Get("t1", "x");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(Hits(*store), 2);
  EXPECT_EQ(full->index.size(), 3u);

  // An update commits: the next read sees it, from the database.
  ObjectRecord u = *full;
  u.state = 3;
  u.wrapped_material.clear();
  ASSERT_TRUE(store->Update(u).ok());
  Result<ObjectRecord> after = store->GetWithoutIndex("t1", "x");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, 3u);
  EXPECT_EQ(after->revision, 2);
  EXPECT_TRUE(after->wrapped_material.empty());
  EXPECT_EQ(Hits(*store), 2);
  EXPECT_EQ(store->GetWithoutIndex("t1", "x")->state, 3u);
  EXPECT_EQ(Hits(*store), 3);

  // Any commit empties the cache, even of another object.
  ASSERT_TRUE(store->Insert(MakeRecord("y")).ok());
  EXPECT_EQ(store->GetWithoutIndex("t1", "x")->state, 3u);
  EXPECT_EQ(Hits(*store), 3);
}

// Two stores on one file stand for two `kms serve` processes sharing a
// store: what one commits, the other reads at once, cached or not.
TEST_F(ReadCacheTest, ACommitThroughAnotherStoreOnTheSameFileIsSeenAtOnce) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a->Insert(MakeRecord("x")).ok());
  ASSERT_TRUE(a->GetWithoutIndex("t1", "x").ok());
  ASSERT_TRUE(a->GetWithoutIndex("t1", "x").ok());
  ASSERT_EQ(Hits(*a), 1);  // x is cached in a

  Result<ObjectRecord> seen_by_b = b->Get("t1", "x");
  ASSERT_TRUE(seen_by_b.ok());
  ObjectRecord destroyed = *seen_by_b;
  destroyed.state = 5;  // Destroyed: material gone
  destroyed.wrapped_material.clear();
  ASSERT_TRUE(b->Update(destroyed).ok());

  Result<ObjectRecord> seen_by_a = a->GetWithoutIndex("t1", "x");
  ASSERT_TRUE(seen_by_a.ok());
  EXPECT_EQ(seen_by_a->state, 5u);
  EXPECT_TRUE(seen_by_a->wrapped_material.empty());
  EXPECT_EQ(seen_by_a->revision, 2);
  Result<ObjectRecord> with_index = a->Get("t1", "x");
  ASSERT_TRUE(with_index.ok());
  EXPECT_EQ(with_index->state, 5u);
}

// A client is identified by fingerprint in every full TLS handshake: found
// once, it comes from memory until anything commits, here or through
// another store on the same file (`kms client remove` is another process).
TEST_F(ReadCacheTest, ClientsFoundByFingerprintAreKeptUntilACommit) {
  auto a = Open();
  auto b = Open();
  const ClientRecord vc{"vc", "t1", "CN=vc", "fp-vc", "pem", 5};
  ASSERT_TRUE(a->PutClient(vc).ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*a->FindClientByFingerprint("fp-vc"), vc);
  EXPECT_EQ(a->stats().client_cache_hits, 2);
  EXPECT_EQ(a->FindClientByFingerprint("fp-other").status().code(), StatusCode::kNotFound);

  // Moved to another tenant through the other store: seen at once.
  ClientRecord moved = vc;
  moved.tenant = "t2";
  ASSERT_TRUE(b->RemoveClient("vc").ok());
  EXPECT_EQ(a->FindClientByFingerprint("fp-vc").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(b->PutClient(moved).ok());
  EXPECT_EQ(a->FindClientByFingerprint("fp-vc")->tenant, "t2");
  // Any commit empties what was kept, an object's too.
  EXPECT_EQ(a->FindClientByFingerprint("fp-vc")->tenant, "t2");
  const int64_t hits = a->stats().client_cache_hits;
  ASSERT_TRUE(a->Insert(MakeRecord("x")).ok());
  EXPECT_EQ(a->FindClientByFingerprint("fp-vc")->tenant, "t2");
  EXPECT_EQ(a->stats().client_cache_hits, hits);
}

TEST_F(ReadCacheTest, TenantsStayApartInTheCache) {
  auto store = Open();
  ASSERT_TRUE(store->Insert(MakeRecord("x", "t1")).ok());
  ASSERT_TRUE(store->GetWithoutIndex("t1", "x").ok());
  ASSERT_TRUE(store->GetWithoutIndex("t1", "x").ok());
  ASSERT_EQ(Hits(*store), 1);
  EXPECT_EQ(store->GetWithoutIndex("t2", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get("t2", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(ReadCacheTest, OffWhenItsSizeIsZeroAndBoundedOtherwise) {
  SqliteOptions off;
  off.read_cache_rows = 0;
  {
    auto store = Open(off);
    ASSERT_TRUE(store->Insert(MakeRecord("x")).ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->GetWithoutIndex("t1", "x").ok());
    EXPECT_EQ(Hits(*store), 0);
    EXPECT_EQ(store->stats().cache_misses, 0);  // never consulted
  }
  SqliteOptions two;
  two.read_cache_rows = 2;
  auto store = Open(two);
  for (const char* uid : {"a", "b", "c"}) ASSERT_TRUE(store->Insert(MakeRecord(uid)).ok());
  for (const char* uid : {"a", "b", "c"}) ASSERT_TRUE(store->GetWithoutIndex("t1", uid).ok());
  // The third row found the cache full and emptied it: only c is kept.
  EXPECT_TRUE(store->GetWithoutIndex("t1", "c").ok());
  EXPECT_EQ(Hits(*store), 1);
  EXPECT_TRUE(store->GetWithoutIndex("t1", "a").ok());
  EXPECT_EQ(Hits(*store), 1);
  EXPECT_EQ(store->stats().cache_misses, 4);
  EXPECT_EQ(OpenSqliteStore(DbPath() + "2", SqliteOptions{5000, 256, 8, -1}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vmcrypt::store
