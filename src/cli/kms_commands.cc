// `vmcrypt kms ...`: the key server's commands.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "src/cli/commands.h"
#include "src/cli/log.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/base/process_guard.h"
#include "vmcrypt/kms/audit.h"
#include "vmcrypt/kms/config.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::cli {
namespace {

int Fail(const char* command, const std::string& message) {
  return FailCommand(std::string("kms ") + command, message);
}

void LogLine(const std::string& line) { cli::LogLine("kms", line); }

int RunInit(const kms::InitOptions& o) {
  auto r = kms::InitKmsDirectory(o);
  if (!r.ok()) return Fail("init", r.status().message());
  std::cout << "Initialized " << o.dir << ":\n";
  for (const std::string& f : r->files) std::cout << "  " << o.dir << "/" << f << "\n";
  std::cout << "Keys (*.key, root.key) are mode 0600: keep them secret and back them up.\n"
               "Start the server:  vmcrypt kms serve --config "
            << o.dir << "/kms.toml\n"
            << "First client:      " << o.dir << "/clients/admin.crt, " << o.dir
            << "/clients/admin.key, trusting " << o.dir << "/ca.crt\n";
  return 0;
}

struct ServeOptions {
  std::string config;
  std::string listen;
};

int RunServe(const ServeOptions& o) {
  BlockStopSignals();  // before any thread starts
  auto config = kms::LoadKmsConfig(o.config);
  if (!config.ok()) return Fail("serve", config.status().message());
  if (!o.listen.empty()) config->server.listen = o.listen;
  // Key material lives in this process: no core dumps, no ptrace, no swap.
  if (Status s = DisableCoreDumps(); !s.ok()) return Fail("serve", s.message());
  LogLine(LockProcessMemory().message);
  auto store = store::OpenSqliteStore(config->store_path);
  if (!store.ok()) return Fail("serve", store.status().message());
  auto root_key = kms::SoftwareRootKey::Load(config->root_key_file);
  if (!root_key.ok()) return Fail("serve", root_key.status().message());
  std::unique_ptr<kms::AuditLog> audit;
  if (!config->audit_file.empty()) {
    auto a = kms::AuditLog::Open(config->audit_file);
    if (!a.ok()) return Fail("serve", a.status().message());
    audit = std::move(*a);
  }
  kms::EngineOptions engine_options;
  engine_options.server_name = config->name;
  kms::Engine engine(store->get(), root_key->get(), engine_options);

  auto server = kms::KmsServer::Start(config->server, &engine, store->get(), audit.get(), LogLine);
  if (!server.ok()) return Fail("serve", server.status().message());
  LogLine("serving " + config->name + " with " + (*root_key)->Describe() + ", store " +
          config->store_path);
  LogLine(std::string(WaitForStopSignal()) + ": finishing in-flight requests");
  (*server)->Shutdown();
  return 0;
}

struct ClientOptions {
  std::string config;
  std::string name;
  std::string tenant = "default";
  std::string cert;
  std::string csr;
  std::string out;
};

int RunClientAdd(const ClientOptions& o) {
  auto config = kms::LoadKmsConfig(o.config);
  if (!config.ok()) return Fail("client add", config.status().message());
  if (o.cert.empty() == o.csr.empty()) {
    return Fail("client add",
                "give --cert PEM (trust a certificate) or --csr CSR --out CRT (sign one)");
  }
  std::string cert_pem;
  if (!o.cert.empty()) {
    auto text = ReadFileToString(o.cert);
    if (!text.ok()) return Fail("client add", text.status().message());
    cert_pem = *text;
  } else {
    if (o.out.empty()) return Fail("client add", "--csr needs --out for the signed certificate");
    auto csr = ReadFileToString(o.csr);
    auto ca_cert = ReadFileToString(config->ca_cert_file);
    auto ca_key = ReadSecretFile(config->ca_key_file);
    if (!csr.ok()) return Fail("client add", csr.status().message());
    if (!ca_cert.ok()) return Fail("client add", ca_cert.status().message());
    if (!ca_key.ok()) return Fail("client add", ca_key.status().message());
    auto ca = kms::CertificateAuthority::Load(*ca_cert, *ca_key);
    if (!ca.ok()) return Fail("client add", ca.status().message());
    kms::CertSpec spec;
    spec.client_auth = true;
    spec.server_auth = true;  // vCenter uses one certificate both ways
    auto signed_pem = ca->SignCsr(*csr, spec);
    if (!signed_pem.ok()) return Fail("client add", signed_pem.status().message());
    Status w = WriteFileAtomic(o.out, AsBytes(*signed_pem), 0644, /*overwrite=*/true);
    if (!w.ok()) return Fail("client add", w.message());
    cert_pem = *signed_pem;
  }
  auto info = kms::DescribeCertificate(cert_pem);
  if (!info.ok()) return Fail("client add", info.status().message());
  auto store = store::OpenSqliteStore(config->store_path);
  if (!store.ok()) return Fail("client add", store.status().message());
  store::ClientRecord rec{o.name,        o.tenant,
                          info->subject, info->sha256_fingerprint,
                          cert_pem,      static_cast<int64_t>(std::time(nullptr))};
  Status s = (*store)->PutClient(rec);
  if (!s.ok()) return Fail("client add", s.message());
  std::cout << "added client " << o.name << " (tenant " << o.tenant << ")\n  subject "
            << info->subject << "\n  sha256 " << info->sha256_fingerprint << "\n";
  if (!o.out.empty()) std::cout << "  signed certificate written to " << o.out << "\n";
  return 0;
}

int RunClientList(const ClientOptions& o) {
  auto config = kms::LoadKmsConfig(o.config);
  if (!config.ok()) return Fail("client list", config.status().message());
  auto store = store::OpenSqliteStore(config->store_path);
  if (!store.ok()) return Fail("client list", store.status().message());
  auto clients = (*store)->ListClients();
  if (!clients.ok()) return Fail("client list", clients.status().message());
  std::printf("%-16s %-12s %-40s %s\n", "NAME", "TENANT", "SUBJECT", "SHA-256");
  for (const auto& c : *clients) {
    std::printf("%-16s %-12s %-40s %s\n", c.name.c_str(), c.tenant.c_str(), c.subject.c_str(),
                c.sha256_fingerprint.c_str());
  }
  return 0;
}

int RunClientRemove(const ClientOptions& o) {
  auto config = kms::LoadKmsConfig(o.config);
  if (!config.ok()) return Fail("client remove", config.status().message());
  auto store = store::OpenSqliteStore(config->store_path);
  if (!store.ok()) return Fail("client remove", store.status().message());
  Status s = (*store)->RemoveClient(o.name);
  if (!s.ok()) return Fail("client remove", s.message());
  std::cout << "removed client " << o.name << "\n";
  return 0;
}

}  // namespace

void AddKmsCommands(CLI::App& app, Action* action) {
  CLI::App* kms = app.add_subcommand("kms", "the KMIP key server");
  kms->require_subcommand(1);

  auto init = std::make_shared<kms::InitOptions>();
  CLI::App* in = kms->add_subcommand("init", "create a ready key server folder");
  in->add_option("--dir", init->dir, "folder to create")->required();
  in->add_option("--name", init->name, "server name (certificate common name)");
  in->add_option("--san", init->sans, "extra DNS name or IP address for the server certificate");
  in->callback([action, init] { *action = [init] { return RunInit(*init); }; });

  auto serve = std::make_shared<ServeOptions>();
  CLI::App* sv = kms->add_subcommand("serve", "serve KMIP over TLS");
  sv->add_option("--config", serve->config, "kms.toml")->required();
  sv->add_option("--listen", serve->listen, "HOST:PORT, overriding the config (port 0: any)");
  sv->callback([action, serve] { *action = [serve] { return RunServe(*serve); }; });

  CLI::App* client = kms->add_subcommand("client", "manage the clients allowed to connect");
  client->require_subcommand(1);
  auto co = std::make_shared<ClientOptions>();
  CLI::App* add =
      client->add_subcommand("add", "allow a client (trust its certificate or sign its CSR)");
  add->add_option("--config", co->config, "kms.toml")->required();
  add->add_option("--name", co->name, "client name")->required();
  add->add_option("--tenant", co->tenant, "tenant whose objects it sees");
  add->add_option("--cert", co->cert,
                  "the client's certificate (PEM), e.g. vCenter's self-signed one");
  add->add_option("--csr", co->csr, "a certificate request (PEM) to sign with the KMS CA");
  add->add_option("--out", co->out, "where to write the signed certificate");
  add->callback([action, co] { *action = [co] { return RunClientAdd(*co); }; });
  CLI::App* list = client->add_subcommand("list", "list the clients");
  list->add_option("--config", co->config, "kms.toml")->required();
  list->callback([action, co] { *action = [co] { return RunClientList(*co); }; });
  CLI::App* rm = client->add_subcommand("remove", "revoke a client's access");
  rm->add_option("--config", co->config, "kms.toml")->required();
  rm->add_option("--name", co->name, "client name")->required();
  rm->callback([action, co] { *action = [co] { return RunClientRemove(*co); }; });
}

}  // namespace vmcrypt::cli
