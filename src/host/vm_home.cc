#include "vmcrypt/host/vm_home.h"

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/crypto/aead.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::host {
namespace {

using json = nlohmann::json;
constexpr char kFormat[] = "vmcrypt-vm-home/1";
constexpr char kWrap[] = "AES-256-KWP";  // RFC 5649

// Associated data of the sealed secrets: a box cannot move to another VM.
std::vector<uint8_t> SecretsAad(const std::string& name) {
  std::string aad = std::string("vmcrypt-vm-secrets|") + name;
  return {aad.begin(), aad.end()};
}

}  // namespace

Status CheckName(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  if (ok) return OkStatus();
  return InvalidArgumentError(
      what + " \"" + name + "\" is not valid: use 1-64 of A-Z a-z 0-9 . _ - (not starting with .)");
}

Result<VmHome> LoadVmHome(const std::string& dir) {
  const std::string path = dir + "/vm.json";
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", "") != kFormat) {
    return DataLossError(path + " is not a vmcrypt VM description (" + kFormat + ")");
  }
  VmHome h;
  try {
    h.name = j.at("name").get<std::string>();
    h.vtpm = j.value("vtpm", false);
    if (j.contains("key_safe") && !j["key_safe"].is_null()) {
      const json& ks = j["key_safe"];
      if (ks.value("wrap", "") != kWrap) {
        return DataLossError(path + ": unknown key safe wrap algorithm");
      }
      VmKeySafe safe;
      safe.kek = {ks.at("provider").get<std::string>(), ks.at("key_id").get<std::string>()};
      ASSIGN_OR_RETURN(safe.wrapped_dek, Base64Decode(ks.at("wrapped_dek").get<std::string>()));
      h.key_safe = std::move(safe);
      ASSIGN_OR_RETURN(h.sealed_secrets, Base64Decode(j.at("sealed_secrets").get<std::string>()));
    } else {
      h.clear_secrets = j.value("secrets", json::object());
    }
    for (const json& d : j.at("disks")) {
      h.disks.push_back(
          {d.at("name").get<std::string>(), d.at("file").get<std::string>(), d.at("size")});
    }
  } catch (const json::exception& e) {
    return DataLossError(path + " is damaged: " + e.what());
  }
  return h;
}

Status SaveVmHome(const std::string& dir, const VmHome& h) {
  json j = {{"format", kFormat}, {"name", h.name}, {"vtpm", h.vtpm}};
  if (h.key_safe) {
    j["key_safe"] = {{"provider", h.key_safe->kek.provider},
                     {"key_id", h.key_safe->kek.key_id},
                     {"wrap", kWrap},
                     {"wrapped_dek", Base64Encode(h.key_safe->wrapped_dek)}};
    j["sealed_secrets"] = Base64Encode(h.sealed_secrets);
  } else {
    j["key_safe"] = nullptr;
    j["secrets"] = h.clear_secrets;
  }
  j["disks"] = json::array();
  for (const VmDisk& d : h.disks) {
    j["disks"].push_back({{"name", d.name}, {"file", d.file}, {"size", d.size}});
  }
  return WriteFileAtomic(dir + "/vm.json", AsBytes(j.dump(2) + "\n"), 0600, /*overwrite=*/true);
}

Result<SecretBytes> EncryptHome(VmHome& home, const KeyRef& ref, const SecretBytes& kek) {
  json secrets = home.encrypted() ? json::object() : home.clear_secrets;
  ASSIGN_OR_RETURN(SecretBytes dek, crypto::RandomSecret(32));
  ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped, crypto::AesKeyWrapPad(kek, dek.span()));
  home.key_safe = VmKeySafe{ref, std::move(wrapped)};
  home.clear_secrets = json::object();
  RETURN_IF_ERROR(SetSecrets(home, &dek, secrets));
  return dek;
}

Result<SecretBytes> UnwrapHomeDek(const VmHome& home, const SecretBytes& kek) {
  if (!home.key_safe) return FailedPreconditionError("VM " + home.name + " is not encrypted");
  auto dek = crypto::AesKeyUnwrapPad(kek, home.key_safe->wrapped_dek);
  if (!dek.ok()) {
    return DataLossError("VM " + home.name + ": the home key does not unwrap with " +
                         home.key_safe->kek.ToString() + " (wrong key, or a damaged key safe)");
  }
  return dek;
}

Result<nlohmann::json> OpenSecrets(const VmHome& home, const SecretBytes* dek) {
  if (!home.encrypted()) return home.clear_secrets;
  if (dek == nullptr) return FailedPreconditionError("VM " + home.name + ": secrets need the key");
  auto plain = crypto::OpenSealed(*dek, SecretsAad(home.name), home.sealed_secrets);
  if (!plain.ok()) {
    return DataLossError("VM " + home.name + ": the sealed secrets do not authenticate");
  }
  json j = json::parse(plain->data(), plain->data() + plain->size(), nullptr, false);
  if (j.is_discarded()) return DataLossError("VM " + home.name + ": the secrets are damaged");
  return j;
}

Status SetSecrets(VmHome& home, const SecretBytes* dek, const nlohmann::json& secrets) {
  if (!home.encrypted()) {
    home.clear_secrets = secrets;
    return OkStatus();
  }
  if (dek == nullptr) return FailedPreconditionError("VM " + home.name + ": secrets need the key");
  std::string text = secrets.dump();
  auto box = crypto::SealWithRandomIv(*dek, SecretsAad(home.name), AsBytes(text));
  internal::SecureWipe(text.data(), text.size());
  if (!box.ok()) return box.status();
  home.sealed_secrets = std::move(*box);
  return OkStatus();
}

}  // namespace vmcrypt::host
