// Key providers (seed 000; ARCHITECTURE.md "key providers"): where center
// gets KEKs.
//
// * Standard: a named cluster of 1..N KMIP servers (ours or any other),
//   tried in order with timeouts; the first that answers serves the call
//   and is tried first next time (failover). CreateKey = KMIP Create
//   AES-256 with x-Vendor, x-Product, x-Product_Version, then Activate;
//   GetKey = KMIP Get; TagKey adds x-Component, x-Name, x-Identifier.
// * Native: a key derivation key (KDK) made by center, sealed under
//   center's root key in the provider document, pushed to hosts; hosts
//   derive per-VM KEKs from it and the key id (host/native_kek.h), so
//   center never handles KEKs. Unusable until backed up (ExportNative).
//
// A provider is described by a JSON document kept in the "providers"
// collection (docs/api.md, "Providers"); it holds names, addresses,
// certificates and sealed blobs, never clear key bytes. The TLS client key
// of a standard provider is a 0600 file under the provider's folder.
//
// Thread-safety: a KeyProvider may be used from several threads.
#ifndef VMCRYPT_CENTER_KEY_PROVIDER_H_
#define VMCRYPT_CENTER_KEY_PROVIDER_H_

#include <chrono>
#include <memory>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/center/store.h"
#include "vmcrypt/kms/root_key.h"

namespace vmcrypt::center {

// What a key is used for: the x-Component / x-Name / x-Identifier custom
// attributes vCenter sets ("VM" or "Host", the entity's name and id).
struct KeyTag {
  std::string component;
  std::string name;
  std::string identifier;
};

enum class KeyState {
  kAvailable,
  kMissing,      // the provider answered: no such key (or destroyed)
  kUnreachable,  // no server of the provider answered
  kUnusable,     // e.g. not active, or a native provider not backed up
};
const char* KeyStateName(KeyState state);  // "available", "missing", ...

struct KeyCheck {
  KeyState state = KeyState::kAvailable;
  std::string reason;  // empty when available
};

struct ProviderContext {
  kms::RootKey* root_key = nullptr;  // seals native KDKs; outlives providers
  std::string provider_dir;          // this provider's folder (client key file)
  std::string vendor = "vmcrypt";
  std::string product = "vmcrypt center";
  std::string product_version = "0.1.0";
  std::chrono::milliseconds timeout{5000};  // connect and I/O, per server
};

class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  virtual const std::string& name() const = 0;
  virtual std::string type() const = 0;  // "standard" or "native"
  // A new key, ready to use; returns its id. Native: a fresh UUID, and
  // FailedPrecondition "native key provider P is not backed up; export it
  // first" until exported.
  virtual Result<std::string> CreateKey() = 0;
  // The key's bytes (standard only: to push to hosts). Native: Unimplemented.
  virtual Result<SecretBytes> GetKey(const std::string& key_id) = 0;
  // Records what the key is used for (standard: KMIP attributes; native: no-op).
  virtual Status TagKey(const std::string& key_id, const KeyTag& tag) = 0;
  virtual KeyCheck CheckKey(const std::string& key_id) = 0;
};

// Builds the provider a document describes ({"type": "standard"|"native", ...}).
Result<std::unique_ptr<KeyProvider>> MakeKeyProvider(const Json& doc, const ProviderContext& ctx);

// --- Standard providers ------------------------------------------------------
// Document: {"type": "standard", "name", "servers": [{"address": "HOST:PORT",
//   "server_name": optional name checked in the certificate,
//   "pinned_cert": PEM or absent, "ca_cert": PEM or absent}],
//   "client_cert": PEM or absent, "client_key_file": path or absent,
//   "pending_csr": PEM or absent, "version": "1.4" (KMIP version to speak)}

// A new standard provider document (no trust yet).
Result<Json> NewStandardProvider(const std::string& name,
                                 const std::vector<std::string>& addresses);

// Trust set-up, as vCenter offers it. Each changes `doc` in place.
// Make vCenter trust the KMS: fetch and pin each server's certificate...
Status TrustFetchServerCertificates(Json& doc, std::chrono::milliseconds timeout);
// ...or trust a CA (PEM) for every server.
Status TrustServerCa(Json& doc, const std::string& ca_pem);
// Make the KMS trust vCenter: a new key (file under ctx.provider_dir) and a
// CSR for the KMS to sign (returned, PEM); then ImportSignedClientCertificate.
Result<std::string> MakeClientCsr(Json& doc, const std::string& provider_dir,
                                  const std::string& common_name);
Status ImportSignedClientCertificate(Json& doc, const std::string& cert_pem);
// ...or a self-signed client certificate (returned, PEM) to upload to the KMS...
Result<std::string> MakeSelfSignedClientCertificate(Json& doc, const std::string& provider_dir,
                                                    const std::string& common_name);
// ...or a certificate and key the KMS issued.
Status ImportClientCertificateAndKey(Json& doc, const std::string& provider_dir,
                                     const std::string& cert_pem, const SecretBytes& key_pem);

// --- Native providers --------------------------------------------------------
// Document: {"type": "native", "name", "tpm_required": bool, "backed_up":
//   bool, "kdk": {"root_key_version": N, "blob": BASE64}} (sealed with the
//   root key, the provider name as associated data).

Result<Json> NewNativeProvider(const std::string& name, bool tpm_required, kms::RootKey* root_key);
// The KDK, unsealed (to push to hosts).
Result<SecretBytes> NativeKdk(const Json& doc, kms::RootKey* root_key);
// A password-protected PKCS#12 file (DER bytes) holding the KDK and the
// provider's name and settings; sets "backed_up" in `doc`. The password must
// not be empty.
Result<std::vector<uint8_t>> ExportNativeProvider(Json& doc, kms::RootKey* root_key,
                                                  const std::string& password);
// A provider document from such a file (backed_up = true). InvalidArgument
// "wrong password or not a vmcrypt native key provider backup" on failure.
Result<Json> RestoreNativeProvider(const std::vector<uint8_t>& pkcs12, const std::string& password,
                                   kms::RootKey* root_key);

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_KEY_PROVIDER_H_
