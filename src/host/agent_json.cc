#include "src/host/agent_json.h"

namespace vmcrypt::host {

using json = nlohmann::json;

json ToJson(const KeyRef& k) { return {{"provider", k.provider}, {"key_id", k.key_id}}; }

json ToJson(const VmInfo& vm) {
  json disks = json::array();
  for (const DiskInfo& d : vm.disks) {
    json j = {{"name", d.name}, {"file", d.file}, {"size", d.size}, {"encrypted", d.encrypted}};
    j["key"] = d.key ? ToJson(*d.key) : json(nullptr);
    if (!d.nbd_uri.empty()) j["nbd_uri"] = d.nbd_uri;
    disks.push_back(std::move(j));
  }
  return {{"name", vm.name},
          {"encrypted", vm.encrypted},
          {"key", vm.key ? ToJson(*vm.key) : json(nullptr)},
          {"vtpm", vm.vtpm},
          {"open", vm.open},
          {"disks", disks}};
}

json ToJson(const EncryptionMode& mode) {
  return {{"enabled", mode.enabled},
          {"provider", mode.host_key ? json(mode.host_key->provider) : json(nullptr)},
          {"key_id", mode.host_key ? json(mode.host_key->key_id) : json(nullptr)},
          {"crypto_state", mode.crypto_state()}};
}

json StatusJson(HostAgent& a) {
  return {{"name", a.config().name},     {"product", "vmcrypt host agent"},
          {"keys", a.keys().size()},     {"tpm", a.has_tpm()},
          {"kdks", a.ListKdks().size()}, {"crypto_state", a.encryption_mode().crypto_state()}};
}

json ConfigJson(const HostConfig& c) {
  return {{"name", c.name},
          {"listen", c.listen},
          {"certificate", c.cert_file},
          {"private_key", c.key_file},  // the path only
          {"client_ca", c.client_ca_file},
          {"trusted_fingerprints", c.trusted_fingerprints},
          {"data_dir", c.data_dir},
          {"run_dir", c.run_dir},
          {"state_dir", c.state_dir},
          {"key_cache_size", c.key_cache_size},
          {"tpm_device", c.tpm_device}};
}

}  // namespace vmcrypt::host
