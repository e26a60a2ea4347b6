// HostAgent: the host side of VM encryption (seed 000, steps 3-4). It holds
// the KEKs the control plane pushed (KekCache, memory only), keeps VM homes
// under config().data_dir (vm_home.h), encrypts, decrypts and rekeys them,
// and opens a VM by exporting its disks over NBD on a unix socket under
// config().run_dir. A KEK never leaves the agent; a DEK leaves it only
// wrapped. An operation that needs a key the agent lacks fails with Not
// Found "key not found: provider P, key id K".
//
// Thread-safety: every method may be called from any thread; operations on
// one VM are serialised.
#ifndef VMCRYPT_HOST_AGENT_H_
#define VMCRYPT_HOST_AGENT_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
  std::optional<KeyRef> key;  // the KEK; required when encrypted
  bool vtpm = false;          // a VM with a vTPM is always encrypted
};

struct DiskInfo {
  std::string name;
  std::string file;  // absolute path
  uint64_t size = 0;
  bool encrypted = false;
  std::optional<KeyRef> key;  // the KEK its DEK is wrapped with
  std::string nbd_uri;        // while the VM is open
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

  Result<VmInfo> CreateVm(const VmSpec& spec);
  Result<VmInfo> GetVm(const std::string& name);
  Result<std::vector<VmInfo>> ListVms();
  // Encrypts the home, then every raw disk, with `key` (in place, resumable:
  // calling it again after a crash finishes the job).
  Result<VmInfo> EncryptVm(const std::string& name, const KeyRef& key);
  // Decrypts every disk, then the home (both keys are needed).
  Result<VmInfo> DecryptVm(const std::string& name);
  // One disk only, with the VM's key.
  Result<VmInfo> EncryptDisk(const std::string& name, const std::string& disk);
  Result<VmInfo> DecryptDisk(const std::string& name, const std::string& disk);
  // Shallow: rewraps the home DEK and every disk DEK under `new_key`.
  Result<VmInfo> ShallowRekey(const std::string& name, const KeyRef& new_key);
  // Deep: new DEKs for the home and every disk, all data re-encrypted; an
  // open VM keeps serving its disks meanwhile.
  Result<VmInfo> DeepRekey(const std::string& name);
  // Exports the disks over NBD; the info carries their URIs.
  Result<VmInfo> OpenVm(const std::string& name);
  Status CloseVm(const std::string& name);
  // Removes a closed VM's home and disks.
  Status DeleteVm(const std::string& name);

 private:
  struct OpenState;
  struct VmLock;
  HostAgent(HostConfig config, std::unique_ptr<KekCache> keys);

  std::string HomeDir(const std::string& name) const;
  std::mutex& LockFor(const std::string& name);
  Result<SecretBytes> Kek(const KeyRef& ref);
  Result<VmInfo> Describe(const VmHome& home);
  Status RefuseIfOpen(const std::string& name, const char* what);

  HostConfig config_;
  std::unique_ptr<KekCache> keys_;
  std::mutex mu_;  // guards the two maps
  std::map<std::string, std::unique_ptr<std::mutex>> vm_locks_;
  std::map<std::string, std::unique_ptr<OpenState>> open_;
};

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_AGENT_H_
