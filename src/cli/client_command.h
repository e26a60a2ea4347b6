// What every client command of center's REST API shares (docs/cli.md):
// the options it parses, how it registers with CLI11, how it reaches center
// and how it prints a reply and fails. Internal to the binary.
//
// Exit codes: 0 ok, 1 error (Fail), 2 usage (Usage). Messages go to stderr
// as "vmcrypt: MESSAGE".
#ifndef VMCRYPT_SRC_CLI_CLIENT_COMMAND_H_
#define VMCRYPT_SRC_CLI_CLIENT_COMMAND_H_

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "src/cli/client.h"
#include "src/cli/client_output.h"
#include "src/cli/commands.h"
#include "vmcrypt/base/status.h"

namespace vmcrypt::cli::client {

// Every option any client command takes; each command uses a few.
struct Args {
  CenterFlags flags;
  bool json = false;
  bool no_wait = false;
  std::string name;  // the positional NAME (or task ID)
  std::string disk;  // the positional DISK
  std::string host, provider, cluster, policy, role, address, fingerprint;
  std::string password, out, file;
  std::vector<std::string> servers, disks, privileges;
  bool native = false, tpm_required = false, vtpm = false;
  bool shallow = false, deep = false, wait = false, task = false;
  // provider trust
  bool fetch = false, csr = false, self_signed = false;
  std::string server_ca, signed_cert, import_cert, import_key;
  // events
  int64_t after = -1;
  int64_t limit = -1;
};

// A command's body: its parsed options in, the exit code out.
using Run = std::function<int(const Args&)>;

// Print "vmcrypt: MESSAGE" on stderr; return 1 (Fail) or 2 (Usage).
int Fail(const std::string& message);
int Fail(const Status& s);
int Usage(const std::string& message);

// CenterClient::Escape: one percent-encoded path segment.
std::string Esc(const std::string& segment);

// Runs `body` with a client made from the flags and returns its exit code;
// a missing or malformed setting is a usage error (2), an unreadable CA an
// error (1).
int WithClient(const Args& a, const std::function<int(CenterClient&)>& body);

// Prints a 2xx reply (as is with --json, else with `human`) and returns 0;
// an error reply fails with its message.
int Show(const Args& a, const Result<Json>& reply, const Printer& human);
// GET / POST `path` and Show the reply.
int GetAndShow(const Args& a, const std::string& path, const Printer& human);
int PostAndShow(const Args& a, const std::string& path, const Json& body, const Printer& human);
// DELETE `path`; prints "WHAT removed" (or the reply with --json).
int DeleteAndSay(const Args& a, const std::string& path, const std::string& what);

// A registered command and the options its callback will read.
struct Leaf {
  CLI::App* cmd;
  Args* args;  // owned by the command's callback
};

// A command under `parent` with the connection flags, --json and (for task
// commands) --no-wait; `run` becomes *action when it is chosen.
Leaf Add(CLI::App* parent, const std::string& name, const std::string& help, Action* action,
         Run run, bool task = false);
// Adds the required positional NAME (described by `what`) to `l`.
void AddName(const Leaf& l, const char* what);
// The group `name` under `app`, made (requiring one subcommand) if it does
// not exist yet: `host` is also the host agent's group.
CLI::App* Group(CLI::App& app, const std::string& name, const std::string& help);

// The command groups, each in its own file; AddClientCommands adds them all.
void AddProviderCommands(CLI::App& app, Action* action);  // client_provider_commands.cc
void AddVmCommands(CLI::App& app, Action* action);        // client_vm_commands.cc

}  // namespace vmcrypt::cli::client

#endif  // VMCRYPT_SRC_CLI_CLIENT_COMMAND_H_
