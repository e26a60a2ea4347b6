// HostClient: center's side of the host agent API (docs/host.md): JSON over
// HTTPS with mutual TLS. Center presents its client certificate; the host is
// authenticated by pinning the SHA-256 fingerprint of its certificate (given
// when the host is added, as vCenter asks to confirm a host's thumbprint).
//
// Errors: a host that cannot be reached (connect, TLS, timeout) is
// Unavailable "host H (ADDRESS) unreachable: ..."; a certificate whose
// fingerprint differs is PermissionDenied "host H (ADDRESS) presented a
// certificate with SHA-256 fingerprint FP, expected the pinned fingerprint FP"; an error the host
// returns keeps the host's status code (404 -> NotFound, 409 -> FailedPrecondition, ...) and its
// message, prefixed "host H: ".
//
// Key bytes travel only in request bodies, which are wiped after sending.
//
// Thread-safety: one HostClient may be used from several threads (each call
// opens its own connection).
#ifndef VMCRYPT_CENTER_HOST_CLIENT_H_
#define VMCRYPT_CENTER_HOST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/center/store.h"

namespace vmcrypt::center {

struct HostEndpoint {
  std::string name;         // for messages
  std::string address;      // "HOST:PORT"
  std::string fingerprint;  // SHA-256 of the host certificate, "AB:CD:..."
};

// Center's client identity toward hosts (PEM files).
struct ClientIdentity {
  std::string cert_file;
  std::string key_file;
};

class HostClient {
 public:
  static Result<std::unique_ptr<HostClient>> Create(
      HostEndpoint endpoint, ClientIdentity identity,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  ~HostClient();

  const HostEndpoint& endpoint() const { return endpoint_; }

  // One call: METHOD on PATH (e.g. "/v1/vms/vm1/open") with an optional JSON
  // body; returns the response's JSON (an empty object for an empty body).
  Result<Json> Call(const std::string& method, const std::string& path, const Json* body = nullptr);

  // PUT /v1/keys/{provider}/{key_id}.
  Status PutKey(const std::string& provider, const std::string& key_id, const SecretBytes& key);
  // DELETE /v1/keys/{provider}/{key_id}.
  Status DeleteKey(const std::string& provider, const std::string& key_id);
  // PUT /v1/kdks/{provider}: a native provider's key derivation key.
  Status PutKdk(const std::string& provider, const SecretBytes& kdk, bool tpm_required);
  // DELETE /v1/kdks/{provider}.
  Status DeleteKdk(const std::string& provider);
  // GET /v1/status.
  Result<Json> GetStatus();

 private:
  HostClient(HostEndpoint endpoint, ClientIdentity identity, std::chrono::milliseconds timeout);
  HostEndpoint endpoint_;
  ClientIdentity identity_;
  std::chrono::milliseconds timeout_;
};

// Connects to HOST:PORT with TLS, verifying nothing, and returns the leaf
// certificate the server presents (PEM): the first step of "fetch and pin"
// trust set-up. Unavailable when it cannot connect.
Result<std::string> FetchServerCertificate(const std::string& address,
                                           std::chrono::milliseconds timeout);

// "AB:CD:..." SHA-256 fingerprint of a PEM certificate.
Result<std::string> CertificateFingerprint(const std::string& cert_pem);

}  // namespace vmcrypt::center

#endif  // VMCRYPT_CENTER_HOST_CLIENT_H_
