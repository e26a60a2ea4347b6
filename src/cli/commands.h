// Registration of the vmcrypt subcommands (CLI11). Internal to the binary.
#ifndef VMCRYPT_SRC_CLI_COMMANDS_H_
#define VMCRYPT_SRC_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <functional>

namespace vmcrypt::cli {

// A subcommand's action returns the process exit code.
using Action = std::function<int()>;

// Adds `vmcrypt kmip ...` to `app`; sets *action when one of its commands is
// chosen.
void AddKmipCommands(CLI::App& app, Action* action);

// Adds `vmcrypt kms ...` to `app`.
void AddKmsCommands(CLI::App& app, Action* action);

// Adds `vmcrypt disk ...` (the offline encrypted-disk tool) to `app`.
void AddDiskCommands(CLI::App& app, Action* action);

// Adds `vmcrypt disk serve ...` under `disk` (NBD export of encrypted disks).
void AddDiskServeCommand(CLI::App& disk, Action* action);

// Adds `vmcrypt host ...` (the host agent) to `app`.
void AddHostCommands(CLI::App& app, Action* action);

// Adds `vmcrypt kmip call ...` under `kmip`.
void AddKmipCallCommand(CLI::App& kmip, Action* action);

// Adds `vmcrypt kmip replay ...` under `kmip`.
void AddKmipReplayCommand(CLI::App& kmip, Action* action);

// Adds `vmcrypt center ...` (init, serve) to `app`.
void AddCenterCommands(CLI::App& app, Action* action);

// Adds `vmcrypt dev` (every component in one process on loopback) to `app`.
void AddDevCommand(CLI::App& app, Action* action);

// Adds the client commands that talk to center's REST API (`vmcrypt
// provider|cluster|host|vm|keys|tasks|events|alarms|user|role ...`) to `app`.
void AddClientCommands(CLI::App& app, Action* action);

}  // namespace vmcrypt::cli

#endif  // VMCRYPT_SRC_CLI_COMMANDS_H_
