// CipherStream (parts give what one call gives; failures carry KMIP
// reasons) and CryptoStreams (ownership, expiry, bound).
#include "src/kms/crypto_streams.h"

#include <gtest/gtest.h>

#include <vector>

#include "src/kms/cipher_stream.h"
#include "src/kms/managed.h"
#include "vmcrypt/base/encoding.h"

namespace vmcrypt::kms::internal {
namespace {

using kmip::Operation;
using kmip::ResultReason;

SecretBytes Key(size_t n) {
  std::vector<uint8_t> k(n);
  for (size_t i = 0; i < n; ++i) k[i] = static_cast<uint8_t>(i * 7 + 1);
  return SecretBytes(std::span<const uint8_t>(k));
}

std::vector<uint8_t> Data(size_t n) {
  std::vector<uint8_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<uint8_t>(i);
  return d;
}

// Runs `spec` over `in` in parts of the given sizes (the rest last).
ttlv::Bytes InParts(const CipherSpec& spec, const SecretBytes& key, std::span<const uint8_t> iv,
                    std::span<const uint8_t> in, std::vector<size_t> sizes,
                    ttlv::Bytes* tag = nullptr) {
  auto s = CipherStream::Start(spec, key, iv, {});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  ttlv::Bytes out;
  size_t at = 0;
  sizes.push_back(in.size());
  for (size_t n : sizes) {
    n = std::min(n, in.size() - at);
    auto part = s->Update(in.subspan(at, n));
    EXPECT_TRUE(part.ok());
    out.insert(out.end(), part->begin(), part->end());
    at += n;
  }
  auto fin = s->Finish({});
  EXPECT_TRUE(fin.ok()) << fin.status().ToString();
  if (!fin.ok()) return {};
  out.insert(out.end(), fin->data.begin(), fin->data.end());
  if (tag != nullptr) *tag = fin->tag;
  return out;
}

TEST(CipherStreamTest, PartsGiveWhatOneCallGives) {
  const auto data = Data(100);
  const auto iv16 = Data(16);
  const auto iv12 = Data(12);
  struct Case {
    const EVP_CIPHER* cipher;
    size_t key;
    std::span<const uint8_t> iv;
    bool pad, aead;
  } cases[] = {
      {EVP_aes_256_cbc(), 32, iv16, true, false},       {EVP_aes_128_ctr(), 16, iv16, false, false},
      {EVP_aes_192_gcm(), 24, iv12, false, true},       {EVP_chacha20(), 32, iv16, false, false},
      {EVP_chacha20_poly1305(), 32, iv12, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(EVP_CIPHER_get0_name(c.cipher));
    CipherSpec spec{c.cipher, true, c.pad, c.aead, 16};
    ttlv::Bytes tag_one, tag_parts;
    const ttlv::Bytes one = InParts(spec, Key(c.key), c.iv, data, {}, &tag_one);
    const ttlv::Bytes parts = InParts(spec, Key(c.key), c.iv, data, {1, 30, 0, 17}, &tag_parts);
    EXPECT_EQ(HexEncode(one), HexEncode(parts));
    EXPECT_EQ(HexEncode(tag_one), HexEncode(tag_parts));
    EXPECT_EQ(tag_one.size(), c.aead ? 16u : 0u);
    // And back.
    spec.encrypt = false;
    auto s = CipherStream::Start(spec, Key(c.key), c.iv, {});
    ASSERT_TRUE(s.ok());
    auto plain = s->Update(one);
    ASSERT_TRUE(plain.ok());
    auto fin = s->Finish(tag_one);
    ASSERT_TRUE(fin.ok()) << fin.status().ToString();
    plain->insert(plain->end(), fin->data.begin(), fin->data.end());
    EXPECT_EQ(HexEncode(*plain), HexEncode(data));
  }
}

TEST(CipherStreamTest, FailuresCarryTheirReason) {
  const auto iv12 = Data(12);
  CipherSpec gcm{EVP_aes_128_gcm(), true, false, true, 16};
  ttlv::Bytes tag;
  const ttlv::Bytes sealed = InParts(gcm, Key(16), iv12, Data(40), {}, &tag);
  gcm.encrypt = false;
  tag[3] ^= 1;
  auto s = CipherStream::Start(gcm, Key(16), iv12, {});
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->Update(sealed).ok());
  auto bad = s->Finish(tag);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ReasonOf(bad.status()), ResultReason::kCryptographicFailure);

  // Bad PKCS#5 padding on Decrypt.
  CipherSpec cbc{EVP_aes_128_cbc(), false, true, false, 16};
  auto c = CipherStream::Start(cbc, Key(16), Data(16), {});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Update(Data(32)).ok());
  auto unpadded = c->Finish({});
  ASSERT_FALSE(unpadded.ok());
  EXPECT_EQ(ReasonOf(unpadded.status()), ResultReason::kCryptographicFailure);

  // A key or IV the cipher cannot take.
  EXPECT_EQ(ReasonOf(CipherStream::Start(cbc, Key(15), Data(16), {}).status()),
            ResultReason::kInvalidField);
  EXPECT_EQ(ReasonOf(CipherStream::Start(cbc, Key(16), Data(8), {}).status()),
            ResultReason::kInvalidField);
}

CryptoStreams::Entry NewEntry(const std::string& tenant, Operation op) {
  auto s = CipherStream::Start({EVP_aes_128_ctr(), true, false, false, 16}, Key(16), Data(16), {});
  EXPECT_TRUE(s.ok());
  return CryptoStreams::Entry{tenant, "key-1", op, std::move(*s), 0};
}

TEST(CryptoStreamsTest, OnlyItsTenantAndOperationCanContinueACall) {
  CryptoStreams streams;
  auto corr = streams.Start(NewEntry("a", Operation::kEncrypt), 1000);
  ASSERT_TRUE(corr.ok());
  EXPECT_EQ(corr->size(), 16u);
  EXPECT_EQ(ReasonOf(streams.Take(*corr, "b", Operation::kEncrypt, 1001).status()),
            ResultReason::kInvalidField);
  EXPECT_FALSE(streams.Take(*corr, "a", Operation::kDecrypt, 1001).ok());
  EXPECT_FALSE(streams.Take(ttlv::Bytes(16, 0), "a", Operation::kEncrypt, 1001).ok());
  auto e = streams.Take(*corr, "a", Operation::kEncrypt, 1001);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->uid, "key-1");
  EXPECT_EQ(streams.size(), 0u);  // taken: a second taker finds nothing
  EXPECT_FALSE(streams.Take(*corr, "a", Operation::kEncrypt, 1001).ok());
  streams.PutBack(*corr, std::move(*e), 1002);
  EXPECT_TRUE(streams.Take(*corr, "a", Operation::kEncrypt, 1003).ok());
}

TEST(CryptoStreamsTest, IdleCallsExpireAndTheTableIsBounded) {
  CryptoStreams streams;
  auto corr = streams.Start(NewEntry("a", Operation::kEncrypt), 1000);
  ASSERT_TRUE(corr.ok());
  const int64_t late = 1000 + CryptoStreams::kIdleSeconds + 1;
  EXPECT_FALSE(streams.Take(*corr, "a", Operation::kEncrypt, late).ok());
  EXPECT_EQ(streams.size(), 0u);

  for (size_t i = 0; i < CryptoStreams::kMaxStreams; ++i) {
    ASSERT_TRUE(streams.Start(NewEntry("a", Operation::kEncrypt), 2000).ok());
  }
  auto full = streams.Start(NewEntry("a", Operation::kEncrypt), 2000);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(ReasonOf(full.status()), ResultReason::kGeneralFailure);
  // Expired calls make room.
  EXPECT_TRUE(
      streams.Start(NewEntry("a", Operation::kEncrypt), 2001 + CryptoStreams::kIdleSeconds).ok());
  EXPECT_EQ(streams.size(), 1u);
}

}  // namespace
}  // namespace vmcrypt::kms::internal
