#include "vmcrypt/kms/pki.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace vmcrypt::kms {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// Verifies `leaf` against `ca` as OpenSSL would in a handshake.
bool Verifies(const std::string& ca_pem, const std::string& leaf_pem, int purpose) {
  X509Ptr ca = Parse(ca_pem);
  X509Ptr leaf = Parse(leaf_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

TEST(PkiTest, IssuesServerAndClientCertificatesTheCaVerifies) {
  auto ca = CertificateAuthority::Create("test CA", 30);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  CertSpec server;
  server.common_name = "kms1";
  server.server_auth = server.client_auth = true;
  server.ip_addresses = {"127.0.0.1"};
  server.dns_names = {"localhost", "kms.example.com"};
  auto s = ca->Issue(server);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(Verifies(ca->cert_pem(), s->cert_pem, X509_PURPOSE_SSL_SERVER));
  EXPECT_TRUE(Verifies(ca->cert_pem(), s->cert_pem, X509_PURPOSE_SSL_CLIENT));
  X509Ptr cert = Parse(s->cert_pem);
  EXPECT_EQ(X509_check_host(cert.get(), "kms.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "other.example.com", 0, 0, nullptr), 1);

  CertSpec client;
  client.common_name = "admin";
  client.client_auth = true;
  auto c = ca->Issue(client);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(Verifies(ca->cert_pem(), c->cert_pem, X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(Verifies(ca->cert_pem(), c->cert_pem, X509_PURPOSE_SSL_SERVER));

  // Another CA does not vouch for it.
  auto other = CertificateAuthority::Create("other CA", 30);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Verifies(other->cert_pem(), c->cert_pem, X509_PURPOSE_SSL_CLIENT));

  auto info = DescribeCertificate(c->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, "CN=admin,O=vmcrypt");
  EXPECT_EQ(info->issuer, "CN=test CA,O=vmcrypt");
  EXPECT_EQ(info->sha256_fingerprint.size(), 32u * 3 - 1);
}

TEST(PkiTest, ReloadsAndRejectsMismatchedKeys) {
  auto ca = CertificateAuthority::Create("test CA", 30);
  ASSERT_TRUE(ca.ok());
  auto key = ca->key_pem();
  ASSERT_TRUE(key.ok());
  auto again = CertificateAuthority::Load(ca->cert_pem(), *key);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  CertSpec spec;
  spec.common_name = "x";
  spec.client_auth = true;
  auto issued = again->Issue(spec);
  ASSERT_TRUE(issued.ok());
  EXPECT_TRUE(Verifies(ca->cert_pem(), issued->cert_pem, X509_PURPOSE_SSL_CLIENT));

  auto other = CertificateAuthority::Create("other CA", 30);
  auto mismatch = CertificateAuthority::Load(ca->cert_pem(), *other->key_pem());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(), "the CA key does not match the CA certificate");
  EXPECT_FALSE(CertificateAuthority::Load("junk", *key).ok());
}

TEST(PkiTest, SignsCsrsWithOurUsages) {
  auto ca = CertificateAuthority::Create("test CA", 30);
  ASSERT_TRUE(ca.ok());
  // A CSR as vCenter would send: its own key and subject.
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509_REQ* req = X509_REQ_new();
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("vcenter.example.com"), -1, -1,
                             0);
  X509_REQ_set_pubkey(req, key);
  X509_REQ_sign(req, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, req);
  char* data;
  long len = BIO_get_mem_data(bio, &data);
  std::string csr(data, static_cast<size_t>(len));
  BIO_free(bio);
  X509_REQ_free(req);
  EVP_PKEY_free(key);

  CertSpec spec;
  spec.client_auth = spec.server_auth = true;
  auto signed_cert = ca->SignCsr(csr, spec);
  ASSERT_TRUE(signed_cert.ok()) << signed_cert.status().ToString();
  EXPECT_TRUE(Verifies(ca->cert_pem(), *signed_cert, X509_PURPOSE_SSL_CLIENT));
  EXPECT_EQ(DescribeCertificate(*signed_cert)->subject, "CN=vcenter.example.com");

  // A tampered CSR is refused.
  std::string bad = csr;
  bad[bad.size() / 2] = bad[bad.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(ca->SignCsr(bad, spec).ok());
  EXPECT_EQ(ca->SignCsr("not a csr", spec).status().message(),
            "not a PEM certificate request (CSR)");
}

TEST(PkiTest, SortsSubjectAltNamesIntoIpAndDns) {
  EXPECT_TRUE(IsIpAddress("10.0.0.5"));
  EXPECT_TRUE(IsIpAddress("::1"));
  EXPECT_TRUE(IsIpAddress("fe80::1:2"));
  EXPECT_FALSE(IsIpAddress("kms.example.com"));
  EXPECT_FALSE(IsIpAddress("10.0.0.256"));
  EXPECT_FALSE(IsIpAddress("10.0.0.5:5696"));
  EXPECT_FALSE(IsIpAddress(""));

  CertSpec spec;
  for (const char* name : {"10.0.0.5", "kms.example.com", "::1", "localhost"}) {
    AddSubjectAltName(spec, name);
  }
  EXPECT_EQ(spec.ip_addresses, (std::vector<std::string>{"10.0.0.5", "::1"}));
  EXPECT_EQ(spec.dns_names, (std::vector<std::string>{"kms.example.com", "localhost"}));
}

}  // namespace
}  // namespace vmcrypt::kms
