// A VM home directory (docs/host.md "VM home"): `vm.json` describes the VM
// in clear, except its secrets (e.g. the vTPM seed), which an encrypted VM
// keeps sealed with the VM home DEK (AES-256-GCM). The home DEK is kept
// only wrapped by the VM's KEK (AES key wrap with padding, RFC 5649) in the
// home's key safe. The disks are files beside vm.json, each an encrypted
// disk with its own DEK (docs/disk-format.md) or a raw image.
//
// vm.json is replaced atomically (write, fsync, rename), so a crash leaves
// the old or the new description, never a torn one.
#ifndef VMCRYPT_HOST_VM_HOME_H_
#define VMCRYPT_HOST_VM_HOME_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/host/kek_cache.h"

namespace vmcrypt::host {

struct VmDisk {
  std::string name;  // the NBD export name, e.g. "disk0"
  std::string file;  // relative to the home, e.g. "disk0.img"
  uint64_t size = 0;
};

// The home's key safe: which KEK wraps the home DEK, and the wrapped DEK.
struct VmKeySafe {
  KeyRef kek;
  std::vector<uint8_t> wrapped_dek;  // RFC 5649 output: not secret
};

struct VmHome {
  std::string name;
  bool vtpm = false;
  std::optional<VmKeySafe> key_safe;                        // present iff the VM home is encrypted
  std::vector<uint8_t> sealed_secrets;                      // encrypted homes: the sealed box
  nlohmann::json clear_secrets = nlohmann::json::object();  // unencrypted homes
  std::vector<VmDisk> disks;

  bool encrypted() const { return key_safe.has_value(); }
};

// Valid VM and disk names: 1-64 of [A-Za-z0-9._-], not starting with '.'.
Status CheckName(const std::string& what, const std::string& name);

Result<VmHome> LoadVmHome(const std::string& dir);
Status SaveVmHome(const std::string& dir, const VmHome& home);

// Makes the home encrypted: a new random home DEK wrapped by `kek` (named
// `ref`), the secrets sealed with it. Returns the DEK.
Result<SecretBytes> EncryptHome(VmHome& home, const KeyRef& ref, const SecretBytes& kek);
// Unwraps the home DEK (DataLoss naming the key if `kek` is the wrong key).
Result<SecretBytes> UnwrapHomeDek(const VmHome& home, const SecretBytes& kek);
// The secrets: opened with the DEK for an encrypted home.
Result<nlohmann::json> OpenSecrets(const VmHome& home, const SecretBytes* dek);
// Replaces the secrets (sealed with `dek` for an encrypted home).
Status SetSecrets(VmHome& home, const SecretBytes* dek, const nlohmann::json& secrets);

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_VM_HOME_H_
