// Host encryption mode (docs/host.md "Host encryption mode"): the HostAgent
// methods that set the host key, keep its reference in config().state_dir
// and write support bundles sealed with it.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "src/host/agent_json.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/support_bundle.h"

namespace vmcrypt::host {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The state file: the host key's reference, never its bytes.
constexpr char kStateFile[] = "encryption-mode.json";
constexpr char kStateFormat[] = "vmcrypt-encryption-mode/1";
// Bundles written in the same millisecond get "-2", "-3", ... up to this.
constexpr int kMaxSameNameBundles = 100;

std::string StatePath(const HostConfig& c) { return c.state_dir + "/" + kStateFile; }

Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return InternalError("cannot create " + path + ": " + std::strerror(errno));
  }
  return OkStatus();
}

// UTC now, as "20261122T203751.123Z" (no colons: it names files) or, with
// `rfc3339`, "2026-11-22T20:37:51.123Z".
std::string UtcNow(bool rfc3339) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char base[32];
  std::strftime(base, sizeof(base), rfc3339 ? "%Y-%m-%dT%H:%M:%S" : "%Y%m%dT%H%M%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", base, static_cast<int>(ms));
  return out;
}

}  // namespace

Status HostAgent::LoadEncryptionMode() {
  if (config_.state_dir.empty()) return OkStatus();  // the mode cannot be enabled
  RETURN_IF_ERROR(MakeDir(config_.state_dir));
  const std::string path = StatePath(config_);
  std::error_code ec;
  if (!fs::exists(path, ec)) return OkStatus();  // never enabled
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto damaged = [&path](const std::string& why) {
    return DataLossError(path + " (the host encryption mode state) is damaged: " + why +
                         "; restore it, or remove it and enable host encryption mode again");
  };
  if (j.is_discarded() || !j.is_object()) return damaged("not a JSON object");
  // A string field, or "" when missing or of another type.
  const auto field = [&j](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (field("format") != kStateFormat) return damaged("unknown format");
  KeyRef key{field("provider"), field("key_id")};
  if (key.provider.empty() || key.key_id.empty()) return damaged("no host key provider and key id");
  std::lock_guard<std::mutex> lock(mode_mu_);
  mode_.enabled = true;
  mode_.host_key = std::move(key);
  return OkStatus();
}

Result<EncryptionMode> HostAgent::EnableEncryptionMode(const KeyRef& key) {
  if (key.provider.empty() || key.key_id.empty()) {
    return InvalidArgumentError("give the host key as \"provider\" and \"key_id\"");
  }
  if (config_.state_dir.empty()) {
    return FailedPreconditionError(
        "host encryption mode needs a state_dir in the host configuration (where the host key "
        "reference is kept)");
  }
  // Held, or derivable from a native provider's KDK; the bytes are dropped
  // (wiped) here: the mode keeps the reference only.
  RETURN_IF_ERROR(Kek(key).status());
  std::lock_guard<std::mutex> lock(mode_mu_);
  if (mode_.enabled && mode_.host_key == key) return mode_;  // a retried request
  const json state = {{"format", kStateFormat},
                      {"provider", key.provider},
                      {"key_id", key.key_id},
                      {"since", UtcNow(/*rfc3339=*/true)}};
  RETURN_IF_ERROR(MakeDir(config_.state_dir));
  RETURN_IF_ERROR(WriteFileAtomic(StatePath(config_), AsBytes(state.dump(2) + "\n"), 0600,
                                  /*overwrite=*/true));
  mode_.enabled = true;
  mode_.host_key = key;
  return mode_;
}

EncryptionMode HostAgent::encryption_mode() const {
  std::lock_guard<std::mutex> lock(mode_mu_);
  return mode_;
}

Status HostAgent::DisableEncryptionMode() {
  return FailedPreconditionError("host encryption mode cannot be disabled once enabled");
}

Result<SupportBundleInfo> HostAgent::WriteSupportBundle() {
  const EncryptionMode mode = encryption_mode();
  if (!mode.enabled) {
    return FailedPreconditionError(
        "host encryption mode is off: enable it before collecting a support bundle (it may hold "
        "key material)");
  }
  const KeyRef& host_key = *mode.host_key;
  ASSIGN_OR_RETURN(SecretBytes kek, Kek(host_key));  // KeyNotFound after a restart
  ASSIGN_OR_RETURN(std::vector<VmInfo> vms, ListVms());
  json vm_list = json::array();
  for (const VmInfo& vm : vms) vm_list.push_back(ToJson(vm));
  const std::string created = UtcNow(/*rfc3339=*/true);
  const json content = {{"created", created},
                        {"status", StatusJson(*this)},
                        {"encryption_mode", ToJson(mode)},
                        {"vms", vm_list},
                        {"config", ConfigJson(config_)}};
  ASSIGN_OR_RETURN(std::string file_text, SealSupportBundle(content.dump(2), host_key, kek));

  const std::string dir = config_.state_dir + "/bundles";
  const std::string stem = dir + "/bundle-" + UtcNow(/*rfc3339=*/false);
  // Under the mode's lock: two bundles of one millisecond get distinct names.
  std::lock_guard<std::mutex> lock(mode_mu_);
  RETURN_IF_ERROR(MakeDir(dir));
  for (int n = 1; n <= kMaxSameNameBundles; ++n) {
    const std::string path = stem + (n == 1 ? "" : "-" + std::to_string(n)) + ".vmcb";
    const Status written = WriteFileAtomic(path, AsBytes(file_text), 0600, /*overwrite=*/false);
    if (written.code() == StatusCode::kAlreadyExists) continue;
    RETURN_IF_ERROR(written);
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec);
    return SupportBundleInfo{ec ? path : absolute.string(), file_text.size()};
  }
  return InternalError("cannot name a new support bundle in " + dir);
}

}  // namespace vmcrypt::host
