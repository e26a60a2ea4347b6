#include "vmcrypt/host/support_bundle.h"

#include <nlohmann/json.hpp>
#include <vector>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/aead.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::host {
namespace {

using json = nlohmann::json;
constexpr char kWrap[] = "AES-256-KWP";  // RFC 5649
constexpr size_t kKekSize = 32;          // AES-256
constexpr size_t kDekSize = 32;          // AES-256-GCM

// The sealed content's associated data: binds it to the envelope's key names.
std::vector<uint8_t> Aad(const KeyRef& key) {
  const std::string aad = std::string(kSupportBundleFormat) + "|" + key.provider + "|" + key.key_id;
  return {aad.begin(), aad.end()};
}

Status NotABundle(const std::string& why) {
  return DataLossError("not a vmcrypt support bundle: " + why);
}

// The envelope of a bundle file, checked field by field.
struct Envelope {
  KeyRef key;
  std::vector<uint8_t> wrapped_dek;
  std::vector<uint8_t> sealed;
};

Result<Envelope> ParseEnvelope(std::string_view text) {
  if (text.size() > kMaxSupportBundleSize) {
    return NotABundle("larger than " + std::to_string(kMaxSupportBundleSize) + " bytes");
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return NotABundle("not a JSON object");
  auto str = [&j](const char* field) -> Result<std::string> {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string()) {
      return NotABundle(std::string("\"") + field + "\" is missing or not a string");
    }
    return it->get<std::string>();
  };
  ASSIGN_OR_RETURN(std::string format, str("format"));
  if (format != kSupportBundleFormat) {
    return NotABundle("format \"" + format + "\", expected \"" + kSupportBundleFormat + "\"");
  }
  ASSIGN_OR_RETURN(std::string wrap, str("wrap"));
  if (wrap != kWrap) return NotABundle("key wrap \"" + wrap + "\", expected \"" + kWrap + "\"");
  Envelope e;
  ASSIGN_OR_RETURN(e.key.provider, str("provider"));
  ASSIGN_OR_RETURN(e.key.key_id, str("key_id"));
  if (e.key.provider.empty() || e.key.key_id.empty()) return NotABundle("empty key names");
  ASSIGN_OR_RETURN(std::string wrapped, str("wrapped_dek"));
  ASSIGN_OR_RETURN(std::string sealed, str("sealed"));
  auto wrapped_bytes = Base64Decode(wrapped);
  if (!wrapped_bytes.ok()) return NotABundle("\"wrapped_dek\" is not base64");
  auto sealed_bytes = Base64Decode(sealed);
  if (!sealed_bytes.ok()) return NotABundle("\"sealed\" is not base64");
  e.wrapped_dek = std::move(*wrapped_bytes);
  e.sealed = std::move(*sealed_bytes);
  return e;
}

}  // namespace

Result<std::string> SealSupportBundle(std::string_view content, const KeyRef& host_key,
                                      const SecretBytes& kek) {
  if (kek.size() != kKekSize) {
    return InvalidArgumentError("a host key is 32 bytes (AES-256), not " +
                                std::to_string(kek.size()));
  }
  if (host_key.provider.empty() || host_key.key_id.empty()) {
    return InvalidArgumentError("a host key needs a provider and a key id");
  }
  // Base64 grows the sealed content by a third; half the limit leaves room.
  if (content.size() > kMaxSupportBundleSize / 2) {
    return InvalidArgumentError("support bundle content over " +
                                std::to_string(kMaxSupportBundleSize / 2) + " bytes");
  }
  ASSIGN_OR_RETURN(SecretBytes dek, crypto::RandomSecret(kDekSize));
  ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped, crypto::AesKeyWrapPad(kek, dek.span()));
  ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                   crypto::SealWithRandomIv(dek, Aad(host_key), AsBytes(content)));
  const json envelope = {{"format", kSupportBundleFormat},
                         {"provider", host_key.provider},
                         {"key_id", host_key.key_id},
                         {"wrap", kWrap},
                         {"wrapped_dek", Base64Encode(wrapped)},
                         {"sealed", Base64Encode(sealed)}};
  return envelope.dump() + "\n";
}

Result<KeyRef> SupportBundleKey(std::string_view file_text) {
  ASSIGN_OR_RETURN(Envelope e, ParseEnvelope(file_text));
  return e.key;
}

Result<std::string> OpenSupportBundle(std::string_view file_text, std::span<const uint8_t> kek) {
  if (kek.size() != kKekSize) {
    return InvalidArgumentError("a host key is 32 bytes (AES-256), not " +
                                std::to_string(kek.size()));
  }
  ASSIGN_OR_RETURN(Envelope e, ParseEnvelope(file_text));
  const SecretBytes host_key(kek);
  ASSIGN_OR_RETURN(SecretBytes dek, crypto::AesKeyUnwrapPad(host_key, e.wrapped_dek));
  if (dek.size() != kDekSize) return DataLossError("key unwrap failed: wrong DEK size");
  ASSIGN_OR_RETURN(SecretBytes content, crypto::OpenSealed(dek, Aad(e.key), e.sealed));
  return std::string(reinterpret_cast<const char*>(content.data()), content.size());
}

}  // namespace vmcrypt::host
