// `vmcrypt vm ...`: virtual machines (docs/cli.md): list, show, create,
// open, close, encrypt, decrypt, rekey, move, register, delete,
// disk-encrypt, disk-decrypt. All but list and show run as center tasks.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "src/cli/client_command.h"
#include "src/cli/client_output.h"
#include "src/cli/client_tasks.h"
#include "vmcrypt/disk/tools.h"

namespace vmcrypt::cli::client {
namespace {

constexpr uint64_t kSectorSize = 4096;  // host agents want disk sizes in whole sectors

const std::vector<Column> kVmCols = {
    {"NAME", "name"},           {"HOST", "host"},  {"CLUSTER", "cluster"}, {"POLICY", "policy"},
    {"ENCRYPTED", "encrypted"}, {"KEY", "key"},    {"VTPM", "vtpm"},       {"STATE", "state"},
    {"LOCKED", "locked"},       {"DISKS", "disks"}};

void PrintVmResult(const Json& vm) {
  if (vm.is_object() && !vm.empty()) PrintObject(vm, "  ");
}

int VmCreate(const Args& a) {
  if (a.disks.empty()) return Usage("vm create needs at least one --disk SIZE");
  Json sizes = Json::array();
  for (const std::string& d : a.disks) {
    auto size = disk::ParseSize(d);
    if (!size.ok()) return Usage("--disk: " + size.status().message());
    if (*size == 0 || *size % kSectorSize != 0) {
      return Usage("--disk " + d + ": a disk size must be a non-zero multiple of 4096 bytes");
    }
    sizes.push_back(*size);
  }
  if (!a.policy.empty() && a.policy != "encrypted" && a.policy != "none") {
    return Usage("--policy must be \"encrypted\" or \"none\", not \"" + a.policy + "\"");
  }
  Json body = {{"name", a.name}, {"disks", sizes}};
  if (!a.host.empty()) body["host"] = a.host;
  if (!a.policy.empty()) body["policy"] = a.policy;
  if (!a.provider.empty()) body["provider"] = a.provider;
  if (a.vtpm) body["vtpm"] = true;
  return PostTask(a, "/vms", body, PrintVmResult);
}

// `vm open NAME [--host H]`: a move to H first when the VM is elsewhere
// (always waited for), then the open task; --json prints the VM document.
int VmOpen(const Args& a) {
  const std::string path = "/vms/" + Esc(a.name);
  return WithClient(a, [&](CenterClient& c) {
    if (!a.host.empty()) {
      auto vm = c.Get(path);
      if (!vm.ok()) return Fail(vm.status());
      if (Str(*vm, "host") != a.host) {
        if (!a.json) {
          std::fprintf(stderr, "moving VM %s to host %s first\n", a.name.c_str(), a.host.c_str());
        }
        auto queued = c.Post(path + "/move", {{"host", a.host}});
        if (!queued.ok()) return Fail(queued.status());
        auto moved = WaitTask(c, *queued, a.json);
        if (!moved.ok()) return Fail("waiting for the move: " + moved.status().message());
        if (Str(*moved, "state") == "error") {
          return Fail(TaskLabel(*moved) + " failed: " + Cell(Member(*moved, "error")));
        }
      }
    }
    return FollowTask(a, c, c.Post(path + "/open", Json::object()), PrintVmResult, true);
  });
}

int VmRekey(const Args& a) {
  if (a.shallow == a.deep) return Usage("vm rekey needs --shallow or --deep");
  if (a.deep && !a.provider.empty()) return Usage("--provider goes with --shallow");
  Json body = {{"mode", a.shallow ? "shallow" : "deep"}};
  if (!a.provider.empty()) body["provider"] = a.provider;
  return PostTask(a, "/vms/" + Esc(a.name) + "/rekey", body);
}

// A `vm ACTION NAME` task command with an empty body.
Run VmAction(const std::string& action) {
  return [action](const Args& a) {
    return PostTask(a, "/vms/" + Esc(a.name) + "/" + action, Json::object());
  };
}

}  // namespace

void AddVmCommands(CLI::App& app, Action* action) {
  CLI::App* g = Group(app, "vm", "virtual machines");
  Add(g, "list", "list the VMs", action,
      [](const Args& a) { return GetAndShow(a, "/vms", ListPrinter("vms", kVmCols)); });
  AddName(Add(g, "show", "show a VM and its disks", action,
              [](const Args& a) {
                return GetAndShow(a, "/vms/" + Esc(a.name), [](const Json& v) { PrintObject(v); });
              }),
          "VM name");

  Leaf create = Add(g, "create", "create a VM (encrypted under the encryption policy)", action,
                    VmCreate, true);
  AddName(create, "VM name");
  create.cmd->add_option("--disk", create.args->disks, "disk size: 64M, 1G, 4096 (repeatable)");
  create.cmd->add_option("--host", create.args->host, "host to place it on");
  create.cmd->add_option("--policy", create.args->policy, "storage policy: encrypted or none");
  create.cmd->add_option("--provider", create.args->provider, "key provider (else the default)");
  create.cmd->add_flag("--vtpm", create.args->vtpm, "add a virtual TPM (implies encryption)");

  Leaf open = Add(g, "open", "open a VM: export its disks over NBD (--json: the VM with nbd_uri)",
                  action, VmOpen, true);
  AddName(open, "VM name");
  open.cmd->add_option("--host", open.args->host, "open it on this host (moved there first)");

  AddName(Add(g, "close", "close a VM (stop its NBD exports)", action, VmAction("close"), true),
          "VM name");
  Leaf enc = Add(
      g, "encrypt", "encrypt a VM's home and disks", action,
      [](const Args& a) {
        Json body = Json::object();
        if (!a.provider.empty()) body["provider"] = a.provider;
        return PostTask(a, "/vms/" + Esc(a.name) + "/encrypt", body);
      },
      true);
  AddName(enc, "VM name");
  enc.cmd->add_option("--provider", enc.args->provider, "key provider (else the default)");
  AddName(Add(g, "decrypt", "decrypt a VM's disks and home", action, VmAction("decrypt"), true),
          "VM name");

  Leaf rekey = Add(g, "rekey", "shallow (new KEK) or deep (new DEKs, data re-encrypted) rekey",
                   action, VmRekey, true);
  AddName(rekey, "VM name");
  rekey.cmd->add_flag("--shallow", rekey.args->shallow, "rewrap the VM's keys with a new KEK");
  rekey.cmd->add_flag("--deep", rekey.args->deep, "new data keys; every disk re-encrypted");
  rekey.cmd->add_option("--provider", rekey.args->provider,
                        "shallow: take the new KEK from this provider");

  Leaf move = Add(
      g, "move", "move a VM to another host", action,
      [](const Args& a) {
        if (a.host.empty()) return Usage("vm move needs --host H");
        return PostTask(a, "/vms/" + Esc(a.name) + "/move", {{"host", a.host}});
      },
      true);
  AddName(move, "VM name");
  move.cmd->add_option("--host", move.args->host, "destination host");

  AddName(Add(g, "register", "register a VM's keys again (e.g. after a host restart)", action,
              VmAction("register"), true),
          "VM name");
  AddName(Add(
              g, "delete", "delete a closed VM and its disks", action,
              [](const Args& a) {
                return WithClient(a, [&](CenterClient& c) {
                  return FollowTask(a, c, c.Delete("/vms/" + Esc(a.name)));
                });
              },
              true),
          "VM name");

  for (const char* op : {"encrypt", "decrypt"}) {
    const std::string verb = op;
    Leaf d = Add(
        g, "disk-" + verb, verb + " one disk of a VM", action,
        [verb](const Args& a) {
          return PostTask(a, "/vms/" + Esc(a.name) + "/disks/" + Esc(a.disk) + "/" + verb,
                          Json::object());
        },
        true);
    AddName(d, "VM name");
    d.cmd->add_option("disk", d.args->disk, "disk name (see vm show)")->required();
  }
}

}  // namespace vmcrypt::cli::client
