// `vmcrypt center init|serve`: the control plane (docs/center.md).
#include <cstdio>
#include <memory>
#include <string>

#include "src/cli/commands.h"
#include "src/cli/log.h"
#include "vmcrypt/base/process_guard.h"
#include "vmcrypt/center/api_server.h"
#include "vmcrypt/center/center.h"
#include "vmcrypt/center/config.h"

namespace vmcrypt::cli {
namespace {

int Fail(const char* command, const std::string& message) {
  return FailCommand(std::string("center ") + command, message);
}

void LogLine(const std::string& line) { cli::LogLine("center", line); }

int RunInit(const center::CenterInitOptions& o) {
  auto result = center::InitCenterDirectory(o);
  if (!result.ok()) return Fail("init", result.status().message());
  std::printf("initialized %s:\n", o.dir.c_str());
  for (const std::string& f : result->files) std::printf("  %s\n", f.c_str());
  std::printf("\nuser %s (role Admin), API token (shown once, keep it secret):\n  %s\n",
              o.admin_user.c_str(), result->admin_token.c_str());
  std::printf(
      "\nhosts must trust center's client certificate:\n"
      "  vmcrypt host init --dir HOSTDIR --trust-fingerprint %s\n",
      result->client_fingerprint.c_str());
  std::printf("serve with: vmcrypt center serve --config %s/center.toml\n", o.dir.c_str());
  return 0;
}

struct ServeOptions {
  std::string config;
  std::string listen;
};

int RunServe(const ServeOptions& o) {
  BlockStopSignals();  // before any thread starts
  auto config = center::LoadCenterConfig(o.config);
  if (!config.ok()) return Fail("serve", config.status().message());
  if (!o.listen.empty()) config->listen = o.listen;
  // Key material lives in this process: no core dumps, no ptrace, no swap.
  if (Status s = DisableCoreDumps(); !s.ok()) return Fail("serve", s.message());
  LogLine(LockProcessMemory().message);
  auto c = center::Center::Open(*config, LogLine);
  if (!c.ok()) return Fail("serve", c.status().message());
  auto server = center::CenterApiServer::Start(c->get(), LogLine);
  if (!server.ok()) return Fail("serve", server.status().message());
  LogLine("center client certificate sha256 " + (*c)->client_fingerprint());
  LogLine(std::string(WaitForStopSignal()) + ": stopping after the tasks in progress");
  (*server)->Shutdown();
  c->reset();
  return 0;
}

}  // namespace

void AddCenterCommands(CLI::App& app, Action* action) {
  CLI::App* center = app.add_subcommand("center", "the control plane (REST API, key providers)");
  center->require_subcommand(1);

  auto init = std::make_shared<center::CenterInitOptions>();
  CLI::App* in = center->add_subcommand("init", "create a ready center folder and an admin user");
  in->add_option("--dir", init->dir, "folder to create")->required();
  in->add_option("--name", init->name, "center name (certificate common name)");
  in->add_option("--san", init->sans, "extra DNS name or IP address for the API certificate");
  in->add_option("--admin", init->admin_user, "name of the first user (role Admin)");
  in->callback([action, init] { *action = [init] { return RunInit(*init); }; });

  auto serve = std::make_shared<ServeOptions>();
  CLI::App* sv = center->add_subcommand("serve", "serve the REST API over HTTPS");
  sv->add_option("--config", serve->config, "center.toml")->required();
  sv->add_option("--listen", serve->listen, "HOST:PORT, overriding the config (port 0: any)");
  sv->callback([action, serve] { *action = [serve] { return RunServe(*serve); }; });
}

}  // namespace vmcrypt::cli
