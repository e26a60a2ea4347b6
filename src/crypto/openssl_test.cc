#include "vmcrypt/crypto/openssl.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>

namespace vmcrypt::crypto {
namespace {

// The deleters are empty, so the owners cost one pointer.
static_assert(sizeof(EvpCipherCtxPtr) == sizeof(void*));
static_assert(sizeof(EvpMacCtxPtr) == sizeof(void*));
static_assert(sizeof(EvpKdfCtxPtr) == sizeof(void*));
static_assert(sizeof(EvpPkeyCtxPtr) == sizeof(void*));

TEST(OpenSslTest, ErrorStringWithEmptyQueue) {
  ERR_clear_error();
  EXPECT_EQ(OpenSslErrorString(), "no OpenSSL error detail");
}

TEST(OpenSslTest, ErrorStringDrainsTheQueue) {
  ERR_clear_error();
  EvpCipherPtr missing(EVP_CIPHER_fetch(nullptr, "NO-SUCH-CIPHER", nullptr));
  ASSERT_EQ(missing, nullptr);
  const std::string text = OpenSslErrorString();
  EXPECT_NE(text.find("error:"), std::string::npos) << text;
  EXPECT_EQ(ERR_peek_error(), 0u);
  EXPECT_EQ(OpenSslErrorString(), "no OpenSSL error detail");
}

TEST(OpenSslTest, OwnersFreeWhatTheyHold) {
  // Run under ASan/LSan (VMCRYPT_SANITIZE) this proves the deleters free.
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  ASSERT_NE(cipher, nullptr);
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ASSERT_NE(ctx, nullptr);
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  ASSERT_NE(mac, nullptr);
  EvpMacCtxPtr mac_ctx(EVP_MAC_CTX_new(mac.get()));
  EXPECT_NE(mac_ctx, nullptr);
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  ASSERT_NE(kdf, nullptr);
  EvpKdfCtxPtr kdf_ctx(EVP_KDF_CTX_new(kdf.get()));
  EXPECT_NE(kdf_ctx, nullptr);
  EvpPkeyCtxPtr pkey_ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EXPECT_NE(pkey_ctx, nullptr);
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_NE(bio, nullptr);
}

}  // namespace
}  // namespace vmcrypt::crypto
