#include "vmcrypt/disk/header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/disk/test_util.h"

namespace vmcrypt::disk {
namespace {

using testing::TestKek;

struct Fixture {
  SecretBytes dek;
  SecretBytes mac_key;
  Header h;
};

Fixture MakeHeader() {
  Fixture f;
  f.dek = *GenerateDek();
  f.h.uuid = *NewUuid();
  f.h.size = 64 << 20;
  f.h.data_offset = kAttachedDataOffset;
  f.h.sequence = 7;
  f.h.entries.push_back(*WrapDek(f.dek, TestKek(1), KeyRole::kCurrent, "prov", "key-1"));
  f.mac_key = *DeriveMacKey(f.dek, f.h.uuid);
  return f;
}

// Recomputes the checksum after an edit (what a careful attacker would do).
void Reseal(std::vector<uint8_t>& copy) {
  const size_t length = (copy[10] << 8) | copy[11];
  const auto sum = Sha256(std::span(copy).first(length - 32));
  std::copy(sum.begin(), sum.end(), copy.begin() + (length - 32));
}

TEST(HeaderTest, RoundTrip) {
  Fixture f = MakeHeader();
  f.h.operation = Operation::kDeepRekey;
  f.h.checkpoint = 3;
  f.h.journal_valid = true;
  f.h.journal_sha256[0] = 0xaa;
  f.h.entries.push_back(*WrapDek(*GenerateDek(), TestKek(1), KeyRole::kNext, "prov", "key-1"));
  auto bytes = EncodeHeader(f.h, f.mac_key);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_EQ(bytes->size(), kHeaderCopySize);
  auto d = DecodeHeader(*bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(VerifyHeaderMac(*d, f.mac_key).ok());
  const Header& h = d->header;
  EXPECT_EQ(h.sequence, 7u);
  EXPECT_EQ(h.uuid, f.h.uuid);
  EXPECT_EQ(h.size, f.h.size);
  EXPECT_EQ(h.operation, Operation::kDeepRekey);
  EXPECT_EQ(h.checkpoint, 3u);
  EXPECT_TRUE(h.journal_valid);
  EXPECT_EQ(h.journal_sha256, f.h.journal_sha256);
  ASSERT_EQ(h.entries.size(), 2u);
  EXPECT_EQ(h.entries[0].provider_id, "prov");
  EXPECT_EQ(h.entries[0].key_id, "key-1");
  EXPECT_EQ(h.entries[1].role, KeyRole::kNext);
  auto dek = UnwrapDek(h.entries[0], TestKek(1));
  ASSERT_TRUE(dek.ok());
  EXPECT_TRUE(dek->Equals(f.dek));
  // The DEK never appears in the header bytes.
  EXPECT_FALSE(testing::Contains(*bytes, f.dek.span()));
  EXPECT_FALSE(testing::Contains(*bytes, TestKek(1).span()));
}

TEST(HeaderTest, EveryFlippedByteIsDetected) {
  Fixture f = MakeHeader();
  auto bytes = *EncodeHeader(f.h, f.mac_key);
  const size_t length = (bytes[10] << 8) | bytes[11];
  for (size_t i = 0; i < length; ++i) {
    auto copy = bytes;
    copy[i] ^= 0x40;
    EXPECT_FALSE(DecodeHeader(copy).ok()) << "byte " << i;
  }
}

TEST(HeaderTest, TruncatedCopyIsRefused) {
  Fixture f = MakeHeader();
  auto bytes = *EncodeHeader(f.h, f.mac_key);
  for (size_t n = 0; n < kHeaderCopySize; n += 97) {
    auto r = DecodeHeader(std::span(bytes).first(n));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  }
}

TEST(HeaderTest, OutOfRangeFieldsAreRefusedEvenWithAValidChecksum) {
  Fixture f = MakeHeader();
  const auto good = *EncodeHeader(f.h, f.mac_key);
  // Entry layout from offset 136: role, wrap, provider length (2) "prov",
  // key id length (2) "key-1", wrapped length (2), wrapped key.
  struct Edit {
    const char* what;
    size_t offset;
    uint8_t value;
  } edits[] = {
      {"version", 9, 2},
      {"flags", 15, 2},
      {"sector size", 58, 0x20},
      {"cipher", 61, 2},
      {"entry count 0", 63, 0},
      {"entry count 5", 63, 5},
      {"journal offset", 69, 1},
      {"chunk size", 74, 1},
      {"reserved", 77, 1},
      {"operation", 80, 9},
      {"reserved after op", 83, 1},
      {"journal state", 96, 2},
      {"role", 136, 3},
      {"wrap algorithm", 137, 2},
      {"provider length", 139, 200},
      {"key id length 0", 145, 0},
      {"key id length big", 144, 0x7f},
      {"wrapped length", 152, 71},
      {"header length small", 11, 10},
  };
  for (const Edit& e : edits) {
    auto copy = good;
    copy[e.offset] = e.value;
    if (e.offset == 10 || e.offset == 11) {
      // A shorter header_length: recompute the checksum at the new end.
      const size_t n = (copy[10] << 8) | copy[11];
      if (n >= 32) {
        const auto sum = Sha256(std::span(copy).first(n - 32));
        std::copy(sum.begin(), sum.end(), copy.begin() + (n - 32));
      }
    } else {
      Reseal(copy);
    }
    auto d = DecodeHeader(copy);
    ASSERT_FALSE(d.ok()) << e.what;
    EXPECT_EQ(d.status().code(), StatusCode::kDataLoss) << e.what;
  }
}

TEST(HeaderTest, ResealedEditFailsTheMac) {
  Fixture f = MakeHeader();
  auto bytes = *EncodeHeader(f.h, f.mac_key);
  // Change the key id "key-1" to "key-2" and fix the checksum.
  auto it = std::search(bytes.begin(), bytes.end(), f.h.entries[0].key_id.begin(),
                        f.h.entries[0].key_id.end());
  ASSERT_NE(it, bytes.end());
  it[4] = '2';
  Reseal(bytes);
  auto d = DecodeHeader(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  Status s = VerifyHeaderMac(*d, f.mac_key);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("header authentication failed"), std::string::npos);
}

TEST(HeaderTest, ResealedSizeChangeFailsTheMac) {
  Fixture f = MakeHeader();
  auto bytes = *EncodeHeader(f.h, f.mac_key);
  bytes[40 + 5] ^= 0x10;  // size field, still a multiple of 4096
  Reseal(bytes);
  auto d = DecodeHeader(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(VerifyHeaderMac(*d, f.mac_key).ok());
}

TEST(HeaderTest, WrongKekNamesProviderAndKeyId) {
  Fixture f = MakeHeader();
  auto r = UnwrapDek(f.h.entries[0], TestKek(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("provider \"prov\", key id \"key-1\""), std::string::npos)
      << r.status().message();
}

TEST(HeaderTest, DamagedWrappedKeyIsRefused) {
  Fixture f = MakeHeader();
  KeySafeEntry e = f.h.entries[0];
  e.wrapped_dek[10] ^= 1;
  EXPECT_EQ(UnwrapDek(e, TestKek(1)).status().code(), StatusCode::kPermissionDenied);
}

TEST(HeaderTest, ValidateRefusesInconsistentHeaders) {
  Fixture f = MakeHeader();
  Header h = f.h;
  h.size = 4095;
  EXPECT_FALSE(ValidateHeader(h).ok());
  h = f.h;
  h.operation = Operation::kDeepRekey;  // without a next key
  EXPECT_FALSE(ValidateHeader(h).ok());
  h = f.h;
  h.operation = Operation::kEncrypt;  // in place needs detached
  EXPECT_FALSE(ValidateHeader(h).ok());
  h = f.h;
  h.entries[0].key_id = "";
  EXPECT_FALSE(ValidateHeader(h).ok());
  h = f.h;
  h.checkpoint = 1;  // without an operation
  EXPECT_FALSE(ValidateHeader(h).ok());
}

TEST(HeaderTest, DeksAreRandomWithDistinctHalves) {
  auto a = GenerateDek();
  auto b = GenerateDek();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_FALSE(a->Equals(*b));
}

}  // namespace
}  // namespace vmcrypt::disk
