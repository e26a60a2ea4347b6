#include "vmcrypt/kms/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::kms {
namespace {

using crypto::BignumPtr;
using crypto::BioPtr;
using crypto::X509ExtensionPtr;
using crypto::X509Ptr;
using crypto::X509ReqPtr;
using PkeyPtr = crypto::EvpPkeyPtr;

std::string Errors() { return crypto::OpenSslErrorString(); }

Result<PkeyPtr> NewKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return InternalError("EC key generation failed: " + Errors());
  return key;
}

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return InternalError("cannot write certificate: " + Errors());
  }
  return BioToString(bio.get());
}

Result<SecretBytes> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return InternalError("cannot write private key: " + Errors());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return SecretBytes(
      std::span<const uint8_t>(reinterpret_cast<uint8_t*>(data), static_cast<size_t>(len)));
}

Result<X509Ptr> ParseCert(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return InvalidArgumentError("not a PEM certificate");
  }
  return cert;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InvalidArgumentError("bad certificate extension '" + value + "': " + Errors());
  }
  return OkStatus();
}

// Fills serial, validity, issuer and the extensions of `spec`, then signs.
Status BuildAndSign(X509* cert, X509* issuer_cert, EVP_PKEY* issuer_key, const CertSpec& spec,
                    bool is_ca) {
  X509_set_version(cert, X509_VERSION_3);
  // 159-bit random serial (RFC 5280 §4.1.2.2: positive, at most 20 octets).
  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return InternalError("cannot make a serial number: " + Errors());
  }
  // Valid from an hour ago, for clocks that lag.
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_time_adj_ex(X509_getm_notAfter(cert), spec.validity_days, 0, nullptr);
  X509* issuer = issuer_cert != nullptr ? issuer_cert : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));

  RETURN_IF_ERROR(AddExtension(cert, issuer, NID_basic_constraints,
                               is_ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(
      cert, issuer, NID_key_usage,
      is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyAgreement"));
  std::string eku;
  if (spec.server_auth) eku += "serverAuth";
  if (spec.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
  if (!eku.empty()) RETURN_IF_ERROR(AddExtension(cert, issuer, NID_ext_key_usage, eku));
  std::string san;
  for (const std::string& d : spec.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (const std::string& ip : spec.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty()) RETURN_IF_ERROR(AddExtension(cert, issuer, NID_subject_alt_name, san));
  RETURN_IF_ERROR(AddExtension(cert, issuer, NID_subject_key_identifier, "hash"));
  if (issuer_cert != nullptr) {
    RETURN_IF_ERROR(AddExtension(cert, issuer, NID_authority_key_identifier, "keyid:always"));
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
    return InternalError("cannot sign the certificate: " + Errors());
  }
  return OkStatus();
}

Status SetSubject(X509* cert, std::string_view common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string cn(common_name);
  if (cn.empty() || cn.size() > 64)
    return InvalidArgumentError("a common name needs 1-64 characters");
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("vmcrypt"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return InvalidArgumentError("bad common name: " + Errors());
  }
  return OkStatus();
}

std::string NameText(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return BioToString(bio.get());
}

}  // namespace

struct CertificateAuthority::State {
  X509Ptr cert;
  PkeyPtr key;
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
CertificateAuthority::~CertificateAuthority() = default;
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;

Result<CertificateAuthority> CertificateAuthority::Create(std::string_view common_name,
                                                          int validity_days) {
  auto state = std::make_unique<State>();
  ASSIGN_OR_RETURN(state->key, NewKey());
  state->cert.reset(X509_new());
  if (!state->cert) return InternalError("X509_new failed");
  RETURN_IF_ERROR(SetSubject(state->cert.get(), common_name));
  X509_set_pubkey(state->cert.get(), state->key.get());
  CertSpec spec;
  spec.validity_days = validity_days;
  RETURN_IF_ERROR(BuildAndSign(state->cert.get(), nullptr, state->key.get(), spec, /*is_ca=*/true));
  return CertificateAuthority(std::move(state));
}

Result<CertificateAuthority> CertificateAuthority::Load(std::string_view cert_pem,
                                                        const SecretBytes& key_pem) {
  auto state = std::make_unique<State>();
  ASSIGN_OR_RETURN(state->cert, ParseCert(cert_pem));
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  state->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!state->key) {
    ERR_clear_error();
    return InvalidArgumentError("the CA key is not a PEM private key");
  }
  if (X509_check_private_key(state->cert.get(), state->key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the CA key does not match the CA certificate");
  }
  return CertificateAuthority(std::move(state));
}

std::string CertificateAuthority::cert_pem() const {
  auto pem = CertToPem(state_->cert.get());
  return pem.ok() ? *pem : std::string();
}

Result<SecretBytes> CertificateAuthority::key_pem() const { return KeyToPem(state_->key.get()); }

Result<IssuedCertificate> CertificateAuthority::Issue(const CertSpec& spec) const {
  ASSIGN_OR_RETURN(PkeyPtr key, NewKey());
  X509Ptr cert(X509_new());
  if (!cert) return InternalError("X509_new failed");
  RETURN_IF_ERROR(SetSubject(cert.get(), spec.common_name));
  X509_set_pubkey(cert.get(), key.get());
  RETURN_IF_ERROR(BuildAndSign(cert.get(), state_->cert.get(), state_->key.get(), spec, false));
  IssuedCertificate out;
  ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  return out;
}

Result<std::string> CertificateAuthority::SignCsr(std::string_view csr_pem,
                                                  const CertSpec& spec) const {
  BioPtr bio = MemBio(csr_pem);
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) {
    ERR_clear_error();
    return InvalidArgumentError("not a PEM certificate request (CSR)");
  }
  EVP_PKEY* req_key = X509_REQ_get0_pubkey(req.get());
  if (req_key == nullptr || X509_REQ_verify(req.get(), req_key) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the CSR's signature does not verify");
  }
  X509Ptr cert(X509_new());
  if (!cert) return InternalError("X509_new failed");
  if (!spec.common_name.empty()) {
    RETURN_IF_ERROR(SetSubject(cert.get(), spec.common_name));
  } else {
    X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req.get()));
  }
  X509_set_pubkey(cert.get(), req_key);
  RETURN_IF_ERROR(BuildAndSign(cert.get(), state_->cert.get(), state_->key.get(), spec, false));
  return CertToPem(cert.get());
}

bool IsIpAddress(const std::string& name) {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, name.c_str(), &a4) == 1 || inet_pton(AF_INET6, name.c_str(), &a6) == 1;
}

void AddSubjectAltName(CertSpec& spec, const std::string& name) {
  (IsIpAddress(name) ? spec.ip_addresses : spec.dns_names).push_back(name);
}

Result<CertificateInfo> DescribeCertificate(std::string_view cert_pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(cert_pem));
  CertificateInfo info;
  info.subject = NameText(X509_get_subject_name(cert.get()));
  info.issuer = NameText(X509_get_issuer_name(cert.get()));
  info.sha256_fingerprint = crypto::Sha256Fingerprint(cert.get());
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert.get()));
  info.not_after = BioToString(bio.get());
  return info;
}

}  // namespace vmcrypt::kms
