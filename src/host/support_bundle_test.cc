// Support bundle sealing and opening: round trip, and every way a bundle
// file can be damaged or tampered with fails with DataLoss, releasing
// nothing.
#include "vmcrypt/host/support_bundle.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::host {
namespace {

using json = nlohmann::json;

class SupportBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kek_ = *crypto::RandomSecret(32);
    auto text = SealSupportBundle(content_, key_, kek_);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    text_ = *text;
  }

  // The file text with field `name` replaced by `value`.
  std::string With(const std::string& name, const json& value) const {
    json j = json::parse(text_);
    j[name] = value;
    return j.dump();
  }
  std::vector<uint8_t> Bytes(const std::string& field) const {
    return *Base64Decode(json::parse(text_)[field].get<std::string>());
  }
  void ExpectDataLoss(const std::string& text, const std::string& what) const {
    auto opened = OpenSupportBundle(text, kek_.span());
    ASSERT_FALSE(opened.ok()) << what;
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss)
        << what << ": " << opened.status().ToString();
  }

  const std::string content_ = R"({"vms":[{"name":"payroll-db"}],"note":"support case 42"})";
  const KeyRef key_{"kms1", "host-key-7"};
  SecretBytes kek_;
  std::string text_;
};

TEST_F(SupportBundleTest, OpensWithTheHostKeyAndHoldsNoClearContentOrKey) {
  const json envelope = json::parse(text_);
  EXPECT_EQ(envelope["format"], "vmcrypt-support-bundle/1");
  EXPECT_EQ(envelope["wrap"], "AES-256-KWP");
  EXPECT_EQ(envelope["provider"], "kms1");
  EXPECT_EQ(envelope["key_id"], "host-key-7");
  // A 32-byte DEK wrapped with padding is 40 bytes; the box adds IV and tag.
  EXPECT_EQ(Bytes("wrapped_dek").size(), 40u);
  EXPECT_EQ(Bytes("sealed").size(), content_.size() + 12 + 16);

  auto key = SupportBundleKey(text_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, key_);
  auto opened = OpenSupportBundle(text_, kek_.span());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, content_);

  EXPECT_EQ(text_.find("payroll-db"), std::string::npos);
  EXPECT_EQ(text_.find("support case"), std::string::npos);
  const std::string raw(reinterpret_cast<const char*>(kek_.data()), kek_.size());
  EXPECT_EQ(text_.find(raw), std::string::npos);
  EXPECT_EQ(text_.find(HexEncode(kek_.span())), std::string::npos);
  EXPECT_EQ(text_.find(Base64Encode(kek_.span())), std::string::npos);
}

TEST_F(SupportBundleTest, EachBundleHasItsOwnDek) {
  auto again = SealSupportBundle(content_, key_, kek_);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(json::parse(*again)["wrapped_dek"], json::parse(text_)["wrapped_dek"]);
  EXPECT_NE(json::parse(*again)["sealed"], json::parse(text_)["sealed"]);
  EXPECT_EQ(*OpenSupportBundle(*again, kek_.span()), content_);
}

TEST_F(SupportBundleTest, AnotherKeyCannotOpenIt) {
  SecretBytes other = *crypto::RandomSecret(32);
  auto opened = OpenSupportBundle(text_, other.span());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(opened.status().message().find("payroll"), std::string::npos);
}

TEST_F(SupportBundleTest, EveryFlippedByteOfTheSealedContentIsDetected) {
  const std::vector<uint8_t> sealed = Bytes("sealed");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> bad = sealed;
    bad[i] ^= 0x01;
    ExpectDataLoss(With("sealed", Base64Encode(bad)), "sealed byte " + std::to_string(i));
  }
}

TEST_F(SupportBundleTest, EveryTruncationOfTheSealedContentIsDetected) {
  const std::vector<uint8_t> sealed = Bytes("sealed");
  for (size_t n = 0; n < sealed.size(); ++n) {
    std::vector<uint8_t> cut(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(n));
    ExpectDataLoss(With("sealed", Base64Encode(cut)), "sealed cut to " + std::to_string(n));
  }
}

TEST_F(SupportBundleTest, EveryFlippedByteOrTruncationOfTheWrappedDekIsDetected) {
  const std::vector<uint8_t> wrapped = Bytes("wrapped_dek");
  for (size_t i = 0; i < wrapped.size(); ++i) {
    std::vector<uint8_t> bad = wrapped;
    bad[i] ^= 0x80;
    ExpectDataLoss(With("wrapped_dek", Base64Encode(bad)), "wrapped byte " + std::to_string(i));
    std::vector<uint8_t> cut(wrapped.begin(), wrapped.begin() + static_cast<std::ptrdiff_t>(i));
    ExpectDataLoss(With("wrapped_dek", Base64Encode(cut)), "wrapped cut to " + std::to_string(i));
  }
}

TEST_F(SupportBundleTest, TheKeyNamesAreBoundToTheContent) {
  // The same KEK under other names (a forged envelope) does not open it.
  ExpectDataLoss(With("key_id", "host-key-8"), "key id changed");
  ExpectDataLoss(With("provider", "kms2"), "provider changed");
}

TEST_F(SupportBundleTest, MalformedEnvelopesAreRefused) {
  ExpectDataLoss("", "empty");
  ExpectDataLoss("[]", "an array");
  ExpectDataLoss(With("format", "vmcrypt-support-bundle/2"), "format");
  ExpectDataLoss(With("wrap", "AES-256-KW"), "wrap");
  ExpectDataLoss(With("sealed", "not base64!"), "sealed not base64");
  ExpectDataLoss(With("wrapped_dek", 42), "wrapped_dek a number");
  ExpectDataLoss(With("provider", ""), "empty provider");
  for (const char* field : {"format", "provider", "key_id", "wrap", "wrapped_dek", "sealed"}) {
    json j = json::parse(text_);
    j.erase(field);
    ExpectDataLoss(j.dump(), std::string("without ") + field);
  }
  for (size_t n = 0; n + 1 < text_.size(); n += 7) {  // "}\n" cut at least
    ExpectDataLoss(text_.substr(0, n), "file cut to " + std::to_string(n));
  }
  EXPECT_EQ(SupportBundleKey("{}").status().code(), StatusCode::kDataLoss);
}

TEST_F(SupportBundleTest, BadParametersAreInvalidArguments) {
  SecretBytes short_kek = *crypto::RandomSecret(16);
  EXPECT_EQ(SealSupportBundle(content_, key_, short_kek).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SealSupportBundle(content_, {"kms1", ""}, kek_).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSupportBundle(text_, short_kek.span()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vmcrypt::host
