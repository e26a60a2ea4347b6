// The client commands of center's REST API (docs/cli.md, docs/api.md):
// `vmcrypt provider|cluster|host|vm|keys|tasks|events|alarms|user|role|about`.
//
// Every command takes --center/--token/--ca (else VMCRYPT_CENTER,
// VMCRYPT_TOKEN, VMCRYPT_CA) and --json (the document as center sent it,
// for scripts); without --json it prints aligned tables. Commands that start
// a task wait for it (long polls of GET /tasks/{id}?wait=30), report its
// progress on stderr and fail with the task's error; --no-wait returns once
// it is queued. Exit codes: 0 ok, 1 error, 2 usage.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "src/cli/client.h"
#include "src/cli/client_command.h"
#include "src/cli/client_output.h"
#include "src/cli/client_tasks.h"
#include "src/cli/commands.h"

namespace vmcrypt::cli {
namespace client {
namespace {

const std::vector<Column> kClusterCols = {
    {"NAME", "name"}, {"HOSTS", "hosts"}, {"DEFAULT PROVIDER", "default_provider"}};
const std::vector<Column> kHostCols = {
    {"NAME", "name"}, {"ADDRESS", "address"}, {"CLUSTER", "cluster"},           {"VMS", "vms"},
    {"TPM", "tpm"},   {"STATE", "state"},     {"ENCRYPTION", "encryption_mode"}};
const std::vector<Column> kTaskCols = {
    {"ID", "id"},         {"TYPE", "type"},         {"ENTITY", "entity"},
    {"STATE", "state"},   {"PROGRESS", "progress"}, {"USER", "user"},
    {"QUEUED", "queued"}, {"ERROR", "error"}};
const std::vector<Column> kEventCols = {
    {"ID", "id"},     {"TIME", "time"},     {"SEVERITY", "severity"},
    {"TYPE", "type"}, {"ENTITY", "entity"}, {"MESSAGE", "message"}};
const std::vector<Column> kAlarmCols = {
    {"ID", "id"},         {"TIME", "time"},      {"SEVERITY", "severity"},
    {"TYPE", "type"},     {"ENTITY", "entity"},  {"PROVIDER", "provider"},
    {"KEY ID", "key_id"}, {"MESSAGE", "message"}};
const std::vector<Column> kKeyCols = {{"PROVIDER", "provider"}, {"KEY ID", "key_id"},
                                      {"STATE", "state"},       {"VMS", "vms"},
                                      {"HOSTS", "hosts"},       {"REASON", "reason"}};
const std::vector<Column> kUserCols = {{"NAME", "name"}, {"ROLE", "role"}};
const std::vector<Column> kRoleCols = {
    {"NAME", "name"}, {"BUILTIN", "builtin"}, {"PRIVILEGES", "privileges"}};
const std::vector<Column> kPolicyCols = {
    {"NAME", "name"}, {"ENCRYPTED", "encrypted"}, {"DESCRIPTION", "description"}};

// --- cluster, host -----------------------------------------------------------

void AddClusterCommands(CLI::App& app, Action* action) {
  CLI::App* g = Group(app, "cluster", "clusters of hosts");
  Add(g, "list", "list the clusters", action, [](const Args& a) {
    return GetAndShow(a, "/clusters", ListPrinter("clusters", kClusterCols));
  });
  AddName(Add(g, "add", "add a cluster", action,
              [](const Args& a) {
                return PostAndShow(a, "/clusters", {{"name", a.name}},
                                   [](const Json& c) { PrintObject(c); });
              }),
          "cluster name");
  AddName(Add(g, "remove", "remove an empty cluster", action,
              [](const Args& a) {
                return DeleteAndSay(a, "/clusters/" + Esc(a.name), "cluster " + a.name);
              }),
          "cluster name");
}

void AddInventoryHostCommands(CLI::App& app, Action* action) {
  CLI::App* g = Group(app, "host", "hosts");
  Add(g, "list", "list the hosts center manages", action,
      [](const Args& a) { return GetAndShow(a, "/hosts", ListPrinter("hosts", kHostCols)); });
  AddName(Add(g, "show", "show a host center manages", action,
              [](const Args& a) {
                return GetAndShow(a, "/hosts/" + Esc(a.name),
                                  [](const Json& h) { PrintObject(h); });
              }),
          "host name");

  Leaf add = Add(
      g, "add", "add a host agent to center's inventory", action,
      [](const Args& a) {
        if (a.address.empty() || a.fingerprint.empty() || a.cluster.empty()) {
          return Usage(
              "host add needs --address HOST:PORT, --fingerprint AB:CD:... and --cluster C");
        }
        const Json body = {{"name", a.name},
                           {"address", a.address},
                           {"fingerprint", a.fingerprint},
                           {"cluster", a.cluster}};
        return PostAndFollow(a, "/hosts", body);
      },
      true);
  AddName(add, "host name");
  add.cmd->add_option("--address", add.args->address, "the agent's API, HOST:PORT");
  add.cmd->add_option("--fingerprint", add.args->fingerprint,
                      "SHA-256 fingerprint of the agent's certificate (AB:CD:...)");
  add.cmd->add_option("--cluster", add.args->cluster, "cluster to put it in");

  AddName(
      Add(g, "remove", "remove a host from center's inventory", action,
          [](const Args& a) { return DeleteAndSay(a, "/hosts/" + Esc(a.name), "host " + a.name); }),
      "host name");

  Leaf enc = Add(
      g, "encrypt", "put a host in encryption mode (a host key from the provider)", action,
      [](const Args& a) {
        Json body = Json::object();
        if (!a.provider.empty()) body["provider"] = a.provider;
        return PostTask(a, "/hosts/" + Esc(a.name) + "/encryption", body);
      },
      true);
  AddName(enc, "host name");
  enc.cmd->add_option("--provider", enc.args->provider, "key provider (else the default)");
}

// --- keys, tasks, events, alarms, users, roles, about -------------------------

void PrintKeys(const Json& doc) {
  const Json keys = ItemsOf(doc, "keys");
  PrintItems(keys, kKeyCols);
  const size_t bad = std::count_if(keys.begin(), keys.end(), [](const Json& k) {
    return k.is_object() && Str(k, "state") != "available";
  });
  if (bad != 0) std::fprintf(stderr, "%zu of %zu keys not available\n", bad, keys.size());
}

void AddMonitoringCommands(CLI::App& app, Action* action) {
  CLI::App* keys = Group(app, "keys", "keys in use and their state at the providers");
  Leaf status = Add(
      keys, "status", "state of every key in use (--task: run it as a recorded task)", action,
      [](const Args& a) {
        if (!a.task) return GetAndShow(a, "/keys", PrintKeys);
        return PostTask(a, "/keys/status", Json::object(), PrintKeys);
      },
      true);
  status.cmd->add_flag("--task", status.args->task, "run the check as a task (recorded, evented)");

  Leaf tasks = Add(
      &app, "tasks", "list tasks, or show (--wait: wait for) task ID", action, [](const Args& a) {
        if (a.name.empty()) {
          return GetAndShow(a, "/tasks", ListPrinter("tasks", kTaskCols));
        }
        if (!a.wait) {
          return GetAndShow(a, "/tasks/" + Esc(a.name), [](const Json& t) { PrintObject(t); });
        }
        return WithClient(a, [&](CenterClient& c) {
          auto task = c.Get("/tasks/" + Esc(a.name));
          if (!task.ok()) return Fail(task.status());
          return FollowTask(a, c, *task);
        });
      });
  tasks.cmd->add_option("id", tasks.args->name, "task id");
  tasks.cmd->add_flag("--wait", tasks.args->wait, "wait for the task to finish");

  Leaf events = Add(&app, "events", "list events, oldest first", action, [](const Args& a) {
    std::string query;
    if (a.after >= 0) query += "after=" + std::to_string(a.after);
    if (a.limit >= 0)
      query += (query.empty() ? "" : "&") + std::string("limit=") + std::to_string(a.limit);
    return GetAndShow(a, "/events" + (query.empty() ? "" : "?" + query),
                      ListPrinter("events", kEventCols));
  });
  events.cmd->add_option("--after", events.args->after, "only events with an id above N");
  events.cmd->add_option("--limit", events.args->limit, "at most N events");

  Add(&app, "alarms", "list the alarms raised (e.g. a key missing at its provider)", action,
      [](const Args& a) { return GetAndShow(a, "/alarms", ListPrinter("alarms", kAlarmCols)); });

  Add(&app, "about", "center's name and version", action,
      [](const Args& a) { return GetAndShow(a, "/about", [](const Json& d) { PrintObject(d); }); });
}

void AddAccessCommands(CLI::App& app, Action* action) {
  CLI::App* user = Group(app, "user", "API users (each has a role and a token)");
  Add(user, "list", "list the users", action,
      [](const Args& a) { return GetAndShow(a, "/users", ListPrinter("users", kUserCols)); });
  Leaf add =
      Add(user, "add", "add a user; prints its token (shown once)", action, [](const Args& a) {
        if (a.role.empty()) return Usage("user add needs --role R");
        return PostAndShow(a, "/users", {{"name", a.name}, {"role", a.role}}, [](const Json& u) {
          PrintObject(u);
          std::fprintf(stderr,
                       "the token is shown once: give it to the "
                       "user (VMCRYPT_TOKEN)\n");
        });
      });
  AddName(add, "user name");
  add.cmd->add_option("--role", add.args->role, "role (Admin, NoCryptoAdmin, ReadOnly, custom)");

  CLI::App* role = Group(app, "role", "roles: named sets of privileges");
  Add(role, "list", "list the roles and their privileges", action,
      [](const Args& a) { return GetAndShow(a, "/roles", ListPrinter("roles", kRoleCols)); });
  Leaf radd = Add(role, "add", "add a custom role", action, [](const Args& a) {
    if (a.privileges.empty()) return Usage("role add needs at least one --privilege P");
    return PostAndShow(a, "/roles", {{"name", a.name}, {"privileges", a.privileges}},
                       [](const Json& r) { PrintObject(r); });
  });
  AddName(radd, "role name");
  radd.cmd->add_option("--privilege", radd.args->privileges,
                       "privilege, e.g. System.View (repeatable)");

  Add(&app, "policies", "list the storage policies", action, [](const Args& a) {
    return GetAndShow(a, "/policies", ListPrinter("policies", kPolicyCols));
  });
}

}  // namespace
}  // namespace client

void AddClientCommands(CLI::App& app, Action* action) {
  client::AddProviderCommands(app, action);
  client::AddClusterCommands(app, action);
  client::AddInventoryHostCommands(app, action);
  client::AddVmCommands(app, action);
  client::AddMonitoringCommands(app, action);
  client::AddAccessCommands(app, action);
}

}  // namespace vmcrypt::cli
