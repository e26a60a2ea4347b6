// `vmcrypt disk serve FILE... (--kek-file KEK | --kmip-server HOST:PORT --ca
// CA --cert CERT --key KEY --key-id ID) (--socket PATH | --listen
// 127.0.0.1:PORT)`: exports encrypted disks over NBD (docs/nbd.md), each
// under its file's base name, until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "src/cli/commands.h"
#include "src/cli/kek_source.h"
#include "src/cli/log.h"
#include "vmcrypt/base/process_guard.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header_store.h"
#include "vmcrypt/nbd/server.h"

namespace vmcrypt::cli {
namespace {

struct ServeOptions {
  std::vector<std::string> files;
  KekSource kek;
  std::string socket;
  std::string listen;
};

int Fail(const std::string& message) { return FailCommand("disk serve", message); }

void LogLine(const std::string& line) { cli::LogLine("disk serve", line); }

int RunServe(const ServeOptions& o) {
  BlockStopSignals();  // before any thread starts
  if (o.socket.empty() == o.listen.empty()) return Fail("give --socket PATH or --listen HOST:PORT");
  LogLine(LockProcessMemory().message);  // KekSource::Load locks too, silently
  auto kek = o.kek.Load(KekUse::kUnwrap);
  if (!kek.ok()) return Fail(kek.status().message());
  std::vector<std::unique_ptr<disk::EncryptedDisk>> disks;
  std::vector<nbd::Export> exports;
  std::set<std::string> names;
  for (const std::string& file : o.files) {
    const std::string name = std::filesystem::path(file).filename().string();
    if (!names.insert(name).second) return Fail("two disks are named " + name);
    auto d = disk::EncryptedDisk::Open(file, disk::SingleKek(*kek));
    if (!d.ok()) return Fail(file + ": " + d.status().message());
    if ((*d)->header_repaired()) LogLine(file + ": repaired a damaged header copy");
    exports.push_back({name, d->get(), file});
    disks.push_back(std::move(*d));
  }
  kek->Clear();  // the disks hold their DEKs; the KEK is no longer needed

  nbd::ServerOptions options;
  options.unix_path = o.socket;
  options.listen = o.listen;
  auto server = nbd::Server::Start(options, exports, LogLine);
  if (!server.ok()) return Fail(server.status().message());
  for (const nbd::Export& e : exports) {
    if (!o.socket.empty()) {
      LogLine("serving nbd+unix:///" + e.name + "?socket=" + o.socket);
    } else {
      const std::string host = o.listen.substr(0, o.listen.rfind(':'));
      LogLine("serving nbd://" + host + ":" + std::to_string((*server)->port()) + "/" + e.name);
    }
  }
  LogLine(std::string(WaitForStopSignal()) + ": finishing in-flight requests");
  (*server)->Shutdown();
  int rc = 0;
  for (auto& d : disks) {
    Status s = d->Flush();
    if (!s.ok()) {
      LogLine("flush failed: " + s.message());
      rc = 1;
    }
  }
  return rc;
}

}  // namespace

void AddDiskServeCommand(CLI::App& disk, Action* action) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* sv = disk.add_subcommand("serve", "export encrypted disks over NBD (for QEMU)");
  sv->add_option("files", o->files, "encrypted disks; each is exported under its base name")
      ->required();
  AddKekSourceOptions(sv, &o->kek, "with --kmip-server: the KEK's Unique Identifier");
  sv->add_option("--socket", o->socket, "a unix socket path (nbd+unix:///NAME?socket=PATH)");
  sv->add_option("--listen", o->listen, "HOST:PORT on loopback, e.g. 127.0.0.1:10809 (0: any)");
  sv->callback([action, o] { *action = [o] { return RunServe(*o); }; });
}

}  // namespace vmcrypt::cli
