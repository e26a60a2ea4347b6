#include "vmcrypt/crypto/aead.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/crypto/test_util.h"
#include "vmcrypt/base/encoding.h"

namespace vmcrypt::crypto {
namespace {

using testing::Bytes;
using testing::Hex;
using testing::SecretHex;
using testing::ToVector;

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

constexpr char kKey3[] = "feffe9928665731c6d6a8f9467308308";
constexpr char kKey15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr char kIv3[] = "cafebabefacedbaddecaf888";
constexpr char kAad4[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
constexpr char kPlain3[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
// Test cases 4 and 16 drop the last 4 bytes of the plaintext (60 bytes).
constexpr char kPlain4[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
constexpr char kZeroKey128[] = "00000000000000000000000000000000";
constexpr char kZeroKey256[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kZeroIv[] = "000000000000000000000000";
constexpr char kZeroBlock[] = "00000000000000000000000000000000";

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised
// 2005, Appendix B: test cases 1-4 (AES-128) and 13-16 (AES-256).
const GcmVector kGcmVectors[] = {
    {"Case1", kZeroKey128, kZeroIv, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
    {"Case2", kZeroKey128, kZeroIv, "", kZeroBlock, "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"Case3", kKey3, kIv3, "", kPlain3,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"Case4", kKey3, kIv3, kAad4, kPlain4,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"Case13", kZeroKey256, kZeroIv, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"Case14", kZeroKey256, kZeroIv, "", kZeroBlock, "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"Case15", kKey15, kIv3, "", kPlain3,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"Case16", kKey15, kIv3, kAad4, kPlain4,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

std::vector<uint8_t> Sealed(const GcmVector& v) {
  std::vector<uint8_t> out = Hex(v.ciphertext);
  std::vector<uint8_t> tag = Hex(v.tag);
  out.insert(out.end(), tag.begin(), tag.end());
  return out;
}

void ExpectAuthFailure(const Status& s) {
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(s.message(), "authentication failed");
}

class AesGcmKat : public ::testing::TestWithParam<GcmVector> {};

TEST_P(AesGcmKat, SealsToTheSpecCiphertextAndTag) {
  const GcmVector& v = GetParam();
  auto sealed = AesGcmSeal(SecretHex(v.key), Hex(v.iv), Hex(v.aad), Hex(v.plaintext));
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(HexEncode(*sealed), HexEncode(Sealed(v)));
}

TEST_P(AesGcmKat, OpensToTheSpecPlaintext) {
  const GcmVector& v = GetParam();
  auto plain = AesGcmOpen(SecretHex(v.key), Hex(v.iv), Hex(v.aad), Sealed(v));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(ToVector(*plain), Hex(v.plaintext));
}

TEST_P(AesGcmKat, ShortTagsArePrefixesOfTheFullTag) {
  // SP 800-38D §7.1 step 6: T = MSB_t(full tag).
  const GcmVector& v = GetParam();
  for (size_t tag_len = kGcmMinTagSize; tag_len <= kGcmTagSize; ++tag_len) {
    auto sealed = AesGcmSeal(SecretHex(v.key), Hex(v.iv), Hex(v.aad), Hex(v.plaintext), tag_len);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    std::vector<uint8_t> expected = Sealed(v);
    expected.resize(expected.size() - (kGcmTagSize - tag_len));
    EXPECT_EQ(HexEncode(*sealed), HexEncode(expected)) << tag_len;
    auto plain = AesGcmOpen(SecretHex(v.key), Hex(v.iv), Hex(v.aad), *sealed, tag_len);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(ToVector(*plain), Hex(v.plaintext));
  }
}

TEST_P(AesGcmKat, EveryFlippedCiphertextOrTagByteFails) {
  const GcmVector& v = GetParam();
  const std::vector<uint8_t> good = Sealed(v);
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x01;
    ExpectAuthFailure(AesGcmOpen(SecretHex(v.key), Hex(v.iv), Hex(v.aad), bad).status());
  }
}

TEST_P(AesGcmKat, EveryTruncationFails) {
  const GcmVector& v = GetParam();
  const std::vector<uint8_t> good = Sealed(v);
  for (size_t n = 0; n < good.size(); ++n) {
    ExpectAuthFailure(
        AesGcmOpen(SecretHex(v.key), Hex(v.iv), Hex(v.aad), std::span(good).first(n)).status());
  }
}

TEST_P(AesGcmKat, ChangedAadIvOrKeyFails) {
  const GcmVector& v = GetParam();
  std::vector<uint8_t> aad = Hex(v.aad);
  aad.push_back(0);  // extended AAD
  ExpectAuthFailure(AesGcmOpen(SecretHex(v.key), Hex(v.iv), aad, Sealed(v)).status());
  if (aad.size() > 1) {
    aad.pop_back();
    aad[0] ^= 0x01;  // flipped AAD
    ExpectAuthFailure(AesGcmOpen(SecretHex(v.key), Hex(v.iv), aad, Sealed(v)).status());
  }
  std::vector<uint8_t> iv = Hex(v.iv);
  iv[11] ^= 0x01;
  ExpectAuthFailure(AesGcmOpen(SecretHex(v.key), iv, Hex(v.aad), Sealed(v)).status());
  SecretBytes key = SecretHex(v.key);
  key.data()[0] ^= 0x01;
  ExpectAuthFailure(AesGcmOpen(key, Hex(v.iv), Hex(v.aad), Sealed(v)).status());
}

INSTANTIATE_TEST_SUITE_P(McGrewViega, AesGcmKat, ::testing::ValuesIn(kGcmVectors),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AesGcmTest, RejectsBadKeySizes) {
  // 192-bit keys are valid AES but not offered (project policy: 128 or 256).
  for (size_t size : {0, 8, 15, 17, 24, 31, 33, 64}) {
    const SecretBytes key{std::vector<uint8_t>(size, 0x22)};
    EXPECT_EQ(AesGcmSeal(key, Hex(kIv3), {}, Bytes("x")).status().code(),
              StatusCode::kInvalidArgument)
        << size;
    EXPECT_EQ(AesGcmOpen(key, Hex(kIv3), {}, std::vector<uint8_t>(17)).status().code(),
              StatusCode::kInvalidArgument)
        << size;
    EXPECT_EQ(SealWithRandomIv(key, {}, Bytes("x")).status().code(), StatusCode::kInvalidArgument)
        << size;
    EXPECT_EQ(OpenSealed(key, {}, std::vector<uint8_t>(40)).status().code(),
              StatusCode::kInvalidArgument)
        << size;
  }
}

TEST(AesGcmTest, RejectsEmptyOrOverlongIv) {
  const SecretBytes key = SecretHex(kKey3);
  EXPECT_EQ(AesGcmSeal(key, {}, {}, Bytes("x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AesGcmOpen(key, {}, {}, std::vector<uint8_t>(17)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      AesGcmSeal(key, std::vector<uint8_t>(kGcmMaxIvSize + 1), {}, Bytes("x")).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(AesGcmTest, NonStandardIvLengthsRoundTrip) {
  // SP 800-38D §7.1 step 2: IVs other than 96 bits are GHASHed into J0.
  const SecretBytes key = SecretHex(kKey3);
  for (size_t iv_len : {1, 8, 16, 60, 128}) {
    const std::vector<uint8_t> iv(iv_len, 0x42);
    auto sealed = AesGcmSeal(key, iv, Bytes("aad"), Bytes("secret"));
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    auto plain = AesGcmOpen(key, iv, Bytes("aad"), *sealed);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    EXPECT_EQ(ToVector(*plain), Bytes("secret"));
  }
}

TEST(AesGcmTest, RejectsUnsupportedTagLengths) {
  const SecretBytes key = SecretHex(kKey3);
  for (size_t tag_len : {0, 4, 8, 11, 17, 32}) {
    EXPECT_EQ(AesGcmSeal(key, Hex(kIv3), {}, Bytes("x"), tag_len).status().code(),
              StatusCode::kInvalidArgument)
        << tag_len;
    EXPECT_EQ(AesGcmOpen(key, Hex(kIv3), {}, std::vector<uint8_t>(40), tag_len).status().code(),
              StatusCode::kInvalidArgument)
        << tag_len;
  }
}

TEST(AesGcmTest, OpenWithDifferentTagLengthFails) {
  const SecretBytes key = SecretHex(kKey3);
  auto sealed = AesGcmSeal(key, Hex(kIv3), {}, Bytes("payload"), 16);
  ASSERT_TRUE(sealed.ok());
  ExpectAuthFailure(AesGcmOpen(key, Hex(kIv3), {}, *sealed, 12).status());
}

// ---- Sealed box ----

TEST(SealedBoxTest, RoundTripsWithTheDocumentedLayout) {
  const SecretBytes key = SecretHex(kKey15);
  const std::vector<uint8_t> aad = Bytes("object 42 / root key");
  for (size_t n : {0, 1, 16, 32, 1000}) {
    const std::vector<uint8_t> plain(n, 0xC3);
    auto box = SealWithRandomIv(key, aad, plain);
    ASSERT_TRUE(box.ok()) << box.status().ToString();
    ASSERT_EQ(box->size(), kSealedBoxOverhead + n);
    auto opened = OpenSealed(key, aad, *box);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(ToVector(*opened), plain);
    // The layout is IV (12) || ciphertext || tag (16): plain AES-GCM opens it.
    auto direct = AesGcmOpen(key, std::span(*box).first(kGcmIvSize), aad,
                             std::span(*box).subspan(kGcmIvSize));
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(ToVector(*direct), plain);
  }
}

TEST(SealedBoxTest, UsesAFreshIvEachTime) {
  const SecretBytes key = SecretHex(kKey3);
  auto a = SealWithRandomIv(key, {}, Bytes("same"));
  auto b = SealWithRandomIv(key, {}, Bytes("same"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(HexEncode(std::span(*a).first(kGcmIvSize)), HexEncode(std::span(*b).first(kGcmIvSize)));
  EXPECT_NE(HexEncode(*a), HexEncode(*b));
}

TEST(SealedBoxTest, TamperingTruncationAndWrongContextFail) {
  const SecretBytes key = SecretHex(kKey3);
  const std::vector<uint8_t> aad = Bytes("ctx");
  auto box = SealWithRandomIv(key, aad, Bytes("root key bytes"));
  ASSERT_TRUE(box.ok());
  for (size_t i = 0; i < box->size(); ++i) {
    std::vector<uint8_t> bad = *box;
    bad[i] ^= 0x40;
    ExpectAuthFailure(OpenSealed(key, aad, bad).status());
  }
  for (size_t n = 0; n < box->size(); ++n) {
    const Status s = OpenSealed(key, aad, std::span(*box).first(n)).status();
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << n;
    if (n < kSealedBoxOverhead) {
      EXPECT_NE(s.message().find("sealed box truncated"), std::string::npos) << s.message();
    }
  }
  ExpectAuthFailure(OpenSealed(key, Bytes("ctx2"), *box).status());
  ExpectAuthFailure(OpenSealed(key, {}, *box).status());
}

}  // namespace
}  // namespace vmcrypt::crypto
