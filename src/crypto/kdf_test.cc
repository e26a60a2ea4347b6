#include "vmcrypt/crypto/kdf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/crypto/test_util.h"
#include "vmcrypt/base/encoding.h"

namespace vmcrypt::crypto {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::Repeat;
using testing::SecretHex;
using testing::ToVector;

std::vector<uint8_t> Range(int from, int to_exclusive) {
  std::vector<uint8_t> out;
  for (int i = from; i < to_exclusive; ++i) out.push_back(static_cast<uint8_t>(i));
  return out;
}

// ---- HKDF-SHA256: RFC 5869 Appendix A.1-A.3 ----

struct HkdfVector {
  const char* name;
  std::vector<uint8_t> ikm;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> info;
  size_t length;
  const char* okm;
};

std::vector<HkdfVector> HkdfVectors() {
  return {
      {"A1_Basic", Repeat(0x0b, 22), Hex("000102030405060708090a0b0c"), Hex("f0f1f2f3f4f5f6f7f8f9"),
       42,
       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
       "34007208d5b887185865"},
      {"A2_LongInputs", Range(0x00, 0x50), Range(0x60, 0xb0), Range(0xb0, 0x100), 82,
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
       "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      {"A3_EmptySaltAndInfo",
       Repeat(0x0b, 22),
       {},
       {},
       42,
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
       "9d201395faa4b61a96c8"},
  };
}

class HkdfKat : public ::testing::TestWithParam<HkdfVector> {};

TEST_P(HkdfKat, DerivesTheRfcOkm) {
  const HkdfVector& v = GetParam();
  auto okm = HkdfSha256(SecretBytes(v.ikm), v.salt, v.info, v.length);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(HexEncode(okm->span()), HexEncode(Hex(v.okm)));
}

INSTANTIATE_TEST_SUITE_P(Rfc5869AppendixA, HkdfKat, ::testing::ValuesIn(HkdfVectors()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(HkdfTest, AbsentSaltEqualsHashLenZeros) {
  // RFC 5869 §2.2: "if not provided, [salt] is set to a string of HashLen zeros".
  const SecretBytes ikm{Repeat(0x0b, 22)};
  auto a = HkdfSha256(ikm, {}, Bytes("info"), 32);
  auto b = HkdfSha256(ikm, Repeat(0, 32), Bytes("info"), 32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->Equals(*b));
}

TEST(HkdfTest, RejectsOutOfRangeParameters) {
  const SecretBytes ikm{Repeat(0x0b, 22)};
  EXPECT_EQ(HkdfSha256(SecretBytes(), {}, {}, 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, {}, {}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, {}, {}, 255 * 32 + 1).status().code(), StatusCode::kInvalidArgument);
  auto max = HkdfSha256(ikm, {}, {}, 255 * 32);
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->size(), 255u * 32);
}

TEST(HkdfTest, PrefixProperty) {
  // HKDF-Expand output blocks are chained: a shorter length is a prefix.
  const SecretBytes ikm{Repeat(0x0b, 22)};
  auto long_okm = HkdfSha256(ikm, Bytes("s"), Bytes("i"), 100);
  auto short_okm = HkdfSha256(ikm, Bytes("s"), Bytes("i"), 33);
  ASSERT_TRUE(long_okm.ok() && short_okm.ok());
  EXPECT_EQ(HexEncode(long_okm->span().first(33)), HexEncode(short_okm->span()));
}

// ---- HMAC: RFC 4231 §4.2-§4.8 (test cases 1-4, 6, 7) ----

struct HmacVector {
  const char* name;
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  const char* sha256;
  const char* sha384;
  const char* sha512;
};

std::vector<HmacVector> HmacVectors() {
  return {
      {"Case1", Repeat(0x0b, 20), Bytes("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
       "faea9ea9076ede7f4af152e8b2fa9cb6",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
       "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
      {"Case2", Bytes("Jefe"), Bytes("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
       "8e2240ca5e69e2c78b3239ecfab21649",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {"Case3", Repeat(0xaa, 20), Repeat(0xdd, 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
       "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
       "2a5ab39dc13814b94e3ab6e101a34f27",
       "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
       "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
      {"Case4", Range(0x01, 0x1a), Repeat(0xcd, 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
       "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
       "6801dd23c4a7d679ccf8a386c674cffb",
       "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
       "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
      {"Case6_KeyLongerThanBlock", Repeat(0xaa, 131),
       Bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
       "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
       "0c2ef6ab4030fe8296248df163f44952",
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
       "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
      {"Case7_KeyAndDataLongerThanBlock", Repeat(0xaa, 131),
       Bytes("This is a test using a larger than block-size key and a larger than "
             "block-size data. The key needs to be hashed before being used by the HMAC "
             "algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
       "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
       "a678cc31e799176d3860e6110c46523e",
       "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
       "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
  };
}

class HmacKat : public ::testing::TestWithParam<std::tuple<HmacVector, HashAlgorithm>> {};

TEST_P(HmacKat, ComputesTheRfcMac) {
  const auto& [v, hash] = GetParam();
  const char* expected = hash == HashAlgorithm::kSha256   ? v.sha256
                         : hash == HashAlgorithm::kSha384 ? v.sha384
                                                          : v.sha512;
  auto mac = Hmac(hash, SecretBytes(v.key), v.data);
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(mac->size(), HashSize(hash));
  EXPECT_EQ(HexEncode(*mac), HexEncode(Hex(expected)));
  EXPECT_TRUE(ConstantTimeEquals(*mac, Hex(expected)));
}

std::string HashName(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256:
      return "Sha256";
    case HashAlgorithm::kSha384:
      return "Sha384";
    case HashAlgorithm::kSha512:
      return "Sha512";
    default:
      return "Unknown";
  }
}

INSTANTIATE_TEST_SUITE_P(Rfc4231, HmacKat,
                         ::testing::Combine(::testing::ValuesIn(HmacVectors()),
                                            ::testing::Values(HashAlgorithm::kSha256,
                                                              HashAlgorithm::kSha384,
                                                              HashAlgorithm::kSha512)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_" +
                                  HashName(std::get<1>(info.param));
                         });

TEST(HmacTest, RejectsEmptyKeyAndUnknownHash) {
  EXPECT_EQ(Hmac(HashAlgorithm::kSha256, SecretBytes(), Bytes("data")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Hmac(static_cast<HashAlgorithm>(99), SecretBytes(Repeat(1, 32)), Bytes("d")).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(HashSize(static_cast<HashAlgorithm>(99)), 0u);
}

TEST(HmacTest, EmptyDataIsAllowed) {
  // Not an RFC vector: the value of
  // `openssl mac -digest SHA256 -macopt hexkey:<0b x 20> HMAC < /dev/null`,
  // which Python's hmac module gives too.
  auto mac = Hmac(HashAlgorithm::kSha256, SecretBytes(Repeat(0x0b, 20)), {});
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(HexEncode(*mac), "999a901219f032cd497cadb5e6051e97b6a29ab297bd6ae722bd6062a2f59542");
}

// ---- PBKDF2-HMAC-SHA256 ----

struct Pbkdf2Vector {
  const char* name;
  const char* password;
  const char* salt;
  uint32_t iterations;
  size_t length;
  const char* dk;
};

const Pbkdf2Vector kPbkdf2Vectors[] = {
    // RFC 7914 §11 (the PBKDF2-HMAC-SHA256 vectors of the scrypt RFC).
    {"Rfc7914_Passwd_Salt_1", "passwd", "salt", 1, 64,
     "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
     "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
    {"Rfc7914_Password_NaCl_80000", "Password", "NaCl", 80000, 64,
     "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
     "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
    // The RFC 6070 inputs with HMAC-SHA256 (widely published; matches
    // `openssl kdf ... PBKDF2` and Python's hashlib.pbkdf2_hmac).
    {"Rfc6070Inputs_Password_Salt_4096", "password", "salt", 4096, 32,
     "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"},
};

class Pbkdf2Kat : public ::testing::TestWithParam<Pbkdf2Vector> {};

TEST_P(Pbkdf2Kat, DerivesTheKnownKey) {
  const Pbkdf2Vector& v = GetParam();
  auto dk =
      Pbkdf2(HashAlgorithm::kSha256, Bytes(v.password), Bytes(v.salt), v.iterations, v.length);
  ASSERT_TRUE(dk.ok()) << dk.status().ToString();
  EXPECT_EQ(HexEncode(dk->span()), HexEncode(Hex(v.dk)));
}

INSTANTIATE_TEST_SUITE_P(Sha256, Pbkdf2Kat, ::testing::ValuesIn(kPbkdf2Vectors),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Pbkdf2Test, AcceptsEmptyPasswordAndSalt) {
  // Legal in RFC 8018 §5.2; KMIP clients may send them.
  auto a = Pbkdf2(HashAlgorithm::kSha512, {}, {}, 1, 64);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->size(), 64u);
  // With one iteration and a one-block output, PBKDF2 is HMAC(P, S || INT(1))
  // (RFC 8018 §5.2 step 3), which pins the empty-input handling down.
  auto b = Pbkdf2(HashAlgorithm::kSha256, Bytes("pw"), {}, 1, 32);
  auto mac = Hmac(HashAlgorithm::kSha256, SecretBytes(Bytes("pw")), Hex("00000001"));
  ASSERT_TRUE(b.ok() && mac.ok());
  EXPECT_EQ(HexEncode(b->span()), HexEncode(*mac));
}

TEST(Pbkdf2Test, RejectsOutOfRangeParameters) {
  EXPECT_EQ(Pbkdf2(HashAlgorithm::kSha256, Bytes("p"), Bytes("s"), 0, 32).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Pbkdf2(HashAlgorithm::kSha256, Bytes("p"), Bytes("s"), 1, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Pbkdf2(HashAlgorithm::kSha256, Bytes("p"), Bytes("s"), 1, kMaxPbkdf2Length + 1)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Pbkdf2(static_cast<HashAlgorithm>(7), Bytes("p"), Bytes("s"), 1, 32).status().code(),
            StatusCode::kInvalidArgument);
}

// ---- ConstantTimeEquals ----

TEST(ConstantTimeEqualsTest, ComparesContentsAndSizes) {
  EXPECT_TRUE(ConstantTimeEquals(Bytes("abc"), Bytes("abc")));
  EXPECT_FALSE(ConstantTimeEquals(Bytes("abc"), Bytes("abd")));
  EXPECT_FALSE(ConstantTimeEquals(Bytes("abc"), Bytes("ab")));
  EXPECT_TRUE(ConstantTimeEquals({}, {}));
  EXPECT_FALSE(ConstantTimeEquals({}, Bytes("a")));
}

}  // namespace
}  // namespace vmcrypt::crypto
