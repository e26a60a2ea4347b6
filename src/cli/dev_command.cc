// `vmcrypt dev --dir D`: every component in one process on loopback, with
// embedded defaults (docs/dev.md): the built-in KMS as the standard key
// provider "kms", a native key provider "native" (backed up to
// D/native-backup.p12), center, and one cluster "cluster1" with two hosts
// sharing the datastore D/datastore. State stays in D between runs; ports
// are picked afresh each run and written to D/env with a new admin token.
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "src/cli/commands.h"
#include "src/cli/log.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"
#include "vmcrypt/base/process_guard.h"
#include "vmcrypt/center/api_server.h"
#include "vmcrypt/center/center.h"
#include "vmcrypt/center/config.h"
#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/api_server.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/kms/config.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::cli {
namespace {

constexpr const char* kBackupPassword = "vmcrypt-dev-backup";

struct DevOptions {
  std::string dir = "vmcrypt-dev";
  std::string listen = "127.0.0.1:0";
  int hosts = 2;
};

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

struct Kms {
  std::unique_ptr<store::ObjectStore> store;
  std::unique_ptr<kms::SoftwareRootKey> root_key;
  std::unique_ptr<kms::Engine> engine;
  std::unique_ptr<kms::KmsServer> server;
};

Result<Kms> StartKms(const std::string& dir) {
  ASSIGN_OR_RETURN(kms::KmsConfig config, kms::LoadKmsConfig(dir + "/kms.toml"));
  config.server.listen = "127.0.0.1:0";
  Kms k;
  ASSIGN_OR_RETURN(k.store, store::OpenSqliteStore(config.store_path));
  ASSIGN_OR_RETURN(k.root_key, kms::SoftwareRootKey::Load(config.root_key_file));
  kms::EngineOptions options;
  options.server_name = config.name;
  k.engine = std::make_unique<kms::Engine>(k.store.get(), k.root_key.get(), options);
  ASSIGN_OR_RETURN(
      k.server, kms::KmsServer::Start(config.server, k.engine.get(), k.store.get(), nullptr,
                                      [](const std::string& line) { cli::LogLine("kms", line); }));
  return k;
}

struct Host {
  std::string name;
  std::string fingerprint;
  std::unique_ptr<host::HostAgent> agent;
  std::unique_ptr<host::HostApiServer> server;
};

Result<Host> StartHost(const std::string& dir, const std::string& datastore) {
  ASSIGN_OR_RETURN(host::HostConfig config, host::LoadHostConfig(dir + "/host.toml"));
  config.listen = "127.0.0.1:0";
  config.data_dir = datastore;  // the hosts share one datastore, so VMs can move
  Host h;
  h.name = config.name;
  ASSIGN_OR_RETURN(std::string pem, ReadFileToString(config.cert_file));
  ASSIGN_OR_RETURN(kms::CertificateInfo info, kms::DescribeCertificate(pem));
  h.fingerprint = info.sha256_fingerprint;
  ASSIGN_OR_RETURN(h.agent, host::HostAgent::Create(config));
  std::string name = h.name;
  ASSIGN_OR_RETURN(h.server,
                   host::HostApiServer::Start(h.agent.get(), [name](const std::string& l) {
                     cli::LogLine(name.c_str(), l);
                   }));
  return h;
}

// The first run lays out every component's folder.
Status InitLayout(const std::string& d, int hosts) {
  center::CenterInitOptions c;
  c.dir = d + "/center";
  c.name = "dev-center";
  ASSIGN_OR_RETURN(center::CenterInitResult init, center::InitCenterDirectory(c));
  kms::InitOptions k;
  k.dir = d + "/kms";
  k.name = "dev-kms";
  RETURN_IF_ERROR(kms::InitKmsDirectory(k).status());
  for (int i = 1; i <= hosts; ++i) {
    host::HostInitOptions h;
    h.dir = d + "/host" + std::to_string(i);
    h.name = "host" + std::to_string(i);
    h.trusted_fingerprints = {init.client_fingerprint};
    RETURN_IF_ERROR(host::InitHostDirectory(h).status());
  }
  std::filesystem::create_directories(d + "/datastore");
  ::chmod((d + "/datastore").c_str(), 0700);
  return OkStatus();
}

// Brings the inventory up to date with this run's ports: the cluster, the
// hosts, the standard provider (built-in KMS, trusted both ways) and the
// native provider (backed up), on the first run; new addresses later.
Status Bootstrap(center::Center& c, const center::Principal& admin, const std::string& d,
                 uint16_t kms_port, Kms& kms, const std::vector<Host>& hosts) {
  using center::Json;
  center::CenterStore& store = c.store();
  if (!store.Get("clusters", "cluster1").ok()) {
    RETURN_IF_ERROR(c.AddCluster(admin, {{"name", "cluster1"}}).status());
  }
  for (const Host& h : hosts) {
    std::string address = "127.0.0.1:" + std::to_string(h.server->port());
    if (store.Get("hosts", h.name).ok()) {
      RETURN_IF_ERROR(store
                          .Update("hosts", h.name,
                                  [&](Json& doc) {
                                    doc["address"] = address;
                                    return OkStatus();
                                  })
                          .status());
    } else {
      RETURN_IF_ERROR(c.AddHost(admin, {{"name", h.name},
                                        {"address", address},
                                        {"fingerprint", h.fingerprint},
                                        {"cluster", "cluster1"}})
                          .status());
    }
  }
  std::string kms_address = "127.0.0.1:" + std::to_string(kms_port);
  if (store.Get("providers", "kms").ok()) {
    RETURN_IF_ERROR(store
                        .Update("providers", "kms",
                                [&](Json& doc) {
                                  doc["servers"][0]["address"] = kms_address;
                                  return OkStatus();
                                })
                        .status());
  } else {
    RETURN_IF_ERROR(
        c.AddProvider(admin, {{"name", "kms"}, {"type", "standard"}, {"servers", {kms_address}}})
            .status());
    // vCenter's trust set-up: pin the KMS certificate; make a self-signed
    // client certificate and upload it to the KMS.
    RETURN_IF_ERROR(
        c.TrustProvider(admin, "kms", {{"action", "fetch-server-certificates"}}).status());
    ASSIGN_OR_RETURN(Json self, c.TrustProvider(admin, "kms", {{"action", "self-signed"}}));
    std::string pem = self["certificate"].get<std::string>();
    ASSIGN_OR_RETURN(kms::CertificateInfo info, kms::DescribeCertificate(pem));
    RETURN_IF_ERROR(
        kms.store->PutClient({"dev-center", "default", info.subject, info.sha256_fingerprint, pem,
                              static_cast<int64_t>(std::time(nullptr))}));
    RETURN_IF_ERROR(c.SetDefaultProvider(admin, "kms", Json::object()).status());
  }
  if (!store.Get("providers", "native").ok()) {
    RETURN_IF_ERROR(c.AddProvider(admin, {{"name", "native"}, {"type", "native"}}).status());
    ASSIGN_OR_RETURN(Json exported,
                     c.ExportProvider(admin, "native", {{"password", kBackupPassword}}));
    ASSIGN_OR_RETURN(std::vector<uint8_t> p12, Base64Decode(exported["pkcs12"].get<std::string>()));
    RETURN_IF_ERROR(WriteFileAtomic(d + "/native-backup.p12", p12, 0600, /*overwrite=*/true));
  }
  return OkStatus();
}

int RunDev(const DevOptions& o) {
  BlockStopSignals();  // before any thread starts
  auto fail = [](const std::string& m) { return FailCommand("dev", m); };
  // Key material lives in this process: no core dumps, no ptrace, no swap.
  if (Status s = DisableCoreDumps(); !s.ok()) return fail(s.message());
  LogLine("dev", LockProcessMemory().message);
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) return fail("cannot create " + o.dir + ": " + ec.message());
  const std::string d = std::filesystem::canonical(o.dir).string();
  if (!Exists(d + "/center/center.toml")) {
    LogLine("dev", "first run: laying out " + d);
    if (Status s = InitLayout(d, o.hosts); !s.ok()) return fail(s.message());
  }
  auto kms = StartKms(d + "/kms");
  if (!kms.ok()) return fail("key server: " + kms.status().message());
  std::vector<Host> hosts;
  for (int i = 1; i <= o.hosts; ++i) {
    auto h = StartHost(d + "/host" + std::to_string(i), d + "/datastore");
    if (!h.ok()) return fail("host" + std::to_string(i) + ": " + h.status().message());
    hosts.push_back(std::move(*h));
  }
  auto config = center::LoadCenterConfig(d + "/center/center.toml");
  if (!config.ok()) return fail(config.status().message());
  config->listen = o.listen;
  auto c = center::Center::Open(*config, [](const std::string& l) { LogLine("center", l); });
  if (!c.ok()) return fail(c.status().message());
  auto token = (*c)->auth().IssueToken("admin");
  if (!token.ok()) return fail(token.status().message());
  auto admin = (*c)->auth().Authenticate(*token);
  if (!admin.ok()) return fail(admin.status().message());
  if (Status s = Bootstrap(**c, *admin, d, kms->server->port(), *kms, hosts); !s.ok()) {
    return fail("set-up: " + s.message());
  }
  auto api =
      center::CenterApiServer::Start(c->get(), [](const std::string& l) { LogLine("center", l); });
  if (!api.ok()) return fail(api.status().message());

  std::string endpoint = "https://127.0.0.1:" + std::to_string((*api)->port());
  std::string env = "VMCRYPT_CENTER=" + endpoint + "\nVMCRYPT_TOKEN=" + *token +
                    "\nVMCRYPT_CA=" + d + "/center/ca.crt\n";
  if (Status s = WriteFileAtomic(d + "/env", AsBytes(env), 0600, /*overwrite=*/true); !s.ok()) {
    return fail(s.message());
  }
  std::printf("vmcrypt dev is running (state in %s)\n", d.c_str());
  std::printf("  center      %s  (CA %s/center/ca.crt)\n", endpoint.c_str(), d.c_str());
  std::printf("  key server  127.0.0.1:%u  (provider \"kms\", the default)\n", kms->server->port());
  for (const Host& h : hosts) {
    std::printf("  %-10s  https://127.0.0.1:%u  (cluster1, datastore %s/datastore)\n",
                h.name.c_str(), h.server->port(), d.c_str());
  }
  std::printf("  native key provider \"native\", backed up to %s/native-backup.p12 (password %s)\n",
              d.c_str(), kBackupPassword);
  std::printf("  admin token written to %s/env; use it with:  set -a; . %s/env; set +a\n",
              d.c_str(), d.c_str());
  std::fflush(stdout);

  LogLine("dev", std::string(WaitForStopSignal()) + ": stopping");
  (*api)->Shutdown();
  c->reset();
  for (Host& h : hosts) h.server->Shutdown();
  hosts.clear();
  kms->server->Shutdown();
  return 0;
}

}  // namespace

void AddDevCommand(CLI::App& app, Action* action) {
  auto o = std::make_shared<DevOptions>();
  CLI::App* dev = app.add_subcommand(
      "dev", "every component in one process on loopback (KMS, center, two hosts)");
  dev->add_option("--dir", o->dir, "state folder (default ./vmcrypt-dev)");
  dev->add_option("--listen", o->listen, "center's API address (default 127.0.0.1:0)");
  dev->add_option("--hosts", o->hosts, "number of hosts (default 2)")->check(CLI::Range(1, 16));
  dev->callback([action, o] { *action = [o] { return RunDev(*o); }; });
}

}  // namespace vmcrypt::cli
