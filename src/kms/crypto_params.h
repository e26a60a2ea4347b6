// The Cryptographic Parameters (KMIP 1.4 §2.1.5, 2.1 §2.1.5) fields the key
// server's cryptographic services use, and the key bytes of a symmetric key.
// Internal to kms.
#ifndef VMCRYPT_SRC_KMS_CRYPTO_PARAMS_H_
#define VMCRYPT_SRC_KMS_CRYPTO_PARAMS_H_

#include <cstdint>
#include <optional>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/object.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kms::internal {

// Block Cipher Mode values (1.4 §9.1.3.2.14, 2.1 §11.5) the server handles.
enum class CipherMode : uint32_t {
  kCbc = 0x01,
  kEcb = 0x02,
  kCtr = 0x06,
  kGcm = 0x09,
  kAesKeyWrapPadding = 0x0C,
  kNistKeyWrap = 0x0D,
  kAead = 0x12,  // 2.1: the algorithm's own AEAD construction
};
// Padding Method values (1.4 §9.1.3.2.15).
inline constexpr uint32_t kPaddingNone = 0x01;
inline constexpr uint32_t kPaddingPkcs5 = 0x03;
// Cryptographic Algorithm values enums.h does not name (2.1 §11.13).
inline constexpr uint32_t kAlgorithmChaCha20Poly1305 = 0x1E;

// The fields used; absent fields stay empty.
struct CryptoParams {
  std::optional<uint32_t> mode;
  std::optional<uint32_t> padding;
  std::optional<uint32_t> hashing;
  std::optional<uint32_t> algorithm;
  std::optional<bool> random_iv;
  std::optional<int64_t> iv_length_bits;
  std::optional<int64_t> tag_length;
};

// Reads `s` (nullptr: all empty). A field of the wrong type, or `s` not a
// structure, is Invalid Field.
Result<CryptoParams> ParseCryptoParams(const ttlv::Item* s);

// The OpenSSL digest name of a Hashing Algorithm (1.4 §9.1.3.2.16) when
// `hashing` is given, else of an HMAC Cryptographic Algorithm (§9.1.3.2.13);
// empty if it names no supported SHA-1/SHA-2.
std::string_view HmacDigest(std::optional<uint32_t> hmac_algorithm,
                            std::optional<uint32_t> hashing);

// The raw bytes of a symmetric key held as Raw or Transparent Symmetric Key
// (1.4 §2.1.7.1). Key Value Not Present without a Key Block; Key Format Type
// Not Supported for any other form.
Result<SecretBytes> SymmetricKeyBytes(const kmip::ManagedObject& object);

}  // namespace vmcrypt::kms::internal

#endif  // VMCRYPT_SRC_KMS_CRYPTO_PARAMS_H_
