// Durable file helpers.
#ifndef VMCRYPT_BASE_FILE_UTIL_H_
#define VMCRYPT_BASE_FILE_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt {

// Writes `data` to `path` atomically and durably: a temporary file in the same
// folder created with `mode` (so a secret is never readable by others, not
// even briefly), fsync, rename over `path`, fsync of the folder. Fails with
// AlreadyExists if `path` exists and !overwrite.
Status WriteFileAtomic(const std::string& path, std::span<const uint8_t> data, mode_t mode,
                       bool overwrite = false);

// Reads a whole file (regular files up to 64 MiB).
Result<std::string> ReadFileToString(const std::string& path);
// Reads a whole file holding a secret, into SecretBytes. Fails with
// PermissionDenied if the file is readable or writable by group or others.
Result<SecretBytes> ReadSecretFile(const std::string& path);

// `path` as named in a configuration file whose folder is `dir`: an absolute
// or empty `path` is returned as is, a relative one as "dir/path".
std::string ResolvePath(const std::string& dir, const std::string& path);

// Creates folder `path` with `mode` (narrowed by the umask); its parent must
// exist. Anything already at `path` is accepted as is: its mode is not
// changed and it is not checked to be a folder. Other failures are Internal,
// with a message naming `path` and the reason.
Status MakeDirectory(const std::string& path, mode_t mode);

}  // namespace vmcrypt

#endif  // VMCRYPT_BASE_FILE_UTIL_H_
