#include "src/ttlv/value_text.h"

#include <gtest/gtest.h>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::ttlv::text {
namespace {

TEST(ValueTextTest, DateTimes) {
  EXPECT_EQ(FormatDateTime(0), "1970-01-01T00:00:00+00:00");
  EXPECT_EQ(FormatDateTime(0x47DA67F8), "2008-03-14T11:56:40+00:00");  // KMIP 1.4 §9.1.2
  EXPECT_EQ(FormatDateTime(-1), "1969-12-31T23:59:59+00:00");
  EXPECT_EQ(*ParseDateTime("2008-03-14T11:56:40+00:00"), 0x47DA67F8);
  EXPECT_EQ(*ParseDateTime("2008-03-14T11:56:40Z"), 0x47DA67F8);
  EXPECT_EQ(*ParseDateTime("2008-03-14T21:56:40+10:00"), 0x47DA67F8);
  EXPECT_EQ(*ParseDateTime("2008-03-14T01:56:40-10:00"), 0x47DA67F8);
  EXPECT_EQ(*ParseDateTime("0x0000000047DA67F8"), 0x47DA67F8);
  EXPECT_FALSE(ParseDateTime("2008-03-14").ok());
  EXPECT_FALSE(ParseDateTime("2008-13-14T11:56:40Z").ok());
  EXPECT_FALSE(ParseDateTime("2008-03-14T11:56:40.5Z").ok());
  EXPECT_EQ(FormatDateTimeExtended(1000001), "1970-01-01T00:00:01.000001+00:00");
  EXPECT_EQ(*ParseDateTimeExtended("1970-01-01T00:00:01.5Z"), 1500000);
  for (int64_t t : {int64_t{0}, int64_t{951782400}, int64_t{4102444800}, int64_t{-86400 * 400}}) {
    EXPECT_EQ(*ParseDateTime(FormatDateTime(t)), t);
  }
}

TEST(ValueTextTest, MasksAndNumbers) {
  ValueNames mask = NamesFor(tag::kCryptographicUsageMask, "", 2);
  EXPECT_EQ(FormatInteger(mask, 0x0C, ' '), "Encrypt Decrypt");
  EXPECT_EQ(FormatInteger(mask, 0x0C, '|'), "Encrypt|Decrypt");
  EXPECT_EQ(*ParseInteger(mask, "Decrypt Encrypt"), 0x0C);
  EXPECT_EQ(*ParseInteger(mask, "Decrypt|0x00000004"), 0x0C);
  EXPECT_EQ(*ParseInteger(mask, "12"), 12);
  EXPECT_FALSE(ParseInteger(mask, "Encrypt Fly").ok());
  ValueNames via_attribute = NamesFor(tag::kAttributeValue, "Cryptographic Usage Mask", 1);
  EXPECT_EQ(via_attribute.mask_id, "CryptographicUsageMask");
  ValueNames plain = NamesFor(tag::kBatchCount, "", 2);
  EXPECT_EQ(FormatInteger(plain, -3, ' '), "-3");
  EXPECT_FALSE(ParseInteger(plain, "Encrypt").ok());
  EXPECT_FALSE(ParseInteger(plain, "99999999999").ok());
  EXPECT_EQ(*ParseLong("0xFFFFFFFFFFFFFFFF"), -1);
  EXPECT_FALSE(ParseLong("0x1FFFFFFFFFFFFFFFF").ok());
  EXPECT_EQ(*ParseInterval("864000"), 864000u);
  EXPECT_FALSE(ParseInterval("-1").ok());
  EXPECT_FALSE(ParseBoolean("yes").ok());
}

TEST(ValueTextTest, Enumerations) {
  ValueNames op = NamesFor(tag::kOperation, "", 2);
  EXPECT_EQ(FormatEnum(op, 1), "Create");
  EXPECT_EQ(FormatEnum(op, 0x80000001), "0x80000001");
  EXPECT_EQ(*ParseEnum(op, "0x80000001"), 0x80000001u);
  EXPECT_EQ(*ParseEnum(op, "Create"), 1u);
  ValueNames alg = NamesFor(tag::kAttributeValue, "Cryptographic Algorithm", 1);
  EXPECT_EQ(*ParseEnum(alg, "AES"), 3u);
  ValueNames none = NamesFor(tag::kAttributeValue, "x-private", 1);
  EXPECT_FALSE(ParseEnum(none, "AES").ok());
  EXPECT_EQ(*ParseEnum(none, "0x00000003"), 3u);
}

}  // namespace
}  // namespace vmcrypt::ttlv::text
