#include "vmcrypt/base/encoding.h"

#include <gtest/gtest.h>

namespace vmcrypt {
namespace {

std::vector<uint8_t> V(std::string_view s) { return {s.begin(), s.end()}; }

TEST(HexTest, RoundTrip) {
  std::vector<uint8_t> data = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(data), "0001abff");
  EXPECT_EQ(*HexDecode("0001ABff"), data);
  EXPECT_TRUE(HexDecode("")->empty());
}

TEST(HexTest, RejectsBadInputWithOffset) {
  EXPECT_EQ(HexDecode("abc").status().message(), "hex string has odd length 3");
  EXPECT_EQ(HexDecode("00zz").status().message(), "invalid hex digit at offset 2");
  EXPECT_EQ(HexDecode("0g").status().message(), "invalid hex digit at offset 1");
}

// RFC 4648 §10 test vectors.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> kVectors[] = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    EXPECT_EQ(*Base64Decode(encoded), V(plain));
  }
}

TEST(Base64Test, RejectsMalformed) {
  EXPECT_FALSE(Base64Decode("Zg=").ok());       // length
  EXPECT_FALSE(Base64Decode("Z===").ok());      // too much padding
  EXPECT_FALSE(Base64Decode("Zg=a").ok());      // misplaced padding
  EXPECT_FALSE(Base64Decode("Zm9v!A==").ok());  // bad char
  EXPECT_FALSE(Base64Decode("Zh==").ok());      // non-zero trailing bits
  EXPECT_FALSE(Base64Decode("Zg==Zg==").ok());  // padding in the middle
}

}  // namespace
}  // namespace vmcrypt
