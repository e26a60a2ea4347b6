#include "vmcrypt/base/byte_reader.h"

#include <gtest/gtest.h>

namespace vmcrypt {
namespace {

TEST(ByteReaderTest, ReadsBigEndian) {
  const uint8_t data[] = {0x42, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8};
  ByteReader r(data);
  EXPECT_EQ(*r.ReadU24Be(), 0x420001u);
  EXPECT_EQ(*r.ReadU8(), 0x01);
  EXPECT_EQ(*r.ReadU32Be(), 0x10u);
  EXPECT_EQ(*r.ReadU64Be(), 0x0102030405060708u);
  EXPECT_TRUE(r.empty());
}

TEST(ByteReaderTest, ShortReadFailsWithoutMoving) {
  const uint8_t data[] = {1, 2, 3};
  ByteReader r(data, 100);
  ASSERT_TRUE(r.ReadU8().ok());
  Result<uint32_t> v = r.ReadU32Be("length");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "truncated input at offset 101: need 4 byte(s) for length, have 2");
  EXPECT_EQ(r.offset(), 101u);
  EXPECT_EQ(r.remaining(), 2u);
  EXPECT_FALSE(r.ReadBytes(3).ok());
  EXPECT_FALSE(r.Skip(3).ok());
  EXPECT_TRUE(r.Skip(2).ok());
  EXPECT_FALSE(r.ReadU8().ok());
}

TEST(ByteReaderTest, HugeLengthDoesNotOverflow) {
  const uint8_t data[] = {1, 2, 3, 4};
  ByteReader r(data);
  EXPECT_FALSE(r.ReadBytes(SIZE_MAX).ok());
  EXPECT_EQ(r.remaining(), 4u);
}

}  // namespace
}  // namespace vmcrypt
