#include "vmcrypt/host/config.h"

#include <sys/stat.h>

#include <toml++/toml.h>

#include <cctype>
#include <filesystem>

#include "src/common/toml_file.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/kms/pki.h"

namespace vmcrypt::host {
namespace {

// "AB:CD:..." (32 upper-case hex pairs) from `fp` in either case, or an
// error naming it.
Result<std::string> NormalizeFingerprint(const std::string& fp) {
  std::string out;
  bool ok = fp.size() == 32 * 3 - 1;
  for (size_t i = 0; ok && i < fp.size(); ++i) {
    const char c = fp[i];
    if (i % 3 == 2) {
      ok = c == ':';
    } else {
      ok = std::isxdigit(static_cast<unsigned char>(c)) != 0;
    }
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (!ok) {
    return InvalidArgumentError("\"" + fp +
                                "\" is not a SHA-256 certificate fingerprint (32 hex pairs joined "
                                "by colons, \"AB:CD:...\")");
  }
  return out;
}

std::string ConfigText(const HostInitOptions& o, const std::vector<std::string>& fingerprints) {
  std::string fps;
  for (const std::string& fp : fingerprints) {
    fps += (fps.empty() ? "\"" : ", \"") + fp + "\"";
  }
  return "# vmcrypt host agent configuration (docs/host.md).\n"
         "[host]\n"
         "name = \"" +
         o.name +
         "\"\n"
         "# The control-plane API (HTTPS with client certificates).\n"
         "listen = \"127.0.0.1:8443\"\n"
         "certificate = \"host.crt\"\n"
         "private_key = \"host.key\"\n"
         "# Control-plane clients: a certificate issued by this CA...\n"
         "client_ca = \"ca.crt\"\n"
         "# ...or one of these SHA-256 fingerprints (\"AB:CD:...\").\n"
         "trusted_fingerprints = [" +
         fps +
         "]\n"
         "# VM home directories, and the NBD sockets of open VMs.\n"
         "data_dir = \"data\"\n"
         "run_dir = \"run\"\n"
         "# The agent's state: the host key reference (ids only) and support bundles.\n"
         "state_dir = \"state\"\n"
         "# Keys held in locked memory at most.\n"
         "key_cache_size = 4096\n"
         "# The host's TPM, e.g. \"/dev/tpmrm0\" (empty: none). Native key providers\n"
         "# that require a TPM are refused without one.\n"
         "tpm_device = \"\"\n";
}

}  // namespace

Result<HostConfig> LoadHostConfig(const std::string& path) {
  ASSIGN_OR_RETURN(toml::table t, vmcrypt::internal::ParseTomlFile(path));
  // Paths in the file are relative to its folder; made absolute, because
  // they end up in NBD URIs handed to other processes.
  const std::string dir = std::filesystem::absolute(path).parent_path().string();
  HostConfig c;
  auto str = [&](const char* key, std::string def) {
    return t["host"][key].value_or(std::move(def));
  };
  c.name = str("name", c.name);
  c.listen = str("listen", c.listen);
  c.cert_file = ResolvePath(dir, str("certificate", "host.crt"));
  c.key_file = ResolvePath(dir, str("private_key", "host.key"));
  c.client_ca_file = ResolvePath(dir, str("client_ca", ""));
  if (const toml::array* fps = t["host"]["trusted_fingerprints"].as_array()) {
    for (const auto& fp : *fps) {
      if (!fp.is_string()) return InvalidArgumentError(path + ": trusted_fingerprints: strings");
      c.trusted_fingerprints.push_back(*fp.value<std::string>());
    }
  }
  if (c.client_ca_file.empty() && c.trusted_fingerprints.empty()) {
    return InvalidArgumentError(path +
                                ": set host.client_ca or host.trusted_fingerprints (who may "
                                "control this host)");
  }
  c.data_dir = ResolvePath(dir, str("data_dir", "data"));
  c.run_dir = ResolvePath(dir, str("run_dir", "run"));
  c.state_dir = ResolvePath(dir, str("state_dir", "state"));
  const int64_t cache = t["host"]["key_cache_size"].value_or(int64_t{4096});
  if (cache < 1 || cache > 1000000) {
    return InvalidArgumentError(path + ": host.key_cache_size must be 1 - 1000000");
  }
  c.key_cache_size = static_cast<size_t>(cache);
  c.tpm_device = ResolvePath(dir, str("tpm_device", ""));
  return c;
}

Result<std::vector<std::string>> InitHostDirectory(const HostInitOptions& o) {
  if (o.dir.empty()) return InvalidArgumentError("no folder given (--dir)");
  std::vector<std::string> fingerprints;
  for (const std::string& fp : o.trusted_fingerprints) {
    ASSIGN_OR_RETURN(std::string normal, NormalizeFingerprint(fp));
    fingerprints.push_back(std::move(normal));
  }
  struct stat st;
  for (const char* f : {"host.toml", "ca.key", "host.key"}) {
    if (stat((o.dir + "/" + f).c_str(), &st) == 0) {
      return AlreadyExistsError(o.dir + "/" + f + " exists; refusing to overwrite it");
    }
  }
  RETURN_IF_ERROR(MakeDirectory(o.dir, 0750));
  RETURN_IF_ERROR(MakeDirectory(o.dir + "/clients", 0750));
  RETURN_IF_ERROR(MakeDirectory(o.dir + "/data", 0700));
  RETURN_IF_ERROR(MakeDirectory(o.dir + "/run", 0700));
  RETURN_IF_ERROR(MakeDirectory(o.dir + "/state", 0700));
  std::vector<std::string> files;
  auto write_pair = [&](const std::string& base, const kms::IssuedCertificate& c) -> Status {
    RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/" + base + ".crt", AsBytes(c.cert_pem), 0644));
    RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/" + base + ".key", c.key_pem.span(), 0600));
    files.push_back(base + ".crt");
    files.push_back(base + ".key");
    return OkStatus();
  };
  ASSIGN_OR_RETURN(kms::CertificateAuthority ca,
                   kms::CertificateAuthority::Create(o.name + " control-plane CA", 3300));
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/ca.crt", AsBytes(ca.cert_pem()), 0644));
  ASSIGN_OR_RETURN(SecretBytes ca_key, ca.key_pem());
  RETURN_IF_ERROR(WriteFileAtomic(o.dir + "/ca.key", ca_key.span(), 0600));
  files.push_back("ca.crt");
  files.push_back("ca.key");

  kms::CertSpec server;
  server.common_name = o.name;
  server.server_auth = true;
  server.ip_addresses = {"127.0.0.1"};
  server.dns_names = {"localhost"};
  for (const std::string& san : o.sans) {
    AddSubjectAltName(server, san);
  }
  ASSIGN_OR_RETURN(kms::IssuedCertificate host_cert, ca.Issue(server));
  RETURN_IF_ERROR(write_pair("host", host_cert));

  kms::CertSpec admin;
  admin.common_name = "admin";
  admin.client_auth = true;
  ASSIGN_OR_RETURN(kms::IssuedCertificate admin_cert, ca.Issue(admin));
  RETURN_IF_ERROR(write_pair("clients/admin", admin_cert));

  RETURN_IF_ERROR(
      WriteFileAtomic(o.dir + "/host.toml", AsBytes(ConfigText(o, fingerprints)), 0640));
  files.push_back("host.toml");
  return files;
}

}  // namespace vmcrypt::host
