// HostAgent: the host side of VM encryption (seed 000, steps 3-4). It holds
// the KEKs the control plane pushed (KekCache, memory only), keeps VM homes
// under config().data_dir (vm_home.h), encrypts, decrypts and rekeys them,
// and opens a VM by exporting its disks over NBD on a unix socket under
// config().run_dir. A KEK never leaves the agent; a DEK leaves it only
// wrapped. An operation that needs a key the agent lacks fails with Not
// Found "key not found: provider P, key id K".
//
// Native key providers (native_kek.h): the agent also holds key derivation
// keys (KDKs), one per provider, in a second locked KekCache. When a KEK is
// needed that the cache lacks but the provider's KDK is held, the agent
// derives the KEK, caches it and uses it; a VM spec or encrypt request that
// names a native provider and no key id gets a new random key id.
//
// Thread-safety: every method may be called from any thread; operations on
// one VM are serialised.
#ifndef VMCRYPT_HOST_AGENT_H_
#define VMCRYPT_HOST_AGENT_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/host/kek_cache.h"
#include "vmcrypt/host/vm_home.h"

namespace vmcrypt::host {

struct VmSpec {
  std::string name;
  std::vector<uint64_t> disk_sizes;  // bytes, multiples of 4096
  bool encrypted = false;
  // The KEK; required when encrypted. An empty key id asks for a new key of
  // a native provider whose KDK the agent holds.
  std::optional<KeyRef> key;
  bool vtpm = false;  // a VM with a vTPM is always encrypted
};

struct DiskInfo {
  std::string name;
  std::string file;  // absolute path
  uint64_t size = 0;
  bool encrypted = false;
  std::optional<KeyRef> key;  // the KEK its DEK is wrapped with
  std::string nbd_uri;        // while the VM is open
};

// A native key provider the agent holds a KDK for (never the bytes).
struct KdkInfo {
  std::string provider;
  bool tpm_required = false;
};

// Host encryption mode (docs/host.md "Host encryption mode"): the host key
// the control plane set, by reference only (the bytes are a KEK like any
// other, held in memory only).
struct EncryptionMode {
  bool enabled = false;
  std::optional<KeyRef> host_key;  // set iff enabled
  // vSphere's host crypto state: "safe" with a host key, "prepared" without.
  const char* crypto_state() const { return enabled ? "safe" : "prepared"; }
};

// A support bundle written by HostAgent::WriteSupportBundle.
struct SupportBundleInfo {
  std::string file;   // absolute path
  uint64_t size = 0;  // bytes
};

struct VmInfo {
  std::string name;
  bool encrypted = false;  // the home (and so the VM) is encrypted
  std::optional<KeyRef> key;
  bool vtpm = false;
  bool open = false;
  std::vector<DiskInfo> disks;
};

class HostAgent {
 public:
  // Creates the key cache (locked memory) and the data folders.
  static Result<std::unique_ptr<HostAgent>> Create(const HostConfig& config);
  ~HostAgent();

  const HostConfig& config() const { return config_; }
  KekCache& keys() { return *keys_; }
  // The host has a TPM iff its config names one (config().tpm_device).
  bool has_tpm() const { return !config_.tpm_device.empty(); }

  // Adds or replaces native provider `provider`'s KDK (kKdkSize bytes; the
  // caller wipes its copy). A replaced KDK that differs drops the provider's
  // cached KEKs (they were derived from the old one). FailedPrecondition
  // "host H has no TPM; native key provider P requires one" when
  // `tpm_required` and !has_tpm(); InvalidArgument for a bad size or name.
  Status PutKdk(const std::string& provider, std::span<const uint8_t> kdk, bool tpm_required);
  // Wipes the provider's KDK and every KEK of that provider in the cache.
  // NotFound if no KDK is held for it.
  Status RemoveKdk(const std::string& provider);
  // The providers with a KDK, by name.
  std::vector<KdkInfo> ListKdks() const;

  Result<VmInfo> CreateVm(const VmSpec& spec);
  Result<VmInfo> GetVm(const std::string& name);
  Result<std::vector<VmInfo>> ListVms();
  // Encrypts the home, then every raw disk, with `key` (in place, resumable:
  // calling it again after a crash finishes the job). An empty key id: a new
  // native key of key.provider, or, for a VM already encrypted with a key of
  // that provider, that key (so a retried request resumes).
  Result<VmInfo> EncryptVm(const std::string& name, const KeyRef& key);
  // Decrypts every disk, then the home (both keys are needed).
  Result<VmInfo> DecryptVm(const std::string& name);
  // One disk only, with the VM's key.
  Result<VmInfo> EncryptDisk(const std::string& name, const std::string& disk);
  Result<VmInfo> DecryptDisk(const std::string& name, const std::string& disk);
  // Shallow: rewraps the home DEK and every disk DEK under `new_key` (an
  // empty key id: a new native key of new_key.provider).
  Result<VmInfo> ShallowRekey(const std::string& name, const KeyRef& new_key);
  // Deep: new DEKs for the home and every disk, all data re-encrypted; an
  // open VM keeps serving its disks meanwhile.
  Result<VmInfo> DeepRekey(const std::string& name);
  // Exports the disks over NBD; the info carries their URIs.
  Result<VmInfo> OpenVm(const std::string& name);
  Status CloseVm(const std::string& name);
  // Removes a closed VM's home and disks.
  Status DeleteVm(const std::string& name);

  // Host encryption mode (src/host/encryption_mode.cc). Records `key` as the
  // host key, replacing any earlier one, and persists the reference (ids
  // only) in config().state_dir, so a restarted agent is still in the mode.
  // The key must be held or derivable (a native provider's KDK): else
  // KeyNotFound(key). InvalidArgument for empty names; FailedPrecondition
  // when config().state_dir is empty; Internal when the state cannot be
  // written (the mode is then unchanged).
  Result<EncryptionMode> EnableEncryptionMode(const KeyRef& key);
  EncryptionMode encryption_mode() const;
  // Always FailedPrecondition: host encryption mode cannot be disabled once
  // enabled (as in vSphere).
  Status DisableEncryptionMode();
  // Writes a support bundle (include/vmcrypt/host/support_bundle.h: status,
  // VMs and configuration, sealed for the host key) to
  // config().state_dir/bundles/bundle-<UTC time>.vmcb (0600).
  // FailedPrecondition when host encryption mode is off; KeyNotFound(host
  // key) when the agent does not hold it (after a restart, until the control
  // plane pushes it again).
  Result<SupportBundleInfo> WriteSupportBundle();

 private:
  struct OpenState;
  struct VmLock;
  HostAgent(HostConfig config, std::unique_ptr<KekCache> keys, std::unique_ptr<KekCache> kdks);

  std::string HomeDir(const std::string& name) const;
  std::mutex& LockFor(const std::string& name);
  // The KEK `ref`: from the cache, else derived from its provider's KDK
  // (and cached). KeyNotFound(ref) when neither is held.
  Result<SecretBytes> Kek(const KeyRef& ref);
  // `ref` itself, or with an empty key id a new key id of ref.provider,
  // which must be a native provider whose KDK is held (else NotFound).
  Result<KeyRef> ResolveKey(const KeyRef& ref);
  Result<VmInfo> Describe(const VmHome& home);
  Status RefuseIfOpen(const std::string& name, const char* what);
  // Creates config().state_dir and reads the persisted encryption mode.
  Status LoadEncryptionMode();

  HostConfig config_;
  std::unique_ptr<KekCache> keys_;
  std::mutex mu_;  // guards the two maps
  std::map<std::string, std::unique_ptr<std::mutex>> vm_locks_;
  std::map<std::string, std::unique_ptr<OpenState>> open_;
  // Serialises KDK changes with KEK derivation, so a removed KDK's KEKs are
  // not derived again behind RemoveKdk's back.
  mutable std::mutex kdk_mu_;
  std::unique_ptr<KekCache> kdks_;            // KDKs, as KeyRef{provider, kKdkSlot}
  std::map<std::string, bool> tpm_required_;  // by provider; guarded by kdk_mu_
  // Guards mode_ and its state file; also serialises support bundle writes.
  mutable std::mutex mode_mu_;
  EncryptionMode mode_;
};

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_AGENT_H_
