// A small certificate authority for the key server's mutual TLS: it makes
// the KMS's own CA, the server certificate, client bundles, and signs client
// CSRs (vCenter "sign a CSR" trust set-up). Keys are EC P-256; signatures
// ECDSA with SHA-256; certificates X.509 v3 (RFC 5280).
//
// Private keys leave this class only as PEM in SecretBytes.
//
// Thread-safety: a loaded CertificateAuthority is immutable and may be used
// from several threads.
#ifndef VMCRYPT_KMS_PKI_H_
#define VMCRYPT_KMS_PKI_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::kms {

struct CertSpec {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
  bool server_auth = false;               // extendedKeyUsage serverAuth
  bool client_auth = false;               // extendedKeyUsage clientAuth
  int validity_days = 825;
};

// True if `name` is an IPv4 or IPv6 address literal ("10.0.0.5", "::1"),
// false for anything else (a DNS name).
bool IsIpAddress(const std::string& name);

// Adds `name` to `spec`'s subjectAltName: to ip_addresses if it is an IP
// address literal (IsIpAddress), else to dns_names.
void AddSubjectAltName(CertSpec& spec, const std::string& name);

struct IssuedCertificate {
  std::string cert_pem;
  SecretBytes key_pem;  // PKCS#8, unencrypted
};

// What the server logs and shows about a certificate.
struct CertificateInfo {
  std::string subject;  // RFC 2253 form, e.g. "CN=admin,O=vmcrypt"
  std::string issuer;
  std::string sha256_fingerprint;  // "AB:CD:..." (upper-case hex, colons)
  std::string not_after;           // e.g. "Mar  1 12:00:00 2029 GMT"
};

class CertificateAuthority {
 public:
  ~CertificateAuthority();
  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;

  // A new CA with a fresh key: CN=`common_name`, O=vmcrypt; basicConstraints
  // CA:true, pathlen 0; keyUsage keyCertSign, cRLSign.
  static Result<CertificateAuthority> Create(std::string_view common_name, int validity_days);
  // Loads a CA from its certificate and key (PEM); fails if they do not match.
  static Result<CertificateAuthority> Load(std::string_view cert_pem, const SecretBytes& key_pem);

  std::string cert_pem() const;
  Result<SecretBytes> key_pem() const;

  // Makes a key pair and a certificate for it, signed by this CA.
  Result<IssuedCertificate> Issue(const CertSpec& spec) const;
  // Signs a PKCS#10 request (PEM) after checking its self-signature. The
  // subject comes from the request unless spec.common_name is set; SANs and
  // usages come from `spec` (a CSR cannot grant itself usages).
  Result<std::string> SignCsr(std::string_view csr_pem, const CertSpec& spec) const;

 private:
  struct State;
  explicit CertificateAuthority(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Parses a PEM certificate and describes it.
Result<CertificateInfo> DescribeCertificate(std::string_view cert_pem);

}  // namespace vmcrypt::kms

#endif  // VMCRYPT_KMS_PKI_H_
