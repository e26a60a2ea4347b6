// The JSON views of the host agent's objects (docs/host.md "The API"), shared
// by the API server and the support bundle, so that a bundle holds exactly
// what the API shows. Internal to vmcrypt_host. None holds key bytes.
#ifndef VMCRYPT_SRC_HOST_AGENT_JSON_H_
#define VMCRYPT_SRC_HOST_AGENT_JSON_H_

#include <nlohmann/json.hpp>

#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/config.h"

namespace vmcrypt::host {

// {"provider", "key_id"}
nlohmann::json ToJson(const KeyRef& k);
// A VM as GET /v1/vms/{name} returns it.
nlohmann::json ToJson(const VmInfo& vm);
// {"enabled", "provider", "key_id", "crypto_state"}; the key names are null
// while host encryption mode is off.
nlohmann::json ToJson(const EncryptionMode& mode);
// GET /v1/status.
nlohmann::json StatusJson(HostAgent& agent);
// The configuration: names, addresses and paths (it holds no key bytes).
nlohmann::json ConfigJson(const HostConfig& c);

}  // namespace vmcrypt::host

#endif  // VMCRYPT_SRC_HOST_AGENT_JSON_H_
