#include "vmcrypt/ttlv/codec.h"

#include <gtest/gtest.h>

#include "vmcrypt/base/encoding.h"

namespace vmcrypt::ttlv {
namespace {

std::vector<uint8_t> Hex(std::string_view spaced) {
  std::string compact;
  for (char c : spaced) {
    if (c != ' ' && c != '|' && c != '\n') compact.push_back(c);
  }
  return *HexDecode(compact);
}

std::vector<uint8_t> ToVec(const Bytes& b) { return {b.begin(), b.end()}; }

// KMIP 1.4 §9.1.2 (and 2.1 §9.1.2): the specification's encoding examples.
struct SpecVector {
  const char* name;
  const char* hex;
  Item item;
};

std::vector<SpecVector> SpecVectors() {
  const uint8_t big[] = {0x03, 0xFD, 0x35, 0xEB, 0x6B, 0xC2, 0xDF, 0x46, 0x18, 0x08, 0x00, 0x00};
  const uint8_t bytes[] = {1, 2, 3};
  return {
      {"Integer", "42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00",
       Item::Integer(0x420020, 8)},
      {"LongInteger", "42 00 20 | 03 | 00 00 00 08 | 01 B6 9B 4B A5 74 92 00",
       Item::LongInteger(0x420020, 123456789000000000LL)},
      {"BigInteger",
       "42 00 20 | 04 | 00 00 00 10 | 00 00 00 00 03 FD 35 EB 6B C2 DF 46 18 08 00 00",
       Item::BigInteger(0x420020, big)},
      {"Enumeration", "42 00 20 | 05 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
       Item::Enumeration(0x420020, 255)},
      {"Boolean", "42 00 20 | 06 | 00 00 00 08 | 00 00 00 00 00 00 00 01",
       Item::Boolean(0x420020, true)},
      {"TextString",
       "42 00 20 | 07 | 00 00 00 0B | 48 65 6C 6C 6F 20 57 6F 72 6C 64 00 00 00 00 00",
       Item::TextString(0x420020, "Hello World")},
      {"ByteString", "42 00 20 | 08 | 00 00 00 03 | 01 02 03 00 00 00 00 00",
       Item::ByteString(0x420020, bytes)},
      {"DateTime", "42 00 20 | 09 | 00 00 00 08 | 00 00 00 00 47 DA 67 F8",
       Item::DateTime(0x420020, 0x47DA67F8)},
      {"Interval", "42 00 20 | 0A | 00 00 00 04 | 00 0D 2F 00 00 00 00 00",
       Item::Interval(0x420020, 864000)},
      {"Structure",
       "42 00 20 | 01 | 00 00 00 20 | 42 00 04 | 05 | 00 00 00 04 | 00 00 00 FE 00 00 00 00 | 42 "
       "00 05 | 02 | 00 00 00 04 | 00 00 00 FF 00 00 00 00",
       Item::Structure(0x420020, {Item::Enumeration(0x420004, 254), Item::Integer(0x420005, 255)})},
  };
}

TEST(CodecTest, SpecExamplesDecodeAndReencodeByteExact) {
  for (const SpecVector& v : SpecVectors()) {
    SCOPED_TRACE(v.name);
    std::vector<uint8_t> wire = Hex(v.hex);
    Result<Item> decoded = Decode(wire);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    if (v.item.type() == ItemType::kBigInteger) {
      // The decoded value keeps the sign-extension bytes of the wire form.
      EXPECT_EQ(decoded->bytes().size(), 16u);
    } else {
      EXPECT_EQ(*decoded, v.item);
    }
    Result<Bytes> reencoded = Encode(*decoded);
    ASSERT_TRUE(reencoded.ok());
    EXPECT_EQ(ToVec(*reencoded), wire);
    // Building the item by hand gives the same bytes.
    EXPECT_EQ(ToVec(*Encode(v.item)), wire);
  }
}

TEST(CodecTest, DateTimeExtendedAndNegativeValues) {
  Item s =
      Item::Structure(0x420078, {Item::DateTimeExtended(0x420001, -1), Item::Integer(0x420002, -5),
                                 Item::LongInteger(0x420003, INT64_MIN)});
  Result<Bytes> wire = Encode(s);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(*Decode(ToVec(*wire)), s);
}

TEST(CodecTest, BigIntegerNegativeIsSignExtended) {
  const uint8_t minus_one[] = {0xFF};
  Result<Bytes> wire = Encode(Item::BigInteger(0x420020, minus_one));
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(HexEncode(*wire), "4200200400000008ffffffffffffffff");
}

Item SampleMessage() {
  const uint8_t key[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
  return Item::Structure(
      0x420078,
      {Item::Structure(0x420077, {Item::Structure(0x420069, {Item::Integer(0x42006A, 1),
                                                             Item::Integer(0x42006B, 4)}),
                                  Item::Integer(0x42000D, 1)}),
       Item::Structure(0x42000F,
                       {Item::Enumeration(0x42005C, 1), Item::ByteString(0x420093, key),
                        Item::TextString(0x420094, "abc"), Item::Boolean(0x420007, false)})});
}

TEST(CodecTest, TruncationAtEveryLengthFailsCleanly) {
  Result<Bytes> wire = Encode(SampleMessage());
  ASSERT_TRUE(wire.ok());
  std::vector<uint8_t> full = ToVec(*wire);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    Result<Item> r = Decode(cut);
    ASSERT_FALSE(r.ok()) << "length " << n;
    EXPECT_NE(r.status().message().find("offset"), std::string::npos) << r.status().message();
  }
  EXPECT_TRUE(Decode(full).ok());
}

TEST(CodecTest, EveryFlippedByteIsRejectedOrDecodes) {
  // No byte flip may crash or over-read (ASan checks the latter).
  std::vector<uint8_t> full = ToVec(*Encode(SampleMessage()));
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> bad = full;
      bad[i] ^= mask;
      Result<Item> r = Decode(bad);
      if (r.ok()) {
        // Whatever decodes must re-encode to the same bytes.
        EXPECT_EQ(ToVec(*Encode(*r)), bad) << "offset " << i;
      }
    }
  }
}

struct BadCase {
  const char* name;
  const char* hex;
  const char* expected;
};

TEST(CodecTest, MalformedInputGivesClearErrors) {
  const BadCase kCases[] = {
      {"integer wrong length", "420020 02 00000008 0000000800000000",
       "wrong length 8 for Integer (must be 4) at offset 4"},
      {"boolean wrong length", "420020 06 00000004 0000000100000000",
       "wrong length 4 for Boolean (must be 8) at offset 4"},
      {"big integer not multiple of 8", "420020 04 00000004 0000000100000000",
       "wrong length 4 for BigInteger (must be a non-zero multiple of 8) at offset 4"},
      {"bad padding integer", "420020 02 00000004 0000000800000001",
       "non-zero padding byte for tag 0x420020 at offset 15"},
      {"bad padding text", "420020 07 00000001 4100000000000100",
       "non-zero padding byte for tag 0x420020 at offset 14"},
      {"bad type", "420020 0C 00000004 0000000800000000",
       "invalid item type 0x0C for tag 0x420020 at offset 3"},
      {"type zero", "420020 00 00000004 0000000800000000",
       "invalid item type 0x00 for tag 0x420020 at offset 3"},
      {"bad tag", "430020 02 00000004 0000000800000000",
       "invalid tag 0x430020 (must be 0x42xxxx or 0x54xxxx) at offset 0"},
      {"boolean two", "420020 06 00000008 0000000000000002",
       "Boolean value for tag 0x420020 is neither 0 nor 1 at offset 8"},
      {"oversize length", "420020 07 FFFFFFF0 4100000000000000",
       "item length 4294967280 exceeds the 8 byte(s) left at offset 4"},
      {"trailing bytes", "420020 02 00000004 0000000800000000 00",
       "1 trailing byte(s) at offset 16"},
      {"bad utf8", "420020 07 00000002 C328000000000000",
       "invalid UTF-8 in TextString for tag 0x420020 at offset 9"},
      {"structure length not multiple of 8", "420078 01 00000004 42002002",
       "Structure length 4 is not a multiple of 8 at offset 4"},
  };
  for (const BadCase& c : kCases) {
    SCOPED_TRACE(c.name);
    Result<Item> r = Decode(Hex(c.hex));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), c.expected);
  }
}

TEST(CodecTest, StructureOverrunErrorNamesRealNumbers) {
  // A structure claiming more bytes than the message has.
  Result<Item> r = Decode(Hex("420078 01 00000018 420020 02 00000004 0000000800000000"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "item length 24 exceeds the 16 byte(s) left at offset 4");
}

TEST(CodecTest, NestingLimit) {
  Item deep = Item::Integer(0x420001, 1);
  for (int i = 0; i < 40; ++i) deep = Item::Structure(0x420078, {deep});
  std::vector<uint8_t> wire = ToVec(*Encode(deep));
  Result<Item> r = Decode(wire);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("nested deeper than 32"), std::string::npos);
  Limits relaxed;
  relaxed.max_depth = 64;
  EXPECT_TRUE(Decode(wire, relaxed).ok());
}

TEST(CodecTest, ItemAndSizeLimits) {
  std::vector<Item> many(50, Item::Integer(0x420001, 1));
  std::vector<uint8_t> wire = ToVec(*Encode(Item::Structure(0x420078, many)));
  Limits few;
  few.max_items = 10;
  Result<Item> r = Decode(wire, few);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too many items (limit 10)"), std::string::npos);
  Limits small;
  small.max_message_size = 64;
  EXPECT_EQ(Decode(wire, small).status().code(), StatusCode::kOutOfRange);
}

TEST(CodecTest, MessageSizeForFraming) {
  EXPECT_EQ(*MessageSize(Hex("420078 01 00000020")), 40u);
  EXPECT_FALSE(MessageSize(Hex("420078 01 0000")).ok());
  EXPECT_FALSE(MessageSize(Hex("420078 02 00000020")).ok());
  EXPECT_FALSE(MessageSize(Hex("420078 01 7FFFFFFF")).ok());
  EXPECT_FALSE(MessageSize(Hex("110078 01 00000020")).ok());
}

TEST(CodecTest, PlaceholdersNeedAMap) {
  Item msg =
      Item::Structure(0x42007B, {Item::Placeholder(0x420092, ItemType::kDateTime, "$NOW"),
                                 Item::Placeholder(0x420001, ItemType::kDateTime, "$NOW-3600"),
                                 Item::Placeholder(0x4200C2, ItemType::kByteString, "$DATA_0")});
  Result<Bytes> bare = Encode(msg);
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().message(), "placeholder '$NOW' for tag 0x420092 has no binary form");

  PlaceholderMap map;
  Result<Bytes> wire = Encode(msg, &map);
  ASSERT_TRUE(wire.ok());
  Result<Item> back = Decode(ToVec(*wire));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->children()[0].int_value(), PlaceholderMap::kNowEpoch);
  EXPECT_EQ(back->children()[1].int_value(), PlaceholderMap::kNowEpoch - 3600);
  map.Restore(&*back);
  EXPECT_EQ(*back, msg);

  Item bad_enum = Item::Placeholder(0x42005C, ItemType::kEnumeration, "$OP");
  EXPECT_FALSE(Encode(bad_enum, &map).ok());
}

}  // namespace
}  // namespace vmcrypt::ttlv
