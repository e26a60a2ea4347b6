#include "vmcrypt/host/native_kek.h"

#include <array>
#include <cstdint>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/kdf.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::host {

Result<SecretBytes> DeriveNativeKek(const SecretBytes& kdk, std::string_view provider,
                                    std::string_view key_id) {
  if (kdk.size() != kKdkSize) {
    return InvalidArgumentError("a key derivation key is " + std::to_string(kKdkSize) +
                                " bytes, not " + std::to_string(kdk.size()));
  }
  if (provider.empty() || key_id.empty()) {
    return InvalidArgumentError("a native KEK needs a provider and a key id");
  }
  // '|' separates the fields of the info string; with none in the provider,
  // different (provider, key id) pairs never share an info string.
  if (provider.find('|') != std::string_view::npos) {
    return InvalidArgumentError("a native key provider's name cannot contain '|': " +
                                std::string(provider));
  }
  std::string info = "vmcrypt native KEK v1|";
  info.append(provider);
  info += '|';
  info.append(key_id);
  return crypto::HkdfSha256(kdk, {}, AsBytes(info), kKdkSize);
}

Result<std::string> NewNativeKeyId() {
  std::array<uint8_t, 16> b;
  RETURN_IF_ERROR(crypto::RandomBytes(b));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4 (RFC 9562 §5.4)
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
  const std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace vmcrypt::host
