// `vmcrypt provider ...`: key providers of center (docs/cli.md): list, show,
// add, remove, trust, default, export, restore.
//
// A private key imported with --import-key is sent to center, wiped from
// this process's buffers once sent, and never printed; nor is a password.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "src/cli/client_command.h"
#include "src/cli/client_output.h"
#include "src/cli/client_tasks.h"
#include "vmcrypt/base/encoding.h"

namespace vmcrypt::cli::client {
namespace {

const std::vector<Column> kProviderCols = {{"NAME", "name"},        {"TYPE", "type"},
                                           {"SERVERS", "servers"},  {"DEFAULT", "default"},
                                           {"TPM", "tpm_required"}, {"BACKED UP", "backed_up"},
                                           {"USABLE", "usable"}};

// Files the trust, export and restore commands read and write.

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes a new file (mode `mode`); with `exclusive`, an existing file is
// left alone and reported.
Status WriteFile(const std::string& path, std::string_view data, mode_t mode, bool exclusive) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError(path + " exists; not overwriting it");
    return InternalError("cannot create " + path + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return InternalError("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return InternalError("cannot write " + path);
  return OkStatus();
}

// --password P, or "-": one line from stdin (keeps it out of `ps`).
Result<std::string> Password(const std::string& flag) {
  std::string p = flag;
  if (flag == "-" && !std::getline(std::cin, p)) {
    return InvalidArgumentError("no password on stdin");
  }
  if (p.empty()) return InvalidArgumentError("the password must not be empty");
  return p;
}

int ProviderAdd(const Args& a) {
  if (a.native == !a.servers.empty()) {
    return Usage("provider add needs either --server HOST:PORT (repeatable) or --native");
  }
  if (a.tpm_required && !a.native) return Usage("--tpm-required goes with --native");
  Json body = {{"name", a.name}};
  if (a.native) {
    body["type"] = "native";
    body["tpm_required"] = a.tpm_required;
  } else {
    body["type"] = "standard";
    body["servers"] = a.servers;
  }
  return PostAndFollow(a, "/providers", body);
}

int ProviderTrust(const Args& a) {
  const int chosen = a.fetch + !a.server_ca.empty() + a.csr + !a.signed_cert.empty() +
                     a.self_signed + (!a.import_cert.empty() || !a.import_key.empty());
  if (chosen != 1) {
    return Usage(
        "provider trust needs exactly one of --fetch, --server-ca FILE, --csr, --signed-cert "
        "FILE, --self-signed, --import-cert FILE --import-key FILE");
  }
  if (!a.out.empty() && !a.csr && !a.self_signed) {
    return Usage("--out goes with --csr or --self-signed");
  }
  if (a.import_cert.empty() != a.import_key.empty()) {
    return Usage("--import-cert and --import-key go together");
  }
  Json body;
  const char* pem_field = nullptr;  // the PEM the reply carries, if any
  if (a.fetch) {
    body = {{"action", "fetch-server-certificates"}};
  } else if (!a.server_ca.empty()) {
    auto ca = ReadText(a.server_ca);
    if (!ca.ok()) return Fail(ca.status());
    body = {{"action", "server-ca"}, {"ca", *ca}};
  } else if (a.csr) {
    body = {{"action", "csr"}};
    pem_field = "csr";
  } else if (!a.signed_cert.empty()) {
    auto cert = ReadText(a.signed_cert);
    if (!cert.ok()) return Fail(cert.status());
    body = {{"action", "signed-certificate"}, {"certificate", *cert}};
  } else if (a.self_signed) {
    body = {{"action", "self-signed"}};
    pem_field = "certificate";
  } else {
    auto cert = ReadText(a.import_cert);
    if (!cert.ok()) return Fail(cert.status());
    auto key = ReadText(a.import_key);
    if (!key.ok()) return Fail(key.status());
    body = {{"action", "import"}, {"certificate", *cert}, {"key", *key}};
    OPENSSL_cleanse(key->data(), key->size());
  }
  const std::string path = "/providers/" + Esc(a.name) + "/trust";
  return WithClient(a, [&](CenterClient& c) {
    auto reply = c.Post(path, body);
    if (body.contains("key")) {
      std::string& key = body["key"].get_ref<std::string&>();
      OPENSSL_cleanse(key.data(), key.size());
    }
    if (!reply.ok()) return Fail(reply.status());
    const std::string pem =
        pem_field != nullptr && reply->contains(pem_field) ? Cell((*reply)[pem_field]) : "";
    if (pem_field != nullptr && !a.out.empty()) {
      if (pem.empty() || pem == "-")
        return Fail("center's reply holds no " + std::string(pem_field));
      if (Status s = WriteFile(a.out, pem, 0644, false); !s.ok()) return Fail(s);
    }
    if (a.json) {
      PrintJson(*reply);
    } else if (pem_field != nullptr && a.out.empty()) {
      std::printf("%s", pem.c_str());  // for the KMS to sign or to trust
    } else {
      std::printf("provider %s: %s done%s%s\n", a.name.c_str(), Cell(body["action"]).c_str(),
                  a.out.empty() ? "" : "; wrote ", a.out.c_str());
    }
    return 0;
  });
}

int ProviderExport(const Args& a) {
  if (a.out.empty()) return Usage("provider export needs --out FILE");
  auto password = Password(a.password);
  if (!password.ok()) return Usage(password.status().message());
  return WithClient(a, [&](CenterClient& c) {
    auto reply = c.Post("/providers/" + Esc(a.name) + "/export", {{"password", *password}});
    if (!reply.ok()) return Fail(reply.status());
    if (!reply->contains("pkcs12") || !(*reply)["pkcs12"].is_string()) {
      return Fail("center's reply holds no pkcs12");
    }
    auto der = Base64Decode((*reply)["pkcs12"].get<std::string>());
    if (!der.ok()) return Fail("center's pkcs12 is not base64: " + der.status().message());
    const std::string_view bytes(reinterpret_cast<const char*>(der->data()), der->size());
    if (Status s = WriteFile(a.out, bytes, 0600, true); !s.ok()) return Fail(s);
    if (a.json) {
      PrintJson({{"name", a.name}, {"file", a.out}, {"bytes", der->size()}});
    } else {
      std::printf("provider %s exported to %s (PKCS#12, %zu bytes, mode 0600): keep it safe\n",
                  a.name.c_str(), a.out.c_str(), der->size());
    }
    return 0;
  });
}

int ProviderRestore(const Args& a) {
  if (a.file.empty()) return Usage("provider restore needs --file FILE");
  auto password = Password(a.password);
  if (!password.ok()) return Usage(password.status().message());
  auto der = ReadText(a.file);
  if (!der.ok()) return Fail(der.status());
  const Json body = {{"pkcs12", Base64Encode(AsBytes(*der))}, {"password", *password}};
  return PostAndFollow(a, "/providers/restore", body);
}

}  // namespace

void AddProviderCommands(CLI::App& app, Action* action) {
  CLI::App* g = Group(app, "provider", "key providers of center (standard KMIP or native)");
  Add(g, "list", "list the key providers", action, [](const Args& a) {
    return GetAndShow(a, "/providers", ListPrinter("providers", kProviderCols));
  });
  AddName(Add(g, "show", "show a key provider", action,
              [](const Args& a) {
                return GetAndShow(a, "/providers/" + Esc(a.name),
                                  [](const Json& p) { PrintObject(p); });
              }),
          "provider name");

  Leaf add = Add(g, "add", "add a standard (--server ...) or native (--native) key provider",
                 action, ProviderAdd, true);
  AddName(add, "provider name");
  add.cmd->add_option("--server", add.args->servers,
                      "KMIP server HOST:PORT (repeatable, in order)");
  add.cmd->add_flag("--native", add.args->native, "a native key provider (keys derived on hosts)");
  add.cmd->add_flag("--tpm-required", add.args->tpm_required,
                    "native: only hosts with a TPM get the key derivation key");

  AddName(Add(g, "remove", "remove a key provider", action,
              [](const Args& a) {
                return WithClient(a, [&](CenterClient& c) {
                  return Show(a, c.Delete("/providers/" + Esc(a.name)), [&](const Json&) {
                    std::printf("provider %s removed\n", a.name.c_str());
                  });
                });
              }),
          "provider name");

  Leaf trust = Add(g, "trust", "set up trust between center and a standard provider's servers",
                   action, ProviderTrust);
  AddName(trust, "provider name");
  CLI::App* t = trust.cmd;
  Args* ta = trust.args;
  t->add_flag("--fetch", ta->fetch, "fetch and pin each server's certificate");
  t->add_option("--server-ca", ta->server_ca, "trust the servers' CA (PEM file)");
  t->add_flag("--csr", ta->csr, "make a client key and a CSR for the KMS to sign");
  t->add_option("--signed-cert", ta->signed_cert, "import the certificate the KMS signed (PEM)");
  t->add_flag("--self-signed", ta->self_signed,
              "make a self-signed client certificate to upload to the KMS");
  t->add_option("--import-cert", ta->import_cert, "client certificate the KMS issued (PEM)");
  t->add_option("--import-key", ta->import_key, "its private key (PEM)");
  t->add_option("--out", ta->out, "write the CSR or certificate here instead of stdout");

  Leaf def = Add(
      g, "default", "make a provider center's default, or a cluster's", action, [](const Args& a) {
        Json body = Json::object();
        if (!a.cluster.empty()) body["cluster"] = a.cluster;
        return PostAndShow(a, "/providers/" + Esc(a.name) + "/default", body, [&](const Json&) {
          std::printf("provider %s is now the default%s%s\n", a.name.c_str(),
                      a.cluster.empty() ? "" : " of cluster ", a.cluster.c_str());
        });
      });
  AddName(def, "provider name");
  def.cmd->add_option("--cluster", def.args->cluster, "only for this cluster");

  Leaf exp = Add(g, "export", "back up a native provider to a password-protected PKCS#12 file",
                 action, ProviderExport);
  AddName(exp, "provider name");
  exp.cmd->add_option("--password", exp.args->password, "PKCS#12 password (\"-\": read stdin)")
      ->required();
  exp.cmd->add_option("--out", exp.args->out, "file to write (must not exist)")->required();

  Leaf res = Add(g, "restore", "restore a native provider from its PKCS#12 backup", action,
                 ProviderRestore, true);
  res.cmd->add_option("--file", res.args->file, "the PKCS#12 file")->required();
  res.cmd->add_option("--password", res.args->password, "its password (\"-\": read stdin)")
      ->required();
}

}  // namespace vmcrypt::cli::client
