// Offline operations on whole disks, behind `vmcrypt disk`: create, encrypt
// a raw image (in place, resumable, or into a new file), decrypt, shallow
// and deep rekey. docs/disk-format.md describes what each writes.
//
// Every KEK is 32 bytes; it is used to wrap or unwrap the DEK and is never
// written anywhere. New files are written under a ".partial" name and
// renamed into place when complete, so a crash leaves no half-made disk
// under the final name. In-place conversions and deep rekey are crash-safe
// and resume from their checkpoint when called again with the same arguments.
//
// Locking: every operation on an existing disk holds an advisory flock on its
// header file (the disk file, or FILE.hdr) while it runs -- exclusive when
// it writes, shared for DecryptToFile -- and fails with FailedPrecondition
// "disk PATH is in use by another process" when an EncryptedDisk or another
// operation (in any process) holds a conflicting one.
//
// Thread-safety: free functions; see Locking for concurrent use of one disk.
#ifndef VMCRYPT_DISK_TOOLS_H_
#define VMCRYPT_DISK_TOOLS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::disk {

// Names the KEK a new key safe entry is wrapped with.
struct KekRef {
  std::string provider_id;  // may be empty
  std::string key_id;       // 1 to 512 bytes
};

// Called after each chunk with (chunks done, total chunks).
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// Creates an empty (all zero, sparse) attached disk of `size` bytes.
// AlreadyExists if `path` exists; InvalidArgument for a bad size or KEK.
Status CreateDisk(const std::string& path, uint64_t size, const SecretBytes& kek,
                  const KekRef& ref);

// Encrypts the raw image at `raw` in place, with a detached header raw.hdr.
// Resumes an interrupted run (the KEK must then unwrap the recorded key).
// AlreadyExists if it is already encrypted.
Status EncryptInPlace(const std::string& raw, const SecretBytes& kek, const KekRef& ref,
                      const ProgressFn& progress = nullptr);

// Encrypts the raw image `raw` into a new attached disk `out`.
Status EncryptToFile(const std::string& raw, const std::string& out, const SecretBytes& kek,
                     const KekRef& ref);

// Decrypts the disk at `path` back to a raw image at the same path: in place
// for a detached disk (resumable; removes path.hdr at the end), through a
// temporary file renamed over `path` for an attached one.
Status DecryptInPlace(const std::string& path, const SecretBytes& kek,
                      const ProgressFn& progress = nullptr);

// Writes the plaintext of the disk at `path` to a new raw image `out`.
Status DecryptToFile(const std::string& path, const std::string& out, const SecretBytes& kek);

// Rewraps the DEK under `new_kek` as `new_ref` (one atomic header update; no
// data is touched). FailedPrecondition while another operation is recorded.
Status ShallowRekey(const std::string& path, const SecretBytes& kek, const SecretBytes& new_kek,
                    const KekRef& new_ref);

// Re-encrypts every written sector under a new DEK; resumes an interrupted
// deep rekey.
Status DeepRekey(const std::string& path, const SecretBytes& kek,
                 const ProgressFn& progress = nullptr);

// Parses "4096", "64K", "100M", "2G", "1T" (binary multiples).
Result<uint64_t> ParseSize(const std::string& text);

}  // namespace vmcrypt::disk

#endif  // VMCRYPT_DISK_TOOLS_H_
