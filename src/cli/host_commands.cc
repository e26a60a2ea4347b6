// `vmcrypt host init|serve`: the host agent (docs/host.md).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "src/cli/commands.h"
#include "src/cli/log.h"
#include "vmcrypt/base/process_guard.h"
#include "vmcrypt/host/agent.h"
#include "vmcrypt/host/api_server.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/host/kek_cache.h"

namespace vmcrypt::cli {
namespace {

int Fail(const char* command, const std::string& message) {
  return FailCommand(std::string("host ") + command, message);
}

void LogLine(const std::string& line) { cli::LogLine("host", line); }

int RunInit(const host::HostInitOptions& o) {
  auto files = host::InitHostDirectory(o);
  if (!files.ok()) return Fail("init", files.status().message());
  std::printf("initialized %s:\n", o.dir.c_str());
  for (const std::string& f : *files) std::printf("  %s\n", f.c_str());
  std::printf("serve with: vmcrypt host serve --config %s/host.toml\n", o.dir.c_str());
  return 0;
}

struct ServeOptions {
  std::string config;
  std::string listen;
};

int RunServe(const ServeOptions& o) {
  BlockStopSignals();  // before any thread starts
  auto config = host::LoadHostConfig(o.config);
  if (!config.ok()) return Fail("serve", config.status().message());
  if (!o.listen.empty()) config->listen = o.listen;
  // Key material lives in this process: no core dumps, no ptrace, no swap.
  if (Status s = DisableCoreDumps(); !s.ok()) return Fail("serve", s.message());
  LogLine(LockProcessMemory().message);
  auto agent = host::HostAgent::Create(*config);
  if (!agent.ok()) return Fail("serve", agent.status().message());

  auto server = host::HostApiServer::Start(agent->get(), LogLine);
  if (!server.ok()) return Fail("serve", server.status().message());
  LogLine(std::string(WaitForStopSignal()) + ": stopping; the keys held in memory are wiped");
  (*server)->Shutdown();
  return 0;
}

}  // namespace

void AddHostCommands(CLI::App& app, Action* action) {
  CLI::App* host = app.add_subcommand("host", "the host agent (keys in memory, encrypted VMs)");
  host->require_subcommand(1);

  auto init = std::make_shared<host::HostInitOptions>();
  CLI::App* in = host->add_subcommand("init", "create a ready host agent folder");
  in->add_option("--dir", init->dir, "folder to create")->required();
  in->add_option("--name", init->name, "host name (certificate common name)");
  in->add_option("--san", init->sans, "extra DNS name or IP address for the host certificate");
  in->add_option("--trust-fingerprint", init->trusted_fingerprints,
                 "SHA-256 fingerprint (AB:CD:...) of a control-plane client certificate to "
                 "trust (repeatable)");
  in->callback([action, init] { *action = [init] { return RunInit(*init); }; });

  auto serve = std::make_shared<ServeOptions>();
  CLI::App* sv = host->add_subcommand("serve", "serve the control-plane API over HTTPS");
  sv->add_option("--config", serve->config, "host.toml")->required();
  sv->add_option("--listen", serve->listen, "HOST:PORT, overriding the config (port 0: any)");
  sv->callback([action, serve] { *action = [serve] { return RunServe(*serve); }; });
}

}  // namespace vmcrypt::cli
