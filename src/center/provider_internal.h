// Helpers shared by the key provider implementations (standard_provider.cc,
// trust.cc, native_provider.cc). Not part of the public API.
#ifndef VMCRYPT_SRC_CENTER_PROVIDER_INTERNAL_H_
#define VMCRYPT_SRC_CENTER_PROVIDER_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "vmcrypt/base/status.h"
#include "vmcrypt/center/key_provider.h"

namespace vmcrypt::center::internal {

// The string member `key` of `obj`: empty when absent or null (unless
// `required`: then InvalidArgument 'missing "key"'); InvalidArgument when it
// is not a string.
Result<std::string> JsonString(const Json& obj, const char* key, bool required);

// "HOST:PORT" or "[V6]:PORT" split into host (brackets removed) and port.
// InvalidArgument "bad key server address 'A': expected HOST:PORT".
Status SplitAddress(const std::string& address, std::string* host, uint16_t* port);

// Creates `dir` (and its parents) if missing; a new folder gets mode 0700.
Status EnsurePrivateDir(const std::string& dir);

// Builds a standard provider from its document (standard_provider.cc).
Result<std::unique_ptr<KeyProvider>> MakeStandardProvider(const Json& doc,
                                                          const ProviderContext& ctx);
// Builds a native provider from its document (native_provider.cc).
Result<std::unique_ptr<KeyProvider>> MakeNativeProvider(const Json& doc,
                                                        const ProviderContext& ctx);

}  // namespace vmcrypt::center::internal

#endif  // VMCRYPT_SRC_CENTER_PROVIDER_INTERNAL_H_
