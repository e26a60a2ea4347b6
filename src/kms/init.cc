#include "vmcrypt/kms/init.h"

#include <sys/stat.h>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/store/sqlite_store.h"

#include <ctime>

namespace vmcrypt::kms {
namespace {

std::string ConfigText(const InitOptions& o) {
  return "# vmcrypt kms configuration, written by `vmcrypt kms init`.\n"
         "# Relative paths are relative to this file's folder. docs/kms.md\n"
         "# describes every setting.\n"
         "\n"
         "[server]\n"
         "name = \"" +
         o.name +
         "\"\n"
         "# Address and port to listen on (KMIP's registered port is 5696).\n"
         "listen = \"0.0.0.0:5696\"\n"
         "# The server's certificate and key. Clients are admitted by the SHA-256\n"
         "# fingerprint of their certificate, registered with `vmcrypt kms client add`.\n"
         "certificate = \"server.crt\"\n"
         "private_key = \"server.key\"\n"
         "# Oldest TLS version accepted: \"1.2\" or \"1.3\".\n"
         "min_tls = \"1.2\"\n"
         "# Largest KMIP message accepted, in bytes.\n"
         "max_message_size = 1048576\n"
         "# Seconds a connection may stay idle, and may take to send one message.\n"
         "idle_timeout = 120\n"
         "io_timeout = 30\n"
         "# Connections served at once; more are refused.\n"
         "max_connections = 1024\n"
         "# Worker threads answering requests (0 = three per core, at least 4).\n"
         "threads = 0\n"
         "# Threads that run writing requests (Create, Register, Activate, ...)\n"
         "# and wait for their durable commit (0 = 64).\n"
         "write_threads = 0\n"
         "\n"
         "[ca]\n"
         "# Signs client certificates (`vmcrypt kms client add`).\n"
         "certificate = \"ca.crt\"\n"
         "private_key = \"ca.key\"\n"
         "\n"
         "[root_key]\n"
         "# Wraps every stored key. \"software\": a 0600 file.\n"
         "type = \"software\"\n"
         "file = \"root.key\"\n"
         "\n"
         "[store]\n"
         "type = \"sqlite\"\n"
         "path = \"kms.db\"\n"
         "\n"
         "[audit]\n"
         "# One JSON line per operation; never key bytes.\n"
         "file = \"audit.log\"\n";
}

Status WritePair(const std::string& dir, const std::string& base, const IssuedCertificate& c,
                 InitResult* result) {
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + base + ".crt", AsBytes(c.cert_pem), 0644));
  RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + base + ".key", c.key_pem.span(), 0600));
  result->files.push_back(base + ".crt");
  result->files.push_back(base + ".key");
  return OkStatus();
}

}  // namespace

Result<InitResult> InitKmsDirectory(const InitOptions& o) {
  if (o.dir.empty()) return InvalidArgumentError("no folder given (--dir)");
  const std::string config = o.dir + "/kms.toml";
  struct stat st;
  if (stat(config.c_str(), &st) == 0) {
    return AlreadyExistsError(o.dir + " is already initialized (" + config + " exists)");
  }
  for (const char* f : {"ca.key", "server.key", "root.key"}) {
    if (stat((o.dir + "/" + f).c_str(), &st) == 0) {
      return AlreadyExistsError(o.dir + "/" + f + " exists; refusing to overwrite key material");
    }
  }
  RETURN_IF_ERROR(MakeDirectory(o.dir, 0750));
  RETURN_IF_ERROR(MakeDirectory(o.dir + "/clients", 0750));

  InitResult result;
  ASSIGN_OR_RETURN(CertificateAuthority ca,
                   CertificateAuthority::Create(o.name + " CA", o.validity_days * 4));
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/ca.crt", AsBytes(ca.cert_pem()), 0644));
  ASSIGN_OR_RETURN(SecretBytes ca_key, ca.key_pem());
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/ca.key", ca_key.span(), 0600));
  result.files = {"ca.crt", "ca.key"};

  CertSpec server;
  server.common_name = o.name;
  server.server_auth = true;
  server.client_auth = true;  // vCenter-style trust uses both ways
  server.ip_addresses = {"127.0.0.1"};
  server.dns_names = {"localhost"};
  server.validity_days = o.validity_days;
  for (const std::string& san : o.sans) {
    AddSubjectAltName(server, san);
  }
  ASSIGN_OR_RETURN(IssuedCertificate server_cert, ca.Issue(server));
  RETURN_IF_ERROR(WritePair(o.dir, "server", server_cert, &result));

  RETURN_IF_ERROR(SoftwareRootKey::Generate(o.dir + "/root.key"));
  result.files.push_back("root.key");

  CertSpec admin;
  admin.common_name = "admin";
  admin.client_auth = true;
  admin.validity_days = o.validity_days;
  ASSIGN_OR_RETURN(IssuedCertificate admin_cert, ca.Issue(admin));
  RETURN_IF_ERROR(WritePair(o.dir, "clients/admin", admin_cert, &result));

  // Register the first client (tenant "default") in a new store.
  ASSIGN_OR_RETURN(auto store, store::OpenSqliteStore(o.dir + "/kms.db"));
  ASSIGN_OR_RETURN(CertificateInfo info, DescribeCertificate(admin_cert.cert_pem));
  store::ClientRecord admin_record{"admin",
                                   "default",
                                   info.subject,
                                   info.sha256_fingerprint,
                                   admin_cert.cert_pem,
                                   static_cast<int64_t>(time(nullptr))};
  RETURN_IF_ERROR(store->PutClient(admin_record));
  result.files.push_back("kms.db");

  RETURN_IF_ERROR(WriteFileAtomic(config, AsBytes(ConfigText(o)), 0640));
  result.files.push_back("kms.toml");
  return result;
}

}  // namespace vmcrypt::kms
