// Where a `vmcrypt disk` command gets its KEK: a key file (32 raw bytes,
// mode 0600) or a KMIP server (KMIP 1.4 §4.11 Get of a 256-bit AES
// Symmetric Key, mutual TLS). Shared by disk_commands.cc and disk_serve.cc.
// Internal to the binary.
//
// The KEK is returned in SecretBytes and never printed; errors name the file,
// the server and the key id, never key bytes.
#ifndef VMCRYPT_SRC_CLI_KEK_SOURCE_H_
#define VMCRYPT_SRC_CLI_KEK_SOURCE_H_

#include <CLI/CLI.hpp>

#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::cli {

// What a command does with a KMIP KEK, which decides the states it may be in
// (KMIP 1.4 §3.22 State): wrapping a DEK (create, encrypt, deep rekey, the
// new KEK of a shallow rekey) needs an Active key; unwrapping one (serve,
// cat, write, decrypt, the old KEK of a shallow rekey) also accepts a
// Deactivated or Compromised key, so that data can still be read and moved
// to a new KEK. A Pre-Active key protects nothing yet and is refused.
enum class KekUse { kWrap, kUnwrap };

// The options naming one KEK. Exactly one of `file` and `kmip_server` is set
// when Load is called.
struct KekSource {
  std::string file;         // --kek-file
  std::string kmip_server;  // --kmip-server HOST:PORT
  std::string ca;           // --ca: CA certificate(s) of the server (PEM)
  std::string cert;         // --cert: client certificate (PEM)
  std::string key;          // --key: client private key (PEM)
  std::string key_id;       // --key-id: the KMIP Unique Identifier / key safe key id

  bool from_kmip() const { return !kmip_server.empty(); }

  // The provider id recorded in a new key safe entry when the user gave
  // none: the KMIP server address ("127.0.0.1:5696") for a KMIP KEK, empty
  // for a key file.
  std::string DefaultProvider() const { return from_kmip() ? kmip_server : std::string(); }

  // Loads the KEK for `use`. `what` names it in errors ("KEK", "new KEK").
  // First makes the process non-dumpable and locks its memory
  // (base/process_guard.h): the KEK and the DEKs it unwraps live here.
  // FailedPrecondition: a KMIP key in a state `use` does not allow ("key X
  // is Pre-Active: activate it on the KMIP server first").
  // InvalidArgument: neither or both sources, a missing --key-id / --ca /
  // --cert / --key with --kmip-server, a bad HOST:PORT, or a key that is not
  // 32 bytes ("key X is 16 bytes, a KEK is 32"). Errors of the file read, or
  // of the KMIP client prefixed with "KMIP server HOST:PORT: " (e.g.
  // "Item Not Found ... for key id X", connection refused).
  Result<SecretBytes> Load(KekUse use, const std::string& what = "KEK") const;
};

// Adds --kek-file, --kmip-server, --ca, --cert, --key and --key-id (with
// `key_id_help`) to `cmd`. None is required by CLI11: Load checks them.
void AddKekSourceOptions(CLI::App* cmd, KekSource* source, const std::string& key_id_help);

// Fetches key `key_id` from the KMIP server of `server` (its TLS options are
// reused): for `rekey --shallow --new-key-id`. Same errors as Load.
Result<SecretBytes> LoadKmipKey(const KekSource& server, const std::string& key_id, KekUse use,
                                const std::string& what);

}  // namespace vmcrypt::cli

#endif  // VMCRYPT_SRC_CLI_KEK_SOURCE_H_
