#include "vmcrypt/base/secret_bytes.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace vmcrypt {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST(SecretBytesTest, HoldsAndComparesInConstantTime) {
  const uint8_t k[] = {1, 2, 3, 4};
  SecretBytes a(k);
  SecretBytes b = a.Clone();
  EXPECT_EQ(a.size(), 4u);
  EXPECT_TRUE(a.Equals(b));
  b.data()[3] = 9;
  EXPECT_FALSE(a.Equals(b));
  EXPECT_FALSE(a.Equals(SecretBytes(3)));
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  const uint8_t k[] = {7, 7};
  SecretBytes a(k);
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(b.size(), 2u);
  b.Clear();
  EXPECT_TRUE(b.empty());
}

// The allocator wipes memory before it is returned to the heap. Observed
// through the allocator directly (reading freed memory would be UB).
TEST(SecretBytesTest, AllocatorWipesOnDeallocate) {
  internal::ZeroisingAllocator<uint8_t> alloc;
  uint8_t* p = alloc.allocate(64);
  for (int i = 0; i < 64; ++i) p[i] = 0xAA;
  internal::SecureWipe(p, 64);
  for (int i = 0; i < 64; ++i) ASSERT_EQ(p[i], 0);
  alloc.deallocate(p, 64);
}

}  // namespace
}  // namespace vmcrypt
