#include "vmcrypt/disk/tools.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/disk/test_util.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header.h"

namespace vmcrypt::disk {
namespace {

using testing::Contains;
using testing::Pattern;
using testing::ReadAll;
using testing::TempDir;
using testing::TestKek;
using testing::WriteAll;

constexpr uint64_t kMiB = 1 << 20;

// A raw image with data, a zero chunk and a zero sector inside data.
std::vector<uint8_t> RawImage() {
  auto img = Pattern(5 * kMiB + 8192, 11);
  std::fill(img.begin() + 2 * kMiB, img.begin() + 3 * kMiB, 0);
  std::fill(img.begin() + 4096, img.begin() + 8192, 0);
  return img;
}

std::vector<uint8_t> ReadDisk(const std::string& path, uint8_t kek_seed) {
  auto disk = EncryptedDisk::Open(path, SingleKek(TestKek(kek_seed)));
  EXPECT_TRUE(disk.ok()) << disk.status().ToString();
  if (!disk.ok()) return {};
  std::vector<uint8_t> out((*disk)->size());
  EXPECT_TRUE((*disk)->Read(0, out).ok());
  return out;
}

TEST(ParseSizeTest, Suffixes) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("64K"), 65536u);
  EXPECT_EQ(*ParseSize("100M"), 100u << 20);
  EXPECT_EQ(*ParseSize("2G"), uint64_t{2} << 30);
  EXPECT_EQ(*ParseSize("1t"), uint64_t{1} << 40);
  for (const char* bad : {"", "M", "-1", "1.5G", "12X", "99999999999999999G"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << bad;
  }
}

TEST(ToolsTest, CreateRefusesExistingAndBadInput) {
  TempDir dir;
  const std::string p = dir.File("d.img");
  EXPECT_EQ(CreateDisk(p, 4095, TestKek(1), {"", "k"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateDisk(p, kMiB, SecretBytes(16), {"", "k"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateDisk(p, kMiB, TestKek(1), {"", ""}).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(CreateDisk(p, kMiB, TestKek(1), {"", "k"}).ok());
  EXPECT_EQ(CreateDisk(p, kMiB, TestKek(1), {"", "k"}).code(), StatusCode::kAlreadyExists);
}

TEST(ToolsTest, EncryptInPlaceThenDecryptInPlace) {
  TempDir dir;
  const std::string raw = dir.File("raw.img");
  const auto img = RawImage();
  WriteAll(raw, img);
  ASSERT_TRUE(EncryptInPlace(raw, TestKek(1), {"prov", "key-1"}).ok());
  const auto enc = ReadAll(raw);
  EXPECT_EQ(enc.size(), img.size());
  EXPECT_FALSE(Contains(enc, std::span(img).first(32)));
  EXPECT_FALSE(Contains(enc, std::span(img).subspan(3 * kMiB, 32)));
  // Zero sectors stay zero (unwritten).
  EXPECT_TRUE(std::all_of(enc.begin() + 2 * kMiB, enc.begin() + 3 * kMiB,
                          [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(ReadDisk(raw, 1), img);
  // Running it again says so and changes nothing.
  EXPECT_EQ(EncryptInPlace(raw, TestKek(1), {"prov", "key-1"}).code(), StatusCode::kAlreadyExists);
  // The header file holds neither DEK nor KEK nor plaintext (journal dropped).
  const auto hdr = ReadAll(raw + ".hdr");
  auto d = DecodeHeader(std::span(hdr).first(kHeaderCopySize));
  ASSERT_TRUE(d.ok());
  auto dek = UnwrapDek(d->header.entries[0], TestKek(1));
  ASSERT_TRUE(dek.ok());
  for (const auto* f : {&hdr, &enc}) {
    EXPECT_FALSE(Contains(*f, dek->span().first(16)));
    EXPECT_FALSE(Contains(*f, dek->span().last(16)));
    EXPECT_FALSE(Contains(*f, TestKek(1).span().first(16)));
  }
  EXPECT_FALSE(Contains(hdr, std::span(img).subspan(4 * kMiB, 32)));

  ASSERT_TRUE(DecryptInPlace(raw, TestKek(1)).ok());
  EXPECT_EQ(ReadAll(raw), img);
  EXPECT_FALSE(std::filesystem::exists(raw + ".hdr"));
}

TEST(ToolsTest, EncryptToFileAndDecryptToFile) {
  TempDir dir;
  const std::string raw = dir.File("raw.img");
  const std::string enc = dir.File("enc.img");
  const std::string out = dir.File("out.img");
  const auto img = RawImage();
  WriteAll(raw, img);
  ASSERT_TRUE(EncryptToFile(raw, enc, TestKek(1), {"p", "k"}).ok());
  EXPECT_EQ(ReadAll(raw), img);  // the source is untouched
  EXPECT_EQ(ReadDisk(enc, 1), img);
  EXPECT_EQ(DecryptToFile(enc, out, TestKek(2)).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(std::filesystem::exists(out));
  ASSERT_TRUE(DecryptToFile(enc, out, TestKek(1)).ok());
  EXPECT_EQ(ReadAll(out), img);
  EXPECT_EQ(DecryptToFile(enc, out, TestKek(1)).code(), StatusCode::kAlreadyExists);
  // Attached disks decrypt "in place" through a renamed copy.
  ASSERT_TRUE(DecryptInPlace(enc, TestKek(1)).ok());
  EXPECT_EQ(ReadAll(enc), img);
}

TEST(ToolsTest, ShallowRekeyRewrapsWithoutTouchingData) {
  TempDir dir;
  const std::string p = dir.File("d.img");
  ASSERT_TRUE(CreateDisk(p, 4 * kMiB, TestKek(1), {"prov", "old"}).ok());
  const auto data = Pattern(kMiB, 3);
  {
    auto disk = EncryptedDisk::Open(p, SingleKek(TestKek(1)));
    ASSERT_TRUE(disk.ok());
    ASSERT_TRUE((*disk)->Write(0, data, true).ok());
  }
  const auto before = ReadAll(p);
  EXPECT_EQ(ShallowRekey(p, TestKek(5), TestKek(2), {"prov", "new"}).code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(ShallowRekey(p, TestKek(1), TestKek(2), {"prov", "new"}).ok());
  const auto after = ReadAll(p);
  EXPECT_TRUE(std::equal(before.begin() + kAttachedDataOffset, before.end(),
                         after.begin() + kAttachedDataOffset));
  auto old = EncryptedDisk::Open(p, SingleKek(TestKek(1)));
  ASSERT_FALSE(old.ok());
  EXPECT_NE(old.status().message().find("key id \"new\""), std::string::npos);
  auto got = ReadDisk(p, 2);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), got.begin()));
}

TEST(ToolsTest, DeepRekeyChangesTheDekAndKeepsData) {
  TempDir dir;
  const std::string raw = dir.File("raw.img");
  const auto img = RawImage();
  WriteAll(raw, img);
  ASSERT_TRUE(EncryptInPlace(raw, TestKek(1), {"p", "k"}).ok());
  const auto before = ReadAll(raw);
  ASSERT_TRUE(DeepRekey(raw, TestKek(1)).ok());
  const auto after = ReadAll(raw);
  EXPECT_NE(before, after);
  EXPECT_EQ(ReadDisk(raw, 1), img);
  // A KEK that does not unwrap the current key cannot start a rekey.
  EXPECT_FALSE(DeepRekey(raw, TestKek(3)).ok());
}

}  // namespace
}  // namespace vmcrypt::disk
