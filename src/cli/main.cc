// The vmcrypt binary: the only place with a main().
#include <cstdio>

#include "src/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"vmcrypt: VM encryption with keys from KMIP key providers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vmcrypt 0.1.0");
  vmcrypt::cli::Action action;
  vmcrypt::cli::AddKmipCommands(app, &action);
  vmcrypt::cli::AddKmsCommands(app, &action);
  vmcrypt::cli::AddDiskCommands(app, &action);
  vmcrypt::cli::AddDiskServeCommand(*app.get_subcommand("disk"), &action);
  vmcrypt::cli::AddHostCommands(app, &action);
  vmcrypt::cli::AddCenterCommands(app, &action);
  vmcrypt::cli::AddDevCommand(app, &action);
  vmcrypt::cli::AddClientCommands(app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!action) {
    std::fprintf(stderr, "vmcrypt: no command given (see --help)\n");
    return 2;
  }
  return action();
}
