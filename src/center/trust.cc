// Trust set-up between center and the servers of a standard key provider
// (key_provider.h), as vCenter offers it: center trusts the KMS by pinning
// each server's certificate or by trusting a CA; the KMS trusts center
// through a client certificate that the KMS signs (CSR), that center makes
// itself (self-signed), or that the KMS issued with its key.
//
// Client keys are EC P-256, written PEM (PKCS#8) with mode 0600 under the
// provider's folder only, named after the hash of their public key; the
// document holds only their path.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <filesystem>

#include "src/center/provider_internal.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/center/host_client.h"
#include "vmcrypt/center/key_provider.h"
#include "vmcrypt/crypto/openssl.h"

namespace vmcrypt::center {
namespace {

using crypto::BioPtr;
using crypto::EvpPkeyPtr;
using crypto::X509ExtensionPtr;
using crypto::X509Ptr;
using crypto::X509ReqPtr;

constexpr int kSelfSignedDays = 3650;

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return InternalError("cannot write a certificate: " + crypto::OpenSslErrorString());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<X509Ptr> ParseCert(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return InvalidArgumentError("not a PEM certificate");
  }
  return cert;
}

// Every certificate of a PEM bundle must parse; at least one.
Status CheckCertBundle(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  int count = 0;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    ++count;
  }
  ERR_clear_error();  // the end of the bundle reads as an error
  if (count == 0) return InvalidArgumentError("no PEM certificate in the CA bundle");
  return OkStatus();
}

// Refuses any password prompt: keys are given unencrypted.
int NoPassword(char*, int, int, void*) { return 0; }

Result<EvpPkeyPtr> ParseKey(std::span<const uint8_t> pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (!key) {
    ERR_clear_error();
    return InvalidArgumentError("not an unencrypted PEM private key");
  }
  return key;
}

Result<EvpPkeyPtr> NewClientKey() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return InternalError("EC key generation failed: " + crypto::OpenSslErrorString());
  return key;
}

// Writes `key` (PKCS#8 PEM, mode 0600) under `dir`, named after its public
// key; returns the path.
Result<std::string> WriteKeyFile(const std::string& dir, EVP_PKEY* key, const char* prefix) {
  RETURN_IF_ERROR(internal::EnsurePrivateDir(dir));
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(key, &der);
  if (der_len <= 0) return InternalError("cannot encode a public key");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  const int hashed =
      EVP_Digest(der, static_cast<size_t>(der_len), digest, &digest_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (hashed != 1) return InternalError("cannot hash a public key");
  const std::string path =
      dir + "/" + prefix + "-" + HexEncode(std::span<const uint8_t>(digest, 8)) + ".key";

  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return InternalError("cannot encode the client key: " + crypto::OpenSslErrorString());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  SecretBytes pem(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len)));
  RETURN_IF_ERROR(WriteFileAtomic(path, pem.span(), 0600, /*overwrite=*/true));
  return path;
}

Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InternalError(std::string("cannot add extension ") + value + ": " +
                         crypto::OpenSslErrorString());
  }
  return OkStatus();
}

Status SetCommonName(X509_NAME* name, const std::string& common_name) {
  if (common_name.empty() || common_name.size() > 64) {
    return InvalidArgumentError("a common name needs 1-64 characters");
  }
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("bad common name '" + common_name + "'");
  }
  return OkStatus();
}

Result<Json*> Servers(Json& doc) {
  auto it = doc.find("servers");
  if (it == doc.end() || !it->is_array() || it->empty()) {
    return InvalidArgumentError("the key provider has no key servers");
  }
  for (const Json& s : *it) {
    if (!s.is_object()) return InvalidArgumentError("a key server entry is not an object");
  }
  return &*it;
}

// Removes the key file the document named before, when it is not `keep`.
void RemoveOldKeyFile(const Json& doc, const std::string& keep) {
  Result<std::string> old = internal::JsonString(doc, "client_key_file", false);
  if (!old.ok() || old->empty() || *old == keep) return;
  std::error_code ec;
  std::filesystem::remove(*old, ec);
}

// Records a new client identity in the document.
void SetClientIdentity(Json& doc, const std::string& cert_pem, const std::string& key_file) {
  RemoveOldKeyFile(doc, key_file);
  doc["client_cert"] = cert_pem;
  doc["client_key_file"] = key_file;
  doc.erase("pending_csr");
  doc.erase("pending_key_file");
}

}  // namespace

Status TrustFetchServerCertificates(Json& doc, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(Json * servers, Servers(doc));
  Json updated = *servers;
  for (Json& server : updated) {
    ASSIGN_OR_RETURN(std::string address, internal::JsonString(server, "address", true));
    Result<std::string> pem = FetchServerCertificate(address, timeout);
    if (!pem.ok()) return pem.status().WithContext("fetching key server certificates");
    server["pinned_cert"] = *pem;
    server.erase("ca_cert");
  }
  *servers = std::move(updated);
  return OkStatus();
}

Status TrustServerCa(Json& doc, const std::string& ca_pem) {
  ASSIGN_OR_RETURN(Json * servers, Servers(doc));
  RETURN_IF_ERROR(CheckCertBundle(ca_pem));
  for (Json& server : *servers) {
    server["ca_cert"] = ca_pem;
    server.erase("pinned_cert");
  }
  return OkStatus();
}

Result<std::string> MakeClientCsr(Json& doc, const std::string& provider_dir,
                                  const std::string& common_name) {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, NewClientKey());
  X509ReqPtr req(X509_REQ_new());
  if (!req) return InternalError("X509_REQ_new failed");
  RETURN_IF_ERROR(SetCommonName(X509_REQ_get_subject_name(req.get()), common_name));
  if (X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return InternalError("cannot make a CSR: " + crypto::OpenSslErrorString());
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return InternalError("cannot write the CSR: " + crypto::OpenSslErrorString());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string csr(data, static_cast<size_t>(len));
  ASSIGN_OR_RETURN(std::string key_file, WriteKeyFile(provider_dir, key.get(), "pending"));

  // A CSR made earlier and never signed is replaced.
  Result<std::string> old = internal::JsonString(doc, "pending_key_file", false);
  if (old.ok() && !old->empty() && *old != key_file) {
    std::error_code ec;
    std::filesystem::remove(*old, ec);
  }
  doc["pending_csr"] = csr;
  doc["pending_key_file"] = key_file;
  return csr;
}

Status ImportSignedClientCertificate(Json& doc, const std::string& cert_pem) {
  ASSIGN_OR_RETURN(std::string pending, internal::JsonString(doc, "pending_key_file", false));
  if (pending.empty()) {
    return FailedPreconditionError("no certificate signing request is pending; make one first");
  }
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(cert_pem));
  ASSIGN_OR_RETURN(SecretBytes key_pem, ReadSecretFile(pending));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, ParseKey(key_pem.span()));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError(
        "the certificate does not match the pending certificate signing request");
  }
  const std::string dir = std::filesystem::path(pending).parent_path().string();
  ASSIGN_OR_RETURN(std::string key_file, WriteKeyFile(dir, key.get(), "client"));
  std::error_code ec;
  std::filesystem::remove(pending, ec);
  SetClientIdentity(doc, cert_pem, key_file);
  return OkStatus();
}

Result<std::string> MakeSelfSignedClientCertificate(Json& doc, const std::string& provider_dir,
                                                    const std::string& common_name) {
  ASSIGN_OR_RETURN(EvpPkeyPtr key, NewClientKey());
  X509Ptr cert(X509_new());
  if (!cert) return InternalError("X509_new failed");
  RETURN_IF_ERROR(SetCommonName(X509_get_subject_name(cert.get()), common_name));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_version(cert.get(), X509_VERSION_3);
  // 159-bit random serial (RFC 5280 §4.1.2.2: positive, at most 20 octets).
  crypto::BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return InternalError("cannot make a serial number: " + crypto::OpenSslErrorString());
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // clocks that lag
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), kSelfSignedDays, 0, nullptr);
  X509_set_pubkey(cert.get(), key.get());
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  // KMS servers (PyKMIP among them) ask for the clientAuth usage.
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_ext_key_usage, "clientAuth"));
  RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return InternalError("cannot sign the certificate: " + crypto::OpenSslErrorString());
  }
  ASSIGN_OR_RETURN(std::string pem, CertToPem(cert.get()));
  ASSIGN_OR_RETURN(std::string key_file, WriteKeyFile(provider_dir, key.get(), "client"));
  SetClientIdentity(doc, pem, key_file);
  return pem;
}

Status ImportClientCertificateAndKey(Json& doc, const std::string& provider_dir,
                                     const std::string& cert_pem, const SecretBytes& key_pem) {
  ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(cert_pem));
  ASSIGN_OR_RETURN(EvpPkeyPtr key, ParseKey(key_pem.span()));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the private key does not match the certificate");
  }
  ASSIGN_OR_RETURN(std::string key_file, WriteKeyFile(provider_dir, key.get(), "client"));
  SetClientIdentity(doc, cert_pem, key_file);
  return OkStatus();
}

}  // namespace vmcrypt::center
