// Options, registration, requests and failures shared by the client
// commands (see client_command.h).
#include "src/cli/client_command.h"

#include <cstdio>
#include <memory>
#include <string>

namespace vmcrypt::cli::client {
namespace {

constexpr int kUsageExit = 2;

}  // namespace

int Fail(const std::string& message) {
  std::fprintf(stderr, "vmcrypt: %s\n", message.c_str());
  return 1;
}
int Fail(const Status& s) { return Fail(s.message()); }
int Usage(const std::string& message) {
  std::fprintf(stderr, "vmcrypt: %s\n", message.c_str());
  return kUsageExit;
}

std::string Esc(const std::string& segment) { return CenterClient::Escape(segment); }

int WithClient(const Args& a, const std::function<int(CenterClient&)>& body) {
  auto client = CenterClient::Create(a.flags);
  if (!client.ok()) {
    return client.status().code() == StatusCode::kInvalidArgument ? Usage(client.status().message())
                                                                  : Fail(client.status());
  }
  return body(**client);
}

int Show(const Args& a, const Result<Json>& reply, const Printer& human) {
  if (!reply.ok()) return Fail(reply.status());
  if (a.json) {
    PrintJson(*reply);
  } else {
    human(*reply);
  }
  return 0;
}

int GetAndShow(const Args& a, const std::string& path, const Printer& human) {
  return WithClient(a, [&](CenterClient& c) { return Show(a, c.Get(path), human); });
}

int PostAndShow(const Args& a, const std::string& path, const Json& body, const Printer& human) {
  return WithClient(a, [&](CenterClient& c) { return Show(a, c.Post(path, body), human); });
}

int DeleteAndSay(const Args& a, const std::string& path, const std::string& what) {
  return WithClient(a, [&](CenterClient& c) {
    return Show(a, c.Delete(path), [&](const Json&) { std::printf("%s removed\n", what.c_str()); });
  });
}

Leaf Add(CLI::App* parent, const std::string& name, const std::string& help, Action* action,
         Run run, bool task) {
  auto a = std::make_shared<Args>();
  CLI::App* cmd = parent->add_subcommand(name, help);
  const char* kGroup = "Center connection";
  cmd->add_option("--center", a->flags.center, "center's API, https://HOST:PORT ($VMCRYPT_CENTER)")
      ->group(kGroup);
  cmd->add_option("--token", a->flags.token,
                  "API token ($VMCRYPT_TOKEN; the variable keeps it out of `ps`)")
      ->group(kGroup);
  cmd->add_option("--ca", a->flags.ca, "CA file that issued center's certificate ($VMCRYPT_CA)")
      ->group(kGroup);
  cmd->add_flag("--json", a->json, "print center's JSON document as is");
  if (task) cmd->add_flag("--no-wait", a->no_wait, "return once the task is queued");
  cmd->callback([action, a, run] { *action = [a, run] { return run(*a); }; });
  return {cmd, a.get()};
}

void AddName(const Leaf& l, const char* what) {
  l.cmd->add_option("name", l.args->name, what)->required();
}

CLI::App* Group(CLI::App& app, const std::string& name, const std::string& help) {
  auto found = app.get_subcommands([&](CLI::App* s) { return s->get_name() == name; });
  if (!found.empty()) return found.front();
  CLI::App* g = app.add_subcommand(name, help);
  g->require_subcommand(1);
  return g;
}

}  // namespace vmcrypt::cli::client
