#include "vmcrypt/host/kek_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::host {
namespace {

constexpr uint8_t kMask = 0x5A;

// How many times `key` (held here only XOR-masked, so that the needle
// itself is not in memory) appears in this process's writable memory.
int CountInProcessMemory(const std::vector<uint8_t>& masked) {
  std::ifstream maps("/proc/self/maps");
  int fd = open("/proc/self/mem", O_RDONLY);
  EXPECT_GE(fd, 0);
  int found = 0;
  std::string line;
  // One buffer for the whole scan, zeroed after each chunk, so that the
  // scan leaves no copies of its own behind.
  static std::vector<uint8_t> buf(1 << 20);
  const size_t m = masked.size();
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3) continue;
    if (perms[0] != 'r' || perms[1] != 'w') continue;
    if (line.find("[vvar]") != std::string::npos) continue;
    const size_t step = buf.size() - (m - 1);
    for (unsigned long at = start; at < end; at += step) {
      const size_t want = std::min<size_t>(buf.size(), end - at);
      const ssize_t n = pread(fd, buf.data(), want, static_cast<off_t>(at));
      if (n < static_cast<ssize_t>(m)) break;
      const bool last = at + step >= end;
      for (size_t i = 0; i + m <= static_cast<size_t>(n) && (last || i < step); ++i) {
        if (buf[i] != (masked[0] ^ kMask)) continue;
        size_t j = 1;
        while (j < m && buf[i + j] == (masked[j] ^ kMask)) ++j;
        if (j == m) ++found;
      }
      std::fill(buf.begin(), buf.end(), 0);
    }
  }
  close(fd);
  return found;
}

TEST(KekCacheTest, PutListWithRemove) {
  auto cache = KekCache::Create(16);
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  SecretBytes k1 = *crypto::RandomSecret(32);
  SecretBytes k2 = *crypto::RandomSecret(32);
  const KeyRef a{"kms-a", "uid-1"}, b{"kms-b", "uid-1"};
  ASSERT_TRUE((*cache)->Put(a, k1.span()).ok());
  ASSERT_TRUE((*cache)->Put(b, k2.span()).ok());
  EXPECT_EQ((*cache)->size(), 2u);
  EXPECT_TRUE((*cache)->Contains(a));
  EXPECT_EQ((*cache)->List(), (std::vector<KeyRef>{a, b}));
  SecretBytes seen;
  ASSERT_TRUE((*cache)
                  ->With(b,
                         [&](std::span<const uint8_t> key) {
                           seen = SecretBytes(key);
                           return OkStatus();
                         })
                  .ok());
  EXPECT_TRUE(seen.Equals(k2));
  // Replacing keeps one entry.
  ASSERT_TRUE((*cache)->Put(b, k1.span()).ok());
  EXPECT_EQ((*cache)->size(), 2u);
  ASSERT_TRUE((*cache)->Remove(a).ok());
  EXPECT_FALSE((*cache)->Contains(a));
  EXPECT_EQ((*cache)->size(), 1u);
}

TEST(KekCacheTest, MissingKeyErrorNamesProviderAndKeyId) {
  auto cache = KekCache::Create(4);
  ASSERT_TRUE(cache.ok());
  Status s = (*cache)->With({"kms-a", "uid-9"}, [](auto) { return OkStatus(); });
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("key not found: provider kms-a, key id uid-9"), std::string::npos)
      << s.message();
  EXPECT_EQ((*cache)->Remove({"kms-a", "uid-9"}).code(), StatusCode::kNotFound);
}

TEST(KekCacheTest, RefusesBadInputAndAFullCache) {
  auto cache = KekCache::Create(2);
  ASSERT_TRUE(cache.ok());
  SecretBytes k = *crypto::RandomSecret(32);
  EXPECT_EQ((*cache)->Put({"", "x"}, k.span()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*cache)->Put({"p", "x"}, {}).code(), StatusCode::kInvalidArgument);
  SecretBytes big(KekCache::kMaxKeySize + 1);
  EXPECT_EQ((*cache)->Put({"p", "x"}, big.span()).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*cache)->Put({"p", "1"}, k.span()).ok());
  ASSERT_TRUE((*cache)->Put({"p", "2"}, k.span()).ok());
  Status full = (*cache)->Put({"p", "3"}, k.span());
  EXPECT_EQ(full.code(), StatusCode::kOutOfRange);
  EXPECT_NE(full.message().find("full"), std::string::npos);
  // A freed slot is reused.
  ASSERT_TRUE((*cache)->Remove({"p", "1"}).ok());
  EXPECT_TRUE((*cache)->Put({"p", "3"}, k.span()).ok());
}

// The mapping is locked in RAM, left out of core dumps and not inherited
// by children: /proc/self/smaps shows the flags lo, dd and dc on it.
TEST(KekCacheTest, MemoryIsLockedAndNotDumpable) {
  auto cache = KekCache::Create(1000);  // 64000 bytes -> a 64 kB mapping
  ASSERT_TRUE(cache.ok()) << cache.status().ToString();
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool sized = false;
  int matching = 0;
  while (std::getline(smaps, line)) {
    if (line.rfind("Size:", 0) == 0) {
      sized = line.find(" 64 kB") != std::string::npos;
    } else if (sized && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream flags(line.substr(8));
      std::string f;
      bool lo = false, dd = false, dc = false;
      while (flags >> f) {
        lo |= f == "lo";
        dd |= f == "dd";
        dc |= f == "dc";
      }
      if (lo && dd && dc) ++matching;
    }
  }
  EXPECT_EQ(matching, 1);
}

// A removed key is gone from the process's memory, and so is every key
// when the cache is destroyed. The scan sees the key while it is cached
// (the positive control).
TEST(KekCacheTest, RemovedKeysAreWipedFromMemory) {
  auto cache = KekCache::Create(8);
  ASSERT_TRUE(cache.ok());
  std::vector<uint8_t> masked(32);
  const KeyRef ref{"kms-a", "wipe-me"}, other{"kms-a", "destroy-me"};
  std::vector<uint8_t> masked_other(32);
  {
    SecretBytes key = *crypto::RandomSecret(32);
    SecretBytes key2 = *crypto::RandomSecret(32);
    for (size_t i = 0; i < 32; ++i) {
      masked[i] = key.data()[i] ^ kMask;
      masked_other[i] = key2.data()[i] ^ kMask;
    }
    ASSERT_TRUE((*cache)->Put(ref, key.span()).ok());
    ASSERT_TRUE((*cache)->Put(other, key2.span()).ok());
  }  // the SecretBytes copies are wiped here
  EXPECT_EQ(CountInProcessMemory(masked), 1);
  ASSERT_TRUE((*cache)->Remove(ref).ok());
  EXPECT_EQ(CountInProcessMemory(masked), 0);
  EXPECT_EQ(CountInProcessMemory(masked_other), 1);
  cache->reset();
  EXPECT_EQ(CountInProcessMemory(masked_other), 0);
}

}  // namespace
}  // namespace vmcrypt::host
