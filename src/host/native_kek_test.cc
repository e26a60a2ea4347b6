// Native KEK derivation: a known answer, a direct OpenSSL HKDF computation,
// and separation between key ids and providers.
#include "vmcrypt/host/native_kek.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <regex>
#include <set>
#include <vector>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::host {
namespace {

// HKDF-SHA-256 straight from OpenSSL's EVP_KDF (not crypto::HkdfSha256).
std::vector<uint8_t> OpenSslHkdf(const SecretBytes& ikm, const std::string& info) {
  crypto::EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  crypto::EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  char digest[] = "SHA256";
  std::string info_copy = info;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()),
                                        ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_copy.data(), info_copy.size()),
      OSSL_PARAM_construct_end()};
  std::vector<uint8_t> out(32);
  EXPECT_EQ(EVP_KDF_derive(ctx.get(), out.data(), out.size(), params), 1);
  return out;
}

SecretBytes CountingKdk() {
  SecretBytes kdk(32);
  for (size_t i = 0; i < kdk.size(); ++i) kdk.data()[i] = static_cast<uint8_t>(i);
  return kdk;
}

TEST(NativeKekTest, KnownAnswer) {
  // Computed independently with Python's hmac module (RFC 5869 by hand).
  auto kek = DeriveNativeKek(CountingKdk(), "native1", "3f1c2a4e-0000-4000-8000-000000000001");
  ASSERT_TRUE(kek.ok()) << kek.status().ToString();
  EXPECT_EQ(HexEncode(kek->span()),
            "230753cfcb70545a07b04a37f07b4f225c54cc6433315a65a66c6df29cf1d926");
}

TEST(NativeKekTest, MatchesADirectHkdfComputation) {
  SecretBytes kdk = *crypto::RandomSecret(32);
  for (const auto& [provider, key_id] : std::vector<std::pair<std::string, std::string>>{
           {"native1", "k1"}, {"np", "6f9619ff-8b86-4d11-b42d-00c04fc964ff"}, {"a", "b|c"}}) {
    auto kek = DeriveNativeKek(kdk, provider, key_id);
    ASSERT_TRUE(kek.ok()) << kek.status().ToString();
    EXPECT_EQ(kek->size(), 32u);
    const std::vector<uint8_t> want =
        OpenSslHkdf(kdk, "vmcrypt native KEK v1|" + provider + "|" + key_id);
    EXPECT_EQ(HexEncode(kek->span()), HexEncode(want)) << provider << " " << key_id;
  }
}

TEST(NativeKekTest, EveryKeyIdProviderAndKdkGivesAnotherKek) {
  SecretBytes kdk = *crypto::RandomSecret(32);
  SecretBytes other = *crypto::RandomSecret(32);
  std::set<std::string> seen;
  auto add = [&](const SecretBytes& k, const std::string& p, const std::string& id) {
    auto kek = DeriveNativeKek(k, p, id);
    ASSERT_TRUE(kek.ok()) << kek.status().ToString();
    EXPECT_TRUE(seen.insert(HexEncode(kek->span())).second) << p << " " << id;
  };
  add(kdk, "native1", "k1");
  add(kdk, "native1", "k2");
  add(kdk, "native2", "k1");
  add(other, "native1", "k1");
  add(kdk, "native1", "k1x");
  // The same inputs give the same KEK.
  auto again = DeriveNativeKek(kdk, "native1", "k1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(seen.count(HexEncode(again->span())), 1u);
}

TEST(NativeKekTest, BadInputsAreRefusedWithoutKeyBytes) {
  SecretBytes kdk = CountingKdk();
  SecretBytes short_kdk(16);
  auto s = DeriveNativeKek(short_kdk, "p", "k");
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("32 bytes, not 16"), std::string::npos);
  EXPECT_EQ(DeriveNativeKek(SecretBytes(), "p", "k").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveNativeKek(kdk, "", "k").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveNativeKek(kdk, "p", "").status().code(), StatusCode::kInvalidArgument);
  // "a|b","c" would share its info string with "a","b|c".
  auto bar = DeriveNativeKek(kdk, "a|b", "c");
  EXPECT_EQ(bar.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bar.status().message().find("cannot contain '|'"), std::string::npos);
  EXPECT_EQ(bar.status().message().find(HexEncode(kdk.span())), std::string::npos);
}

TEST(NativeKekTest, NewKeyIdsAreRandomVersion4Uuids) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> ids;
  for (int i = 0; i < 64; ++i) {
    auto id = NewNativeKeyId();
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(std::regex_match(*id, uuid)) << *id;
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), 64u);
}

}  // namespace
}  // namespace vmcrypt::host
