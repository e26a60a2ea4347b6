// Reading a configuration file with toml++, internal to src/: toml++ (as
// Debian builds it) reports errors by exception; they stay in this adapter
// (STYLE.md rule 3). Header-only; each target that includes it links
// tomlplusplus.
#ifndef VMCRYPT_SRC_COMMON_TOML_FILE_H_
#define VMCRYPT_SRC_COMMON_TOML_FILE_H_

#include <toml++/toml.h>

#include <string>

#include "vmcrypt/base/status.h"

namespace vmcrypt::internal {

// The parsed file, or InvalidArgument "PATH:LINE: what is wrong" (a file
// that cannot be read is reported the same way, by toml++).
inline Result<toml::table> ParseTomlFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError(path + ":" + std::to_string(e.source().begin.line) + ": " +
                                std::string(e.description()));
  }
}

}  // namespace vmcrypt::internal

#endif  // VMCRYPT_SRC_COMMON_TOML_FILE_H_
