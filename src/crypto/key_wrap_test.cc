#include "vmcrypt/crypto/key_wrap.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "src/crypto/test_util.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::crypto {
namespace {

using testing::Hex;
using testing::SecretHex;
using testing::ToVector;

constexpr char kKek128[] = "000102030405060708090A0B0C0D0E0F";
constexpr char kKek192[] = "000102030405060708090A0B0C0D0E0F1011121314151617";
constexpr char kKek256[] = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
constexpr char kData128[] = "00112233445566778899AABBCCDDEEFF";
constexpr char kData192[] = "00112233445566778899AABBCCDDEEFF0001020304050607";
constexpr char kData256[] = "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F";

struct WrapVector {
  const char* name;
  const char* kek;
  const char* key_data;
  const char* wrapped;
};

// RFC 3394 §4.1-§4.6 (all six).
const WrapVector kRfc3394Vectors[] = {
    {"4_1_Data128_Kek128", kKek128, kData128, "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5"},
    {"4_2_Data128_Kek192", kKek192, kData128, "96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D"},
    {"4_3_Data128_Kek256", kKek256, kData128, "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7"},
    {"4_4_Data192_Kek192", kKek192, kData192,
     "031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2"},
    {"4_5_Data192_Kek256", kKek256, kData192,
     "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1"},
    {"4_6_Data256_Kek256", kKek256, kData256,
     "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21"},
};

constexpr char kRfc5649Kek[] = "5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8";

// RFC 5649 §6 (both), 192-bit KEK.
const WrapVector kRfc5649Vectors[] = {
    {"Key20Bytes", kRfc5649Kek, "c37b7e6492584340 bed1220780894115 5068f738",
     "138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a"},
    {"Key7Bytes", kRfc5649Kek, "466f7250617369", "afbeb0f07dfbf541 9200f2ccb50bb24f"},
};

std::string VectorName(const ::testing::TestParamInfo<WrapVector>& info) { return info.param.name; }

void ExpectIntegrityFailure(const Status& s) {
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(s.message(), "key unwrap failed: integrity check");
}

// ---- RFC 3394 ----

class AesKeyWrapKat : public ::testing::TestWithParam<WrapVector> {};

TEST_P(AesKeyWrapKat, WrapsToTheRfcCiphertext) {
  const WrapVector& v = GetParam();
  auto wrapped = AesKeyWrap(SecretHex(v.kek), Hex(v.key_data));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(HexEncode(*wrapped), HexEncode(Hex(v.wrapped)));
}

TEST_P(AesKeyWrapKat, UnwrapsToTheRfcKeyData) {
  const WrapVector& v = GetParam();
  auto key = AesKeyUnwrap(SecretHex(v.kek), Hex(v.wrapped));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToVector(*key), Hex(v.key_data));
}

TEST_P(AesKeyWrapKat, EveryFlippedByteFailsTheIntegrityCheck) {
  const WrapVector& v = GetParam();
  const std::vector<uint8_t> good = Hex(v.wrapped);
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x01;
    ExpectIntegrityFailure(AesKeyUnwrap(SecretHex(v.kek), bad).status());
  }
}

TEST_P(AesKeyWrapKat, EveryTruncationFails) {
  const WrapVector& v = GetParam();
  const std::vector<uint8_t> good = Hex(v.wrapped);
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = AesKeyUnwrap(SecretHex(v.kek), std::span(good).first(n));
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << "length " << n;
  }
}

TEST_P(AesKeyWrapKat, WrongKekFails) {
  const WrapVector& v = GetParam();
  SecretBytes kek = SecretHex(v.kek);
  kek.data()[0] ^= 0x80;
  ExpectIntegrityFailure(AesKeyUnwrap(kek, Hex(v.wrapped)).status());
}

INSTANTIATE_TEST_SUITE_P(Rfc3394Section4, AesKeyWrapKat, ::testing::ValuesIn(kRfc3394Vectors),
                         VectorName);

// ---- RFC 5649 ----

class AesKeyWrapPadKat : public ::testing::TestWithParam<WrapVector> {};

TEST_P(AesKeyWrapPadKat, WrapsToTheRfcCiphertext) {
  const WrapVector& v = GetParam();
  auto wrapped = AesKeyWrapPad(SecretHex(v.kek), Hex(v.key_data));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  EXPECT_EQ(HexEncode(*wrapped), HexEncode(Hex(v.wrapped)));
}

TEST_P(AesKeyWrapPadKat, UnwrapsToTheRfcKeyData) {
  const WrapVector& v = GetParam();
  auto key = AesKeyUnwrapPad(SecretHex(v.kek), Hex(v.wrapped));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(ToVector(*key), Hex(v.key_data));
}

TEST_P(AesKeyWrapPadKat, EveryFlippedByteFailsTheIntegrityCheck) {
  const WrapVector& v = GetParam();
  const std::vector<uint8_t> good = Hex(v.wrapped);
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t bit : {0x01, 0x80}) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= bit;
      ExpectIntegrityFailure(AesKeyUnwrapPad(SecretHex(v.kek), bad).status());
    }
  }
}

TEST_P(AesKeyWrapPadKat, EveryTruncationFails) {
  const WrapVector& v = GetParam();
  const std::vector<uint8_t> good = Hex(v.wrapped);
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = AesKeyUnwrapPad(SecretHex(v.kek), std::span(good).first(n));
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << "length " << n;
  }
}

TEST_P(AesKeyWrapPadKat, WrongKekFails) {
  const WrapVector& v = GetParam();
  SecretBytes kek = SecretHex(v.kek);
  kek.data()[23] ^= 0x01;
  ExpectIntegrityFailure(AesKeyUnwrapPad(kek, Hex(v.wrapped)).status());
}

INSTANTIATE_TEST_SUITE_P(Rfc5649Section6, AesKeyWrapPadKat, ::testing::ValuesIn(kRfc5649Vectors),
                         VectorName);

// ---- Round trips and parameter checks ----

TEST(AesKeyWrapPadTest, RoundTripsEveryLengthUnderEveryKekSize) {
  for (const char* kek_hex : {kKek128, kKek192, kKek256}) {
    const SecretBytes kek = SecretHex(kek_hex);
    for (size_t n = 1; n <= 72; ++n) {
      std::vector<uint8_t> key(n);
      for (size_t i = 0; i < n; ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
      auto wrapped = AesKeyWrapPad(kek, key);
      ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
      // RFC 5649 §4.1: padded to a multiple of 8, plus the 8-byte AIV.
      EXPECT_EQ(wrapped->size(), (n + 7) / 8 * 8 + 8) << n;
      auto back = AesKeyUnwrapPad(kek, *wrapped);
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(ToVector(*back), key) << n;
    }
  }
}

TEST(AesKeyWrapTest, RoundTripsLongKeyData) {
  const SecretBytes kek = SecretHex(kKek256);
  std::vector<uint8_t> key(512, 0x5A);
  auto wrapped = AesKeyWrap(kek, key);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->size(), 520u);
  auto back = AesKeyUnwrap(kek, *wrapped);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(ToVector(*back), key);
}

TEST(AesKeyWrapTest, RejectsBadKekSizes) {
  const std::vector<uint8_t> key = Hex(kData128);
  for (size_t size : {0, 8, 15, 17, 20, 31, 33, 64}) {
    const SecretBytes kek{std::vector<uint8_t>(size, 0x11)};
    EXPECT_EQ(AesKeyWrap(kek, key).status().code(), StatusCode::kInvalidArgument) << size;
    EXPECT_EQ(AesKeyWrapPad(kek, key).status().code(), StatusCode::kInvalidArgument) << size;
    EXPECT_EQ(AesKeyUnwrap(kek, Hex(kRfc3394Vectors[0].wrapped)).status().code(),
              StatusCode::kInvalidArgument)
        << size;
    EXPECT_EQ(AesKeyUnwrapPad(kek, Hex(kRfc5649Vectors[0].wrapped)).status().code(),
              StatusCode::kInvalidArgument)
        << size;
  }
}

TEST(AesKeyWrapTest, RejectsKeyDataRfc3394CannotWrap) {
  const SecretBytes kek = SecretHex(kKek128);
  // RFC 3394 §2: at least two 64-bit blocks, whole blocks only.
  for (size_t size : {0, 1, 7, 8, 15, 17, 23, 31}) {
    auto r = AesKeyWrap(kek, std::vector<uint8_t>(size, 1));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << size;
  }
}

TEST(AesKeyWrapPadTest, RejectsEmptyAndOversizeKeyData) {
  const SecretBytes kek = SecretHex(kKek128);
  EXPECT_EQ(AesKeyWrapPad(kek, {}).status().code(), StatusCode::kInvalidArgument);
  std::vector<uint8_t> huge(kMaxWrappedKeyData + 1);
  EXPECT_EQ(AesKeyWrapPad(kek, huge).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AesKeyWrap(kek, std::vector<uint8_t>(kMaxWrappedKeyData + 8)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(AesKeyWrapTest, RejectsMisalignedWrappedLengths) {
  const SecretBytes kek = SecretHex(kKek128);
  std::vector<uint8_t> wrapped = Hex(kRfc3394Vectors[0].wrapped);
  wrapped.push_back(0);  // 25 bytes
  EXPECT_EQ(AesKeyUnwrap(kek, wrapped).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(AesKeyUnwrapPad(kek, wrapped).status().code(), StatusCode::kDataLoss);
}

TEST(AesKeyWrapTest, ModesDoNotCrossUnwrap) {
  // A KW blob has the RFC 3394 IV, which fails the RFC 5649 AIV check, and
  // the other way round.
  const SecretBytes kek = SecretHex(kKek256);
  const std::vector<uint8_t> key = Hex(kData256);
  auto kw = AesKeyWrap(kek, key);
  auto kwp = AesKeyWrapPad(kek, key);
  ASSERT_TRUE(kw.ok() && kwp.ok());
  ExpectIntegrityFailure(AesKeyUnwrapPad(kek, *kw).status());
  ExpectIntegrityFailure(AesKeyUnwrap(kek, *kwp).status());
}

// Builds a one-block KWP blob by hand (RFC 5649 §4.1: for m <= 8 the padded
// plaintext P1 is encrypted as one AES block, AIV || P1) so the checks on the
// Message Length Indicator and the padding can be exercised.
std::vector<uint8_t> EncryptOneKwpBlock(const SecretBytes& kek, uint32_t mli,
                                        const std::vector<uint8_t>& padded8) {
  std::vector<uint8_t> block = {0xA6,
                                0x59,
                                0x59,
                                0xA6,
                                static_cast<uint8_t>(mli >> 24),
                                static_cast<uint8_t>(mli >> 16),
                                static_cast<uint8_t>(mli >> 8),
                                static_cast<uint8_t>(mli)};
  block.insert(block.end(), padded8.begin(), padded8.end());
  EvpCipherPtr ecb(EVP_CIPHER_fetch(nullptr, "AES-192-ECB", nullptr));
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::vector<uint8_t> out(32);
  int n = 0;
  if (ecb == nullptr || ctx == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), ecb.get(), kek.data(), nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &n, block.data(), 16) != 1 || n != 16) {
    ADD_FAILURE() << "AES-ECB setup failed";
    return {};
  }
  out.resize(16);
  return out;
}

TEST(AesKeyWrapPadTest, HandBuiltBlockMatchesTheRfcVector) {
  // Sanity check of the helper against RFC 5649 §6 (7-byte key).
  const SecretBytes kek = SecretHex(kRfc5649Kek);
  std::vector<uint8_t> padded = Hex("466f7250617369 00");
  EXPECT_EQ(HexEncode(EncryptOneKwpBlock(kek, 7, padded)),
            HexEncode(Hex(kRfc5649Vectors[1].wrapped)));
}

TEST(AesKeyWrapPadTest, RejectsNonZeroPadding) {
  // RFC 5649 §3 step 3: the padding octets must be zero.
  const SecretBytes kek = SecretHex(kRfc5649Kek);
  ExpectIntegrityFailure(
      AesKeyUnwrapPad(kek, EncryptOneKwpBlock(kek, 7, Hex("466f7250617369 01"))).status());
}

TEST(AesKeyWrapPadTest, RejectsOutOfRangeLengthIndicator) {
  // RFC 5649 §3 step 2: 8*(n-1) < MLI <= 8*n; here n = 1.
  const SecretBytes kek = SecretHex(kRfc5649Kek);
  const std::vector<uint8_t> padded = Hex("466f725061736900");
  for (uint32_t mli : {0u, 9u, 16u, 0xFFFFFFFFu}) {
    ExpectIntegrityFailure(AesKeyUnwrapPad(kek, EncryptOneKwpBlock(kek, mli, padded)).status());
  }
  // MLI = 8 with a full block is valid: the 8 bytes come back unchanged.
  auto r = AesKeyUnwrapPad(kek, EncryptOneKwpBlock(kek, 8, padded));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ToVector(*r), padded);
}

TEST(AesKeyWrapTest, ErrorsNeverEchoKeyBytes) {
  const SecretBytes kek = SecretHex(kKek256);
  const std::string kek_hex = HexEncode(kek.span());
  std::vector<uint8_t> bad = Hex(kRfc3394Vectors[5].wrapped);
  bad[3] ^= 1;
  for (const Status& s : {AesKeyUnwrap(kek, bad).status(), AesKeyUnwrapPad(kek, bad).status(),
                          AesKeyWrap(SecretHex("0011223344"), Hex(kData128)).status()}) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.message().find(kek_hex.substr(0, 8)), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("0011223344"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace vmcrypt::crypto
