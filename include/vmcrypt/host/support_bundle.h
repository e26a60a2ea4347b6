// Support bundles (docs/host.md "Host encryption mode"): what a host agent
// hands to support engineers (its status, its VMs, its configuration), kept
// only encrypted with the host key, since such a bundle may hold key
// material in other products (vSphere encrypts support bundles and core
// dumps of hosts in encryption mode the same way).
//
// A bundle file is a small JSON envelope:
//   {"format": "vmcrypt-support-bundle/1", "provider": P, "key_id": K,
//    "wrap": "AES-256-KWP", "wrapped_dek": BASE64, "sealed": BASE64}
// - a fresh random 32-byte DEK per bundle, wrapped with the host key (the
//   KEK P/K) by AES key wrap with padding (RFC 5649);
// - "sealed": the content sealed with the DEK, AES-256-GCM, a sealed box
//   (include/vmcrypt/crypto/aead.h: 12-byte random IV, ciphertext, 16-byte
//   tag), with associated data "vmcrypt-support-bundle/1|P|K", so the
//   envelope's key names cannot be changed without the open failing.
//
// Errors never hold key or content bytes. Thread-safety: free functions
// without shared state.
#ifndef VMCRYPT_HOST_SUPPORT_BUNDLE_H_
#define VMCRYPT_HOST_SUPPORT_BUNDLE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/host/kek_cache.h"

namespace vmcrypt::host {

inline constexpr char kSupportBundleFormat[] = "vmcrypt-support-bundle/1";
// Largest bundle file OpenSupportBundle reads (and content SealSupportBundle
// seals, less the envelope).
inline constexpr size_t kMaxSupportBundleSize = 64 << 20;

// The bundle file text for `content`, sealed for the host key `host_key`
// whose bytes are `kek` (32 bytes). InvalidArgument for a KEK that is not 32
// bytes, an empty provider or key id, or content over
// kMaxSupportBundleSize / 2; Internal if the DRBG fails.
Result<std::string> SealSupportBundle(std::string_view content, const KeyRef& host_key,
                                      const SecretBytes& kek);

// Which host key a bundle file is sealed with (read from the envelope; not
// authenticated until the bundle is opened). DataLoss "not a vmcrypt support
// bundle: ..." for a malformed envelope.
Result<KeyRef> SupportBundleKey(std::string_view file_text);

// The content of a bundle file, opened with the host key's bytes `kek`.
// InvalidArgument if `kek` is not 32 bytes. DataLoss for a malformed or
// oversized envelope ("not a vmcrypt support bundle: ..."), a wrong KEK or a
// tampered wrapped DEK ("key unwrap failed: ..."), and tampered content, IV,
// tag or key names ("authentication failed"); no content is released then.
Result<std::string> OpenSupportBundle(std::string_view file_text, std::span<const uint8_t> kek);

}  // namespace vmcrypt::host

#endif  // VMCRYPT_HOST_SUPPORT_BUNDLE_H_
