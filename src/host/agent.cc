#include "vmcrypt/host/agent.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/crypto/kdf.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/random.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header_store.h"
#include "vmcrypt/disk/tools.h"
#include "vmcrypt/host/native_kek.h"
#include "vmcrypt/nbd/file_device.h"
#include "vmcrypt/nbd/server.h"

namespace vmcrypt::host {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// What a disk file is: raw, or encrypted with the KEK named in its header.
struct DiskState {
  bool encrypted = false;
  KeyRef key;
  disk::Operation operation = disk::Operation::kNone;
};

Result<DiskState> InspectDisk(const std::string& path) {
  auto paths = disk::LocateDisk(path);
  if (!paths.ok()) {
    if (paths.status().code() == StatusCode::kInvalidArgument) return DiskState{};  // raw
    return paths.status();
  }
  ASSIGN_OR_RETURN(auto store, disk::HeaderStore::Open(paths->header_path, false));
  std::array<disk::CopyState, 2> states;
  ASSIGN_OR_RETURN(disk::Header h, store->LoadUnverified(&states));
  const disk::KeySafeEntry* e = h.Find(disk::KeyRole::kCurrent);
  if (e == nullptr) return DataLossError(path + ": the key safe has no current key");
  return DiskState{true, {e->provider_id, e->key_id}, h.operation};
}

disk::KekRef ToDiskRef(const KeyRef& k) { return {k.provider, k.key_id}; }

// KDKs live in their own KekCache, one slot per provider under this key id.
constexpr char kKdkSlot[] = "kdk";
// Native key providers one agent holds KDKs for, at most.
constexpr size_t kMaxKdks = 64;

// "AlreadyExists" from a conversion means it is done already.
Status DoneIfExists(Status s) { return s.code() == StatusCode::kAlreadyExists ? OkStatus() : s; }

}  // namespace

struct HostAgent::OpenState {
  std::vector<std::unique_ptr<nbd::BlockDevice>> devices;
  std::vector<disk::EncryptedDisk*> encrypted;  // the encrypted ones, by disk index
  std::unique_ptr<nbd::Server> server;
  std::string socket;
};

HostAgent::HostAgent(HostConfig config, std::unique_ptr<KekCache> keys,
                     std::unique_ptr<KekCache> kdks)
    : config_(std::move(config)), keys_(std::move(keys)), kdks_(std::move(kdks)) {}

HostAgent::~HostAgent() {
  std::lock_guard<std::mutex> lock(mu_);
  open_.clear();  // stops the NBD servers, closes the disks
}

Result<std::unique_ptr<HostAgent>> HostAgent::Create(const HostConfig& config) {
  for (const std::string& dir : {config.data_dir, config.run_dir}) {
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return InternalError("cannot create " + dir + ": " + std::strerror(errno));
    }
  }
  struct stat st;
  if (!config.tpm_device.empty() && stat(config.tpm_device.c_str(), &st) != 0) {
    return FailedPreconditionError("the TPM named by tpm_device, " + config.tpm_device +
                                   ", cannot be used: " + std::strerror(errno));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<KekCache> keys, KekCache::Create(config.key_cache_size));
  ASSIGN_OR_RETURN(std::unique_ptr<KekCache> kdks, KekCache::Create(kMaxKdks));
  auto agent = std::unique_ptr<HostAgent>(new HostAgent(config, std::move(keys), std::move(kdks)));
  RETURN_IF_ERROR(agent->LoadEncryptionMode());
  return agent;
}

std::string HostAgent::HomeDir(const std::string& name) const {
  return config_.data_dir + "/" + name;
}

std::mutex& HostAgent::LockFor(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = vm_locks_[name];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Result<SecretBytes> HostAgent::Kek(const KeyRef& ref) {
  SecretBytes out;
  const Status cached = keys_->With(ref, [&](std::span<const uint8_t> key) {
    out = SecretBytes(key);
    return OkStatus();
  });
  if (cached.code() != StatusCode::kNotFound) {
    RETURN_IF_ERROR(cached);
    return out;
  }
  std::lock_guard<std::mutex> lock(kdk_mu_);
  SecretBytes kdk;
  const Status held = kdks_->With({ref.provider, kKdkSlot}, [&](std::span<const uint8_t> key) {
    kdk = SecretBytes(key);
    return OkStatus();
  });
  if (!held.ok()) return cached;  // KeyNotFound(ref): neither the KEK nor a KDK
  ASSIGN_OR_RETURN(out, DeriveNativeKek(kdk, ref.provider, ref.key_id));
  // Cached, so that RemoveKdk wipes it with the KDK. A full cache only costs
  // the derivation again next time, so it does not fail the operation.
  const Status put = keys_->Put(ref, out.span());
  if (!put.ok() && put.code() != StatusCode::kOutOfRange) return put;
  return out;
}

Result<KeyRef> HostAgent::ResolveKey(const KeyRef& ref) {
  if (!ref.key_id.empty()) return ref;
  if (ref.provider.empty()) return InvalidArgumentError("a key needs a provider");
  {
    std::lock_guard<std::mutex> lock(kdk_mu_);
    if (!kdks_->Contains({ref.provider, kKdkSlot})) {
      return NotFoundError(
          "no key id given, and this host holds no key derivation key for "
          "native key provider " +
          ref.provider + " to make a new key with (push it: PUT /v1/kdks/" + ref.provider + ")");
    }
  }
  ASSIGN_OR_RETURN(std::string id, NewNativeKeyId());
  return KeyRef{ref.provider, std::move(id)};
}

Status HostAgent::PutKdk(const std::string& provider, std::span<const uint8_t> kdk,
                         bool tpm_required) {
  if (provider.empty() || provider.find('|') != std::string::npos) {
    return InvalidArgumentError("a native key provider needs a name without '|'");
  }
  if (kdk.size() != kKdkSize) {
    return InvalidArgumentError("a key derivation key is " + std::to_string(kKdkSize) +
                                " bytes, not " + std::to_string(kdk.size()));
  }
  if (tpm_required && !has_tpm()) {
    return FailedPreconditionError("host " + config_.name + " has no TPM; native key provider " +
                                   provider + " requires one");
  }
  std::lock_guard<std::mutex> lock(kdk_mu_);
  const KeyRef slot{provider, kKdkSlot};
  bool replaced = false;
  if (kdks_->Contains(slot)) {
    RETURN_IF_ERROR(kdks_->With(slot, [&](std::span<const uint8_t> old) {
      replaced = !crypto::ConstantTimeEquals(old, kdk);
      return OkStatus();
    }));
  }
  RETURN_IF_ERROR(kdks_->Put(slot, kdk));
  tpm_required_[provider] = tpm_required;
  if (replaced) {
    // KEKs derived from the old KDK are not this provider's keys any more.
    for (const KeyRef& k : keys_->List()) {
      if (k.provider == provider) keys_->Remove(k).IgnoreError();  // gone already is fine
    }
  }
  return OkStatus();
}

Status HostAgent::RemoveKdk(const std::string& provider) {
  std::lock_guard<std::mutex> lock(kdk_mu_);
  const Status removed = kdks_->Remove({provider, kKdkSlot});
  if (removed.code() == StatusCode::kNotFound) {
    return NotFoundError("this host holds no key derivation key for native key provider " +
                         provider);
  }
  RETURN_IF_ERROR(removed);
  tpm_required_.erase(provider);
  for (const KeyRef& k : keys_->List()) {
    if (k.provider == provider) keys_->Remove(k).IgnoreError();  // gone already is fine
  }
  return OkStatus();
}

std::vector<KdkInfo> HostAgent::ListKdks() const {
  std::lock_guard<std::mutex> lock(kdk_mu_);
  std::vector<KdkInfo> out;
  for (const auto& [provider, tpm] : tpm_required_) out.push_back({provider, tpm});
  return out;
}

Status HostAgent::RefuseIfOpen(const std::string& name, const char* what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_.count(name) != 0) {
    return FailedPreconditionError("VM " + name + " is open; close it before " + what);
  }
  return OkStatus();
}

Result<VmInfo> HostAgent::Describe(const VmHome& home) {
  VmInfo info;
  info.name = home.name;
  info.encrypted = home.encrypted();
  if (home.key_safe) info.key = home.key_safe->kek;
  info.vtpm = home.vtpm;
  std::string socket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(home.name);
    info.open = it != open_.end();
    if (info.open) socket = it->second->socket;
  }
  for (const VmDisk& d : home.disks) {
    DiskInfo di;
    di.name = d.name;
    di.file = HomeDir(home.name) + "/" + d.file;
    di.size = d.size;
    ASSIGN_OR_RETURN(DiskState st, InspectDisk(di.file));
    di.encrypted = st.encrypted;
    if (st.encrypted) di.key = st.key;
    if (info.open) di.nbd_uri = "nbd+unix:///" + d.name + "?socket=" + socket;
    info.disks.push_back(std::move(di));
  }
  return info;
}

Result<VmInfo> HostAgent::CreateVm(const VmSpec& spec) {
  RETURN_IF_ERROR(CheckName("VM name", spec.name));
  const bool encrypted = spec.encrypted || spec.vtpm;  // a vTPM needs an encrypted VM
  if (encrypted && !spec.key) {
    return InvalidArgumentError("an encrypted VM needs a key (provider and key id)");
  }
  if (spec.disk_sizes.empty()) return InvalidArgumentError("a VM needs one disk at least");
  for (uint64_t size : spec.disk_sizes) {
    if (size == 0 || size % 4096 != 0) {
      return InvalidArgumentError("disk sizes must be non-zero multiples of 4096 bytes");
    }
  }
  std::lock_guard<std::mutex> vm_lock(LockFor(spec.name));
  KeyRef key;
  SecretBytes kek;
  if (encrypted) {
    ASSIGN_OR_RETURN(key, ResolveKey(*spec.key));
    ASSIGN_OR_RETURN(kek, Kek(key));
  }
  const std::string dir = HomeDir(spec.name);
  if (mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return AlreadyExistsError("VM " + spec.name + " exists already");
    return InternalError("cannot create " + dir + ": " + std::strerror(errno));
  }
  auto made = [&]() -> Status {
    VmHome home;
    home.name = spec.name;
    home.vtpm = spec.vtpm;
    if (spec.vtpm) {
      ASSIGN_OR_RETURN(SecretBytes seed, crypto::RandomSecret(32));
      home.clear_secrets["vtpm_seed"] = HexEncode(seed.span());
    }
    if (encrypted) RETURN_IF_ERROR(EncryptHome(home, key, kek).status());
    for (size_t i = 0; i < spec.disk_sizes.size(); ++i) {
      VmDisk d{"disk" + std::to_string(i), "disk" + std::to_string(i) + ".img", spec.disk_sizes[i]};
      const std::string path = dir + "/" + d.file;
      if (encrypted) {
        RETURN_IF_ERROR(disk::CreateDisk(path, d.size, kek, ToDiskRef(key)));
      } else {
        RETURN_IF_ERROR(nbd::FileDevice::Create(path, d.size).status());
      }
      home.disks.push_back(std::move(d));
    }
    return SaveVmHome(dir, home);
  }();
  if (!made.ok()) {
    std::error_code ec;
    fs::remove_all(dir, ec);  // a VM that was never made: nothing to keep
    return made;
  }
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  return Describe(home);
}

Result<VmInfo> HostAgent::GetVm(const std::string& name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  auto home = LoadVmHome(HomeDir(name));
  if (!home.ok() && home.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no VM named " + name + " on this host");
  }
  if (!home.ok()) return home.status();
  return Describe(*home);
}

Result<std::vector<VmInfo>> HostAgent::ListVms() {
  std::vector<VmInfo> out;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(config_.data_dir, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "vm.json")) {
      names.push_back(e.path().filename());
    }
  }
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    ASSIGN_OR_RETURN(VmInfo info, GetVm(n));
    out.push_back(std::move(info));
  }
  return out;
}

Result<VmInfo> HostAgent::EncryptVm(const std::string& name, const KeyRef& requested) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  RETURN_IF_ERROR(RefuseIfOpen(name, "encrypting it"));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  KeyRef key = requested;
  if (key.key_id.empty() && home.encrypted() && home.key_safe->kek.provider == key.provider) {
    key = home.key_safe->kek;  // a retried "new native key" request resumes with that key
  }
  ASSIGN_OR_RETURN(key, ResolveKey(key));
  if (home.encrypted() && home.key_safe->kek != key) {
    return FailedPreconditionError("VM " + name + " is encrypted with " +
                                   home.key_safe->kek.ToString() + "; rekey it instead");
  }
  ASSIGN_OR_RETURN(SecretBytes kek, Kek(key));
  // The home first: an encrypted home is what marks the VM encrypted.
  if (!home.encrypted()) {
    RETURN_IF_ERROR(EncryptHome(home, key, kek).status());
    RETURN_IF_ERROR(SaveVmHome(dir, home));
  }
  for (const VmDisk& d : home.disks) {
    RETURN_IF_ERROR(DoneIfExists(disk::EncryptInPlace(dir + "/" + d.file, kek, ToDiskRef(key))));
  }
  return Describe(home);
}

Result<VmInfo> HostAgent::DecryptVm(const std::string& name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  RETURN_IF_ERROR(RefuseIfOpen(name, "decrypting it"));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  if (home.vtpm) {
    return FailedPreconditionError("VM " + name +
                                   " has a vTPM; a VM with a vTPM is always encrypted");
  }
  // Both keys are needed before anything changes: the home's and the disks'.
  SecretBytes home_kek;
  if (home.encrypted()) {
    ASSIGN_OR_RETURN(home_kek, Kek(home.key_safe->kek));
  }
  for (const VmDisk& d : home.disks) {
    ASSIGN_OR_RETURN(DiskState st, InspectDisk(dir + "/" + d.file));
    if (st.encrypted) RETURN_IF_ERROR(Kek(st.key).status());
  }
  // Disks first, then the home (seed 000).
  for (const VmDisk& d : home.disks) {
    const std::string path = dir + "/" + d.file;
    ASSIGN_OR_RETURN(DiskState st, InspectDisk(path));
    if (!st.encrypted) continue;
    ASSIGN_OR_RETURN(SecretBytes kek, Kek(st.key));
    RETURN_IF_ERROR(disk::DecryptInPlace(path, kek));
  }
  if (home.encrypted()) {
    ASSIGN_OR_RETURN(SecretBytes dek, UnwrapHomeDek(home, home_kek));
    ASSIGN_OR_RETURN(json secrets, OpenSecrets(home, &dek));
    home.key_safe.reset();
    home.sealed_secrets.clear();
    home.clear_secrets = secrets;
    RETURN_IF_ERROR(SaveVmHome(dir, home));
  }
  return Describe(home);
}

Result<VmInfo> HostAgent::EncryptDisk(const std::string& name, const std::string& disk_name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  RETURN_IF_ERROR(RefuseIfOpen(name, "encrypting a disk"));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  if (!home.encrypted()) {
    return FailedPreconditionError("VM " + name +
                                   " is not encrypted: encrypt the VM (its home) first");
  }
  auto it = std::find_if(home.disks.begin(), home.disks.end(),
                         [&](const VmDisk& d) { return d.name == disk_name; });
  if (it == home.disks.end()) return NotFoundError("VM " + name + " has no disk " + disk_name);
  ASSIGN_OR_RETURN(SecretBytes kek, Kek(home.key_safe->kek));
  RETURN_IF_ERROR(
      DoneIfExists(disk::EncryptInPlace(dir + "/" + it->file, kek, ToDiskRef(home.key_safe->kek))));
  return Describe(home);
}

Result<VmInfo> HostAgent::DecryptDisk(const std::string& name, const std::string& disk_name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  RETURN_IF_ERROR(RefuseIfOpen(name, "decrypting a disk"));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  auto it = std::find_if(home.disks.begin(), home.disks.end(),
                         [&](const VmDisk& d) { return d.name == disk_name; });
  if (it == home.disks.end()) return NotFoundError("VM " + name + " has no disk " + disk_name);
  const std::string path = dir + "/" + it->file;
  ASSIGN_OR_RETURN(DiskState st, InspectDisk(path));
  if (st.encrypted) {
    ASSIGN_OR_RETURN(SecretBytes kek, Kek(st.key));
    RETURN_IF_ERROR(disk::DecryptInPlace(path, kek));
  }
  return Describe(home);
}

Result<VmInfo> HostAgent::ShallowRekey(const std::string& name, const KeyRef& requested) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  RETURN_IF_ERROR(RefuseIfOpen(name, "a shallow rekey"));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  if (!home.encrypted()) return FailedPreconditionError("VM " + name + " is not encrypted");
  ASSIGN_OR_RETURN(const KeyRef new_key, ResolveKey(requested));
  ASSIGN_OR_RETURN(SecretBytes new_kek, Kek(new_key));
  // Disks, then the home; each step is atomic and skipped when done, so a
  // rekey cut short is finished by running it again.
  for (const VmDisk& d : home.disks) {
    const std::string path = dir + "/" + d.file;
    ASSIGN_OR_RETURN(DiskState st, InspectDisk(path));
    if (!st.encrypted || st.key == new_key) continue;
    ASSIGN_OR_RETURN(SecretBytes kek, Kek(st.key));
    RETURN_IF_ERROR(disk::ShallowRekey(path, kek, new_kek, ToDiskRef(new_key)));
  }
  if (home.key_safe->kek != new_key) {
    ASSIGN_OR_RETURN(SecretBytes old_kek, Kek(home.key_safe->kek));
    ASSIGN_OR_RETURN(SecretBytes dek, UnwrapHomeDek(home, old_kek));
    ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped, crypto::AesKeyWrapPad(new_kek, dek.span()));
    home.key_safe = VmKeySafe{new_key, std::move(wrapped)};
    RETURN_IF_ERROR(SaveVmHome(dir, home));
  }
  return Describe(home);
}

Result<VmInfo> HostAgent::DeepRekey(const std::string& name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  if (!home.encrypted()) return FailedPreconditionError("VM " + name + " is not encrypted");
  ASSIGN_OR_RETURN(SecretBytes kek, Kek(home.key_safe->kek));
  OpenState* open = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(name);
    if (it != open_.end()) open = it->second.get();
  }
  for (size_t i = 0; i < home.disks.size(); ++i) {
    const std::string path = dir + "/" + home.disks[i].file;
    ASSIGN_OR_RETURN(DiskState st, InspectDisk(path));
    if (!st.encrypted) continue;
    ASSIGN_OR_RETURN(SecretBytes disk_kek, Kek(st.key));
    if (open != nullptr && open->encrypted[i] != nullptr) {
      // The disk stays exported; the rekey runs beside its I/O.
      disk::EncryptedDisk* d = open->encrypted[i];
      RETURN_IF_ERROR(d->BeginDeepRekey(disk_kek));
      while (true) {
        ASSIGN_OR_RETURN(bool done, d->DeepRekeyStep());
        if (done) break;
      }
    } else {
      RETURN_IF_ERROR(disk::DeepRekey(path, disk_kek));
    }
  }
  // The home: a new DEK for the secrets.
  ASSIGN_OR_RETURN(SecretBytes dek, UnwrapHomeDek(home, kek));
  ASSIGN_OR_RETURN(json secrets, OpenSecrets(home, &dek));
  const KeyRef key = home.key_safe->kek;
  home.key_safe.reset();
  home.clear_secrets = secrets;
  RETURN_IF_ERROR(EncryptHome(home, key, kek).status());
  RETURN_IF_ERROR(SaveVmHome(dir, home));
  return Describe(home);
}

Result<VmInfo> HostAgent::OpenVm(const std::string& name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  const std::string dir = HomeDir(name);
  ASSIGN_OR_RETURN(VmHome home, LoadVmHome(dir));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_.count(name) != 0) return Describe(home);
  }
  if (home.encrypted()) {
    // Unlock the home (checks the KEK before any disk is touched).
    ASSIGN_OR_RETURN(SecretBytes kek, Kek(home.key_safe->kek));
    ASSIGN_OR_RETURN(SecretBytes dek, UnwrapHomeDek(home, kek));
    RETURN_IF_ERROR(OpenSecrets(home, &dek).status());
  }
  auto state = std::make_unique<OpenState>();
  std::vector<nbd::Export> exports;
  disk::KekLookup lookup = [this](const disk::KeySafeEntry& e) -> Result<SecretBytes> {
    return Kek({e.provider_id, e.key_id});
  };
  for (const VmDisk& d : home.disks) {
    const std::string path = dir + "/" + d.file;
    ASSIGN_OR_RETURN(DiskState st, InspectDisk(path));
    if (st.encrypted) {
      ASSIGN_OR_RETURN(auto device, disk::EncryptedDisk::Open(path, lookup));
      state->encrypted.push_back(device.get());
      state->devices.push_back(std::move(device));
    } else {
      ASSIGN_OR_RETURN(auto device, nbd::FileDevice::Open(path));
      state->encrypted.push_back(nullptr);
      state->devices.push_back(std::move(device));
    }
    exports.push_back({d.name, state->devices.back().get(), name + " " + d.name});
  }
  nbd::ServerOptions options;
  state->socket = config_.run_dir + "/" + name + ".sock";
  options.unix_path = state->socket;
  ASSIGN_OR_RETURN(state->server, nbd::Server::Start(options, std::move(exports)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_[name] = std::move(state);
  }
  return Describe(home);
}

Status HostAgent::CloseVm(const std::string& name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  std::unique_ptr<OpenState> state;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(name);
    if (it == open_.end()) return FailedPreconditionError("VM " + name + " is not open");
    state = std::move(it->second);
    open_.erase(it);
  }
  state->server->Shutdown();
  for (auto& d : state->devices) RETURN_IF_ERROR(d->Flush());
  return OkStatus();
}

Status HostAgent::DeleteVm(const std::string& name) {
  RETURN_IF_ERROR(CheckName("VM name", name));
  std::lock_guard<std::mutex> vm_lock(LockFor(name));
  RETURN_IF_ERROR(RefuseIfOpen(name, "deleting it"));
  const std::string dir = HomeDir(name);
  if (!fs::exists(dir + "/vm.json")) return NotFoundError("no VM named " + name + " on this host");
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return InternalError("cannot remove " + dir + ": " + ec.message());
  return OkStatus();
}

}  // namespace vmcrypt::host
