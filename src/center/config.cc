#include "vmcrypt/center/config.h"

#include <sys/stat.h>

#include <toml++/toml.h>

#include <filesystem>

#include "src/common/toml_file.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/center/host_client.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"

namespace vmcrypt::center {
namespace {

std::string ConfigText(const CenterInitOptions& o) {
  return "# vmcrypt center configuration (docs/center.md).\n"
         "[center]\n"
         "name = \"" +
         o.name +
         "\"\n"
         "# The REST API (HTTPS, bearer tokens).\n"
         "listen = \"127.0.0.1:8440\"\n"
         "certificate = \"center.crt\"\n"
         "private_key = \"center.key\"\n"
         "ca = \"ca.crt\"\n"
         "# Center's identity toward hosts and key servers.\n"
         "client_certificate = \"client.crt\"\n"
         "client_private_key = \"client.key\"\n"
         "# Seals native key providers' KDKs.\n"
         "root_key = \"root.key\"\n"
         "state_dir = \"state\"\n"
         "task_threads = 4\n"
         "# Seconds.\n"
         "host_timeout = 30\n"
         "kms_timeout = 5\n";
}

}  // namespace

Result<CenterConfig> LoadCenterConfig(const std::string& path) {
  ASSIGN_OR_RETURN(toml::table t, vmcrypt::internal::ParseTomlFile(path));
  const std::string dir = std::filesystem::absolute(path).parent_path().string();
  CenterConfig c;
  auto str = [&](const char* key, std::string def) {
    return t["center"][key].value_or(std::move(def));
  };
  c.name = str("name", c.name);
  c.listen = str("listen", c.listen);
  c.cert_file = ResolvePath(dir, str("certificate", "center.crt"));
  c.key_file = ResolvePath(dir, str("private_key", "center.key"));
  c.ca_file = ResolvePath(dir, str("ca", "ca.crt"));
  c.client_cert_file = ResolvePath(dir, str("client_certificate", "client.crt"));
  c.client_key_file = ResolvePath(dir, str("client_private_key", "client.key"));
  c.root_key_file = ResolvePath(dir, str("root_key", "root.key"));
  c.state_dir = ResolvePath(dir, str("state_dir", "state"));
  int64_t threads = t["center"]["task_threads"].value_or(int64_t{4});
  if (threads < 1 || threads > 256) {
    return InvalidArgumentError(path + ": center.task_threads must be 1 - 256");
  }
  c.task_threads = static_cast<int>(threads);
  int64_t host_timeout = t["center"]["host_timeout"].value_or(int64_t{30});
  int64_t kms_timeout = t["center"]["kms_timeout"].value_or(int64_t{5});
  if (host_timeout < 1 || kms_timeout < 1) {
    return InvalidArgumentError(path + ": timeouts are at least 1 second");
  }
  c.host_timeout = std::chrono::seconds(host_timeout);
  c.kms_timeout = std::chrono::seconds(kms_timeout);
  return c;
}

Result<CenterInitResult> InitCenterDirectory(const CenterInitOptions& o) {
  if (o.dir.empty()) return InvalidArgumentError("no folder given (--dir)");
  struct stat st;
  for (const char* f : {"center.toml", "ca.key", "center.key", "client.key", "root.key"}) {
    if (stat((o.dir + "/" + f).c_str(), &st) == 0) {
      return AlreadyExistsError(o.dir + "/" + f + " exists; refusing to overwrite it");
    }
  }
  RETURN_IF_ERROR(MakeDirectory(o.dir, 0750));
  RETURN_IF_ERROR(MakeDirectory(o.dir + "/state", 0700));
  CenterInitResult out;
  auto write_pair = [&](const std::string& base, const kms::IssuedCertificate& c) -> Status {
    RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/" + base + ".crt", AsBytes(c.cert_pem), 0644));
    RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/" + base + ".key", c.key_pem.span(), 0600));
    out.files.push_back(base + ".crt");
    out.files.push_back(base + ".key");
    return OkStatus();
  };
  ASSIGN_OR_RETURN(kms::CertificateAuthority ca,
                   kms::CertificateAuthority::Create(o.name + " CA", 3300));
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/ca.crt", AsBytes(ca.cert_pem()), 0644));
  ASSIGN_OR_RETURN(SecretBytes ca_key, ca.key_pem());
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/ca.key", ca_key.span(), 0600));
  out.files.push_back("ca.crt");
  out.files.push_back("ca.key");

  kms::CertSpec server;
  server.common_name = o.name;
  server.server_auth = true;
  server.ip_addresses = {"127.0.0.1"};
  server.dns_names = {"localhost"};
  for (const std::string& san : o.sans) {
    AddSubjectAltName(server, san);
  }
  ASSIGN_OR_RETURN(kms::IssuedCertificate api_cert, ca.Issue(server));
  RETURN_IF_ERROR(write_pair("center", api_cert));

  kms::CertSpec client;
  client.common_name = "vmcrypt-center-" + o.name;
  client.client_auth = true;
  ASSIGN_OR_RETURN(kms::IssuedCertificate client_cert, ca.Issue(client));
  RETURN_IF_ERROR(write_pair("client", client_cert));
  ASSIGN_OR_RETURN(out.client_fingerprint, CertificateFingerprint(client_cert.cert_pem));

  RETURN_IF_ERROR(kms::SoftwareRootKey::Generate(o.dir + "/root.key"));
  out.files.push_back("root.key");
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/center.toml", AsBytes(ConfigText(o)), 0640));
  out.files.push_back("center.toml");

  ASSIGN_OR_RETURN(std::unique_ptr<CenterStore> store,
                   OpenSqliteCenterStore(o.dir + "/state/center.db"));
  Authorizer auth(store.get());
  RETURN_IF_ERROR(auth.EnsureBuiltinRoles());
  ASSIGN_OR_RETURN(out.admin_token, auth.CreateUser(o.admin_user, std::string(kAdminRole)));
  return out;
}

}  // namespace vmcrypt::center
