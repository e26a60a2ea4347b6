// Native key providers (docs/host.md "Native key providers"): the control
// plane makes one 32-byte key derivation key (KDK) per native provider and
// pushes it to hosts; a host derives the KEK of any key id from it, so a
// host that holds the KDK creates and opens encrypted VMs on its own (the
// control plane may be down). Center and every host derive the same KEK.
//
// Thread-safety: free functions without shared state.
#ifndef VMCRYPT_HOST_NATIVE_KEK_H_
#define VMCRYPT_HOST_NATIVE_KEK_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::host {

// Size of a KDK and of a derived KEK (AES-256).
inline constexpr size_t kKdkSize = 32;

// The KEK of `key_id` under native provider `provider`:
//   HKDF-SHA-256 (RFC 5869), IKM = kdk, salt empty (HashLen zero bytes),
//   info = "vmcrypt native KEK v1|" + provider + "|" + key_id, L = 32.
// `provider` may not contain '|', so the info string names exactly one
// (provider, key id) pair. InvalidArgument if `kdk` is not kKdkSize bytes,
// `provider` or `key_id` is empty, or `provider` contains '|'. Messages
// never hold key bytes.
Result<SecretBytes> DeriveNativeKek(const SecretBytes& kdk, std::string_view provider,
                                    std::string_view key_id);

// A new key id for a native provider: a random UUID (RFC 9562 version 4),
// lower-case "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". Internal if the DRBG
// fails.
Result<std::string> NewNativeKeyId();

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_NATIVE_KEK_H_
