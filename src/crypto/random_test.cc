#include "vmcrypt/crypto/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "vmcrypt/base/encoding.h"

namespace vmcrypt::crypto {
namespace {

TEST(RandomTest, FillsTheWholeBuffer) {
  // 64 zero bytes from a working DRBG has probability 2^-512: a failure here
  // means the buffer was not written.
  std::vector<uint8_t> buf(64, 0);
  ASSERT_TRUE(RandomBytes(buf).ok());
  EXPECT_TRUE(std::any_of(buf.begin(), buf.end(), [](uint8_t b) { return b != 0; }));
  // Also the last bytes (a chunking bug would leave the tail untouched).
  std::vector<uint8_t> tail(buf.end() - 16, buf.end());
  EXPECT_TRUE(std::any_of(tail.begin(), tail.end(), [](uint8_t b) { return b != 0; }));
}

TEST(RandomTest, DrawsDiffer) {
  std::vector<uint8_t> a(32), b(32);
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(HexEncode(a), HexEncode(b));
}

TEST(RandomTest, EmptyIsOk) {
  EXPECT_TRUE(RandomBytes({}).ok());
  auto s = RandomSecret(0);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
}

TEST(RandomTest, RandomSecretHasTheRequestedSize) {
  auto a = RandomSecret(32);
  auto b = RandomSecret(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_FALSE(a->Equals(*b));
}

}  // namespace
}  // namespace vmcrypt::crypto
