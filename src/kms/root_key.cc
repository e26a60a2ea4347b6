#include "vmcrypt/kms/root_key.h"

#include <string_view>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/aead.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::kms {
namespace {

constexpr size_t kRootKeySize = 32;
constexpr char kHeader[] =
    "# vmcrypt software root key. Keep it secret (mode 0600) and back it up with\n"
    "# the store: without it no stored key can be read.\n";

// Finds "name=value" on its own line; the value stays in `text`'s buffer.
std::string_view Field(std::string_view text, std::string_view name) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == '=') {
      return line.substr(name.size() + 1);
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace

SoftwareRootKey::SoftwareRootKey(std::string path, uint32_t version, SecretBytes key)
    : path_(std::move(path)), version_(version), key_(std::move(key)) {}

Status SoftwareRootKey::Generate(const std::string& path, uint32_t version) {
  ASSIGN_OR_RETURN(SecretBytes key, crypto::RandomSecret(kRootKeySize));
  std::string b64 = Base64Encode(key.span());
  std::string text =
      std::string(kHeader) + "version=" + std::to_string(version) + "\nkey=" + b64 + "\n";
  Status s = WriteFileAtomic(path, AsBytes(text), 0600);
  internal::SecureWipe(b64.data(), b64.size());
  internal::SecureWipe(text.data(), text.size());
  return s;
}

Result<std::unique_ptr<SoftwareRootKey>> SoftwareRootKey::Load(const std::string& path) {
  ASSIGN_OR_RETURN(SecretBytes file, ReadSecretFile(path));
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  std::string_view version_text = Field(text, "version");
  std::string_view key_text = Field(text, "key");
  uint32_t version = 0;
  for (char c : version_text) {
    if (c < '0' || c > '9' || version > 100000000) {
      return InvalidArgumentError("root key file " + path + ": bad version line");
    }
    version = version * 10 + static_cast<uint32_t>(c - '0');
  }
  if (version == 0) return InvalidArgumentError("root key file " + path + ": missing version");
  auto decoded = Base64Decode(key_text);
  if (!decoded.ok() || decoded->size() != kRootKeySize) {
    if (decoded.ok()) internal::SecureWipe(decoded->data(), decoded->size());
    return InvalidArgumentError("root key file " + path +
                                ": the key line is not 32 bytes of base64");
  }
  SecretBytes key(*decoded);
  internal::SecureWipe(decoded->data(), decoded->size());
  return std::unique_ptr<SoftwareRootKey>(new SoftwareRootKey(path, version, std::move(key)));
}

std::string SoftwareRootKey::Describe() const {
  return "software root key v" + std::to_string(version_) + " (" + path_ + ")";
}

std::vector<uint8_t> SoftwareRootKey::Aad(uint32_t version, std::span<const uint8_t> aad) const {
  // "vmcrypt-crk" || version (4 bytes BE) || caller's associated data.
  std::vector<uint8_t> out = {'v', 'm', 'c', 'r', 'y', 'p', 't', '-', 'c', 'r', 'k'};
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(version >> (8 * i)));
  out.insert(out.end(), aad.begin(), aad.end());
  return out;
}

Result<WrappedKey> SoftwareRootKey::Wrap(const SecretBytes& key, std::span<const uint8_t> aad) {
  WrappedKey out;
  out.root_key_version = version_;
  ASSIGN_OR_RETURN(out.blob, crypto::SealWithRandomIv(key_, Aad(version_, aad), key.span()));
  return out;
}

Result<SecretBytes> SoftwareRootKey::Unwrap(const WrappedKey& wrapped,
                                            std::span<const uint8_t> aad) {
  if (wrapped.root_key_version != version_) {
    return NotFoundError("root key version " + std::to_string(wrapped.root_key_version) +
                         " is not loaded (have " + Describe() + ")");
  }
  auto key = crypto::OpenSealed(key_, Aad(version_, aad), wrapped.blob);
  if (!key.ok()) return DataLossError("stored key failed its integrity check under " + Describe());
  return key;
}

}  // namespace vmcrypt::kms
