// The client commands of center's REST API (docs/cli.md, docs/api.md):
// `vmcrypt provider|cluster|host|vm|keys|tasks|events|alarms|user|role|about`.
//
// Every command takes --center/--token/--ca (else VMCRYPT_CENTER,
// VMCRYPT_TOKEN, VMCRYPT_CA) and --json (the document as center sent it,
// for scripts); without --json it prints aligned tables. Commands that start
// a task wait for it (long polls of GET /tasks/{id}?wait=30), report its
// progress on stderr and fail with the task's error; --no-wait returns once
// it is queued. Exit codes: 0 ok, 1 error, 2 usage.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "src/cli/client.h"
#include "src/cli/commands.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/disk/tools.h"

namespace vmcrypt::cli {
namespace {

constexpr int kUsageExit = 2;
constexpr uint64_t kSectorSize = 4096;  // host agents want disk sizes in whole sectors

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

using Run = std::function<int(const Args&)>;
using Printer = std::function<void(const Json&)>;

int Fail(const std::string& message) {
  std::fprintf(stderr, "vmcrypt: %s\n", message.c_str());
  return 1;
}
int Fail(const Status& s) { return Fail(s.message()); }
int Usage(const std::string& message) {
  std::fprintf(stderr, "vmcrypt: %s\n", message.c_str());
  return kUsageExit;
}

// Members read without throwing on an odd document: "" or null when absent
// or of another type.
std::string Str(const Json& doc, const char* key) {
  if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) return "";
  return doc[key].get<std::string>();
}
Json Member(const Json& doc, const char* key) {
  return doc.is_object() && doc.contains(key) ? doc[key] : Json(nullptr);
}

std::string Esc(const std::string& segment) { return CenterClient::Escape(segment); }

// --- output ------------------------------------------------------------------

void PrintJson(const Json& doc) { std::printf("%s\n", doc.dump(2).c_str()); }

std::string HumanSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (unit < 5 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + (unit == 0 ? "" : " ") + (unit == 0 ? "" : kUnits[unit]);
}

// One value as a table cell: "-" for null or empty, yes/no, a key as
// "provider/key_id", an entity as "type name", lists joined with ",".
std::string Cell(const Json& v, std::string_view key = {}) {
  if (v.is_null()) return "-";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return s.empty() ? "-" : s;
  }
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned() && key == "size") return HumanSize(v.get<uint64_t>());
  if (v.is_number() && key == "progress") return v.dump() + "%";
  if (v.is_number()) return v.dump();
  if (v.is_array()) {
    if (v.empty()) return "-";
    std::string out;
    for (const Json& item : v) out += (out.empty() ? "" : ",") + Cell(item);
    return out;
  }
  if (v.contains("enabled") && v["enabled"].is_boolean()) {  // a host's encryption_mode
    if (!v["enabled"].get<bool>()) return "no";
    return v.contains("key") ? "yes (" + Cell(v["key"]) + ")" : "yes";
  }
  if (v.contains("provider") && v.contains("key_id")) {
    return Cell(v["provider"]) + "/" + Cell(v["key_id"]);
  }
  if (v.size() == 2 && v.contains("type") && v.contains("name")) {
    return Cell(v["type"]) + " " + Cell(v["name"]);
  }
  if (v.contains("name")) return Cell(v["name"]);
  if (v.contains("address")) return Cell(v["address"]);
  return v.empty() ? "-" : v.dump();
}

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = indent;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out += std::string(width[i] - cells[i].size() + 2, ' ');
    }
    std::printf("%s\n", out.c_str());
  };
  line(headers);
  for (const auto& row : rows) line(row);
}

struct Column {
  std::string header;
  std::string key;
};

// Columns for the items: the preferred ones some item has; if none, every
// key found, "name" and "id" first.
std::vector<Column> ColumnsFor(const Json& items, const std::vector<Column>& preferred) {
  std::vector<Column> cols;
  for (const Column& c : preferred) {
    for (const Json& item : items) {
      if (item.is_object() && item.contains(c.key)) {
        cols.push_back(c);
        break;
      }
    }
  }
  if (!cols.empty()) return cols;
  std::vector<std::string> keys;
  for (const Json& item : items) {
    if (!item.is_object()) continue;
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
  }
  std::stable_partition(keys.begin(), keys.end(),
                        [](const std::string& k) { return k == "id" || k == "name"; });
  for (const std::string& k : keys) {
    std::string header = k;
    std::transform(header.begin(), header.end(), header.begin(), ::toupper);
    cols.push_back({header, k});
  }
  return cols;
}

void PrintItems(const Json& items, const std::vector<Column>& preferred,
                const std::string& indent = "") {
  if (items.empty()) {
    std::printf("%s(none)\n", indent.c_str());
    return;
  }
  const std::vector<Column> cols = ColumnsFor(items, preferred);
  std::vector<std::string> headers;
  for (const Column& c : cols) headers.push_back(c.header);
  std::vector<std::vector<std::string>> rows;
  for (const Json& item : items) {
    std::vector<std::string> row;
    for (const Column& c : cols) {
      row.push_back(item.is_object() && item.contains(c.key) ? Cell(item[c.key], c.key) : "-");
    }
    rows.push_back(std::move(row));
  }
  PrintTable(headers, rows, indent);
}

bool IsTableOfObjects(const Json& v) {
  return v.is_array() && !v.empty() &&
         std::all_of(v.begin(), v.end(), [](const Json& i) { return i.is_object(); });
}

// An object printed field by field: not a key reference or an entity,
// which read better on one line.
bool IsPlainObject(const Json& v) {
  if (!v.is_object() || v.empty()) return false;
  if (v.contains("provider") && v.contains("key_id")) return false;
  return !(v.size() == 2 && v.contains("type") && v.contains("name"));
}

// "key: value" lines, aligned; lists of objects as indented tables and
// nested objects as indented fields. "name" and "id" come first.
void PrintObject(const Json& obj, const std::string& indent = "") {
  if (!obj.is_object()) {
    std::printf("%s%s\n", indent.c_str(), Cell(obj).c_str());
    return;
  }
  std::vector<std::string> keys;
  size_t width = 0;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    keys.push_back(it.key());
    width = std::max(width, it.key().size());
  }
  std::stable_partition(keys.begin(), keys.end(),
                        [](const std::string& k) { return k == "id" || k == "name"; });
  for (const std::string& k : keys) {
    const Json& v = obj[k];
    const std::string label = indent + k + ":";
    if (IsTableOfObjects(v)) {
      static const std::vector<Column> kDiskCols = {{"NAME", "name"},
                                                    {"SIZE", "size"},
                                                    {"ENCRYPTED", "encrypted"},
                                                    {"KEY", "key"},
                                                    {"NBD URI", "nbd_uri"}};
      std::printf("%s\n", label.c_str());
      PrintItems(v, k == "disks" ? kDiskCols : std::vector<Column>{}, indent + "  ");
    } else if (IsPlainObject(v)) {
      std::printf("%s\n", label.c_str());
      PrintObject(v, indent + "  ");
    } else {
      std::printf("%-*s %s\n", static_cast<int>(width + indent.size() + 1), label.c_str(),
                  Cell(v, k).c_str());
    }
  }
}

// The list in a reply: the reply itself, its member `key`, or its only
// array member.
Json ItemsOf(const Json& doc, const char* key) {
  if (doc.is_array()) return doc;
  if (!doc.is_object()) return Json::array();
  if (doc.contains(key) && doc[key].is_array()) return doc[key];
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.value().is_array()) return it.value();
  }
  return Json::array();
}

Printer ListPrinter(const char* key, std::vector<Column> cols) {
  return [key, cols](const Json& doc) { PrintItems(ItemsOf(doc, key), cols); };
}

const std::vector<Column> kProviderCols = {{"NAME", "name"},        {"TYPE", "type"},
                                           {"SERVERS", "servers"},  {"DEFAULT", "default"},
                                           {"TPM", "tpm_required"}, {"BACKED UP", "backed_up"},
                                           {"USABLE", "usable"}};
const std::vector<Column> kClusterCols = {
    {"NAME", "name"}, {"HOSTS", "hosts"}, {"DEFAULT PROVIDER", "default_provider"}};
const std::vector<Column> kHostCols = {
    {"NAME", "name"}, {"ADDRESS", "address"}, {"CLUSTER", "cluster"},           {"VMS", "vms"},
    {"TPM", "tpm"},   {"STATE", "state"},     {"ENCRYPTION", "encryption_mode"}};
const std::vector<Column> kVmCols = {
    {"NAME", "name"},           {"HOST", "host"},  {"CLUSTER", "cluster"}, {"POLICY", "policy"},
    {"ENCRYPTED", "encrypted"}, {"KEY", "key"},    {"VTPM", "vtpm"},       {"STATE", "state"},
    {"LOCKED", "locked"},       {"DISKS", "disks"}};
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

// --- files -------------------------------------------------------------------

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes a new file (mode `mode`); with `exclusive`, an existing file is
// left alone and reported.
Status WriteFile(const std::string& path, std::string_view data, mode_t mode, bool exclusive) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError(path + " exists; not overwriting it");
    return InternalError("cannot create " + path + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return InternalError("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return InternalError("cannot write " + path);
  return OkStatus();
}

// --password P, or "-": one line from stdin (keeps it out of `ps`).
Result<std::string> Password(const std::string& flag) {
  std::string p = flag;
  if (flag == "-" && !std::getline(std::cin, p)) {
    return InvalidArgumentError("no password on stdin");
  }
  if (p.empty()) return InvalidArgumentError("the password must not be empty");
  return p;
}

// --- requests ----------------------------------------------------------------

// Runs `body` with a client made from the flags; a missing setting is a
// usage error.
int WithClient(const Args& a, const std::function<int(CenterClient&)>& body) {
  auto client = CenterClient::Create(a.flags);
  if (!client.ok()) {
    return client.status().code() == StatusCode::kInvalidArgument ? Usage(client.status().message())
                                                                  : Fail(client.status());
  }
  return body(**client);
}

// Prints a reply: as is with --json, else with `human`.
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

// For replies that carry the follow-up task they started in "task" (a host
// added: the native providers' keys pushed to it; a native provider added:
// its key pushed to the hosts). The task is waited for unless --no-wait and
// put back into the document; its failure is the command's.
int PostAndFollow(const Args& a, const std::string& path, const Json& body);

// --- tasks -------------------------------------------------------------------

std::string TaskId(const Json& task) {
  return task.is_object() && task.contains("id") ? Cell(task["id"]) : "";
}

bool Finished(const Json& task) {
  const std::string state = Str(task, "state");
  return state == "success" || state == "error";
}

// "task 12 (vm.create vm vm1)"
std::string TaskLabel(const Json& task) {
  std::string label = "task " + TaskId(task);
  std::string what = task.contains("type") ? Cell(task["type"]) : "";
  if (task.contains("entity")) what += (what.empty() ? "" : " ") + Cell(task["entity"]);
  return what.empty() ? label : label + " (" + what + ")";
}

// Long-polls the task until it finishes; progress lines on stderr unless
// `quiet`. Waits as long as the task runs (Ctrl-C leaves it running).
Result<Json> WaitTask(CenterClient& c, Json task, bool quiet) {
  const std::string id = TaskId(task);
  if (id.empty() || id == "-") return InternalError("center's reply names no task id");
  std::string last;
  while (!Finished(task)) {
    std::string now = Str(task, "state");
    if (task.contains("progress")) now += " " + Cell(task["progress"], "progress");
    if (!quiet && now != last) {
      std::fprintf(stderr, "%s: %s\n", TaskLabel(task).c_str(), now.c_str());
      last = now;
    }
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(task, c.PollTask(id, CenterClient::kTaskWaitSeconds));
    // A center that answers at once without waiting is not polled in a
    // tight loop.
    if (!Finished(task) && std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  return task;
}

// Reports a finished task: exit 1 with its error, else its result (with
// --json the task document, or only its "result" with `json_result`).
int ReportTask(const Args& a, const Json& task, const Printer& human, bool json_result) {
  if (Str(task, "state") == "error") {
    if (a.json) PrintJson(task);
    return Fail(TaskLabel(task) + " failed: " +
                (task.contains("error") ? Cell(task["error"]) : "(no error message)"));
  }
  const Json result = task.contains("result") ? task["result"] : Json(nullptr);
  if (a.json) {
    PrintJson(json_result ? result : task);
    return 0;
  }
  std::printf("%s: success\n", TaskLabel(task).c_str());
  if (human) {
    human(result);
  } else if (result.is_object() && !result.empty()) {
    PrintObject(result, "  ");
  }
  return 0;
}

// A task-starting reply: waits for it unless --no-wait, then reports.
int FollowTask(const Args& a, CenterClient& c, const Result<Json>& queued,
               const Printer& human = nullptr, bool json_result = false) {
  if (!queued.ok()) return Fail(queued.status());
  if (a.no_wait) {
    if (a.json) {
      PrintJson(*queued);
    } else {
      std::printf("%s queued; follow it with: vmcrypt tasks %s --wait\n",
                  TaskLabel(*queued).c_str(), TaskId(*queued).c_str());
    }
    return 0;
  }
  auto done = WaitTask(c, *queued, a.json);
  if (!done.ok()) {
    return Fail("waiting for " + TaskLabel(*queued) + ": " + done.status().message());
  }
  return ReportTask(a, *done, human, json_result);
}

int PostTask(const Args& a, const std::string& path, const Json& body,
             const Printer& human = nullptr) {
  return WithClient(a,
                    [&](CenterClient& c) { return FollowTask(a, c, c.Post(path, body), human); });
}

int PostAndFollow(const Args& a, const std::string& path, const Json& body) {
  return WithClient(a, [&](CenterClient& c) {
    auto reply = c.Post(path, body);
    if (!reply.ok()) return Fail(reply.status());
    Json doc = *reply;
    const bool has_task = doc.is_object() && doc.contains("task") && !TaskId(doc["task"]).empty();
    if (has_task && !a.no_wait && !Finished(doc["task"])) {
      auto done = WaitTask(c, doc["task"], a.json);
      if (!done.ok()) {
        return Fail("waiting for " + TaskLabel(doc["task"]) + ": " + done.status().message());
      }
      doc["task"] = *done;
    }
    if (a.json) {
      PrintJson(doc);
    } else {
      PrintObject(doc);
    }
    if (has_task && Str(doc["task"], "state") == "error") {
      return Fail(TaskLabel(doc["task"]) + " failed: " + Cell(Member(doc["task"], "error")));
    }
    return 0;
  });
}

void PrintVmResult(const Json& vm) {
  if (vm.is_object() && !vm.empty()) PrintObject(vm, "  ");
}

// --- registration ------------------------------------------------------------

struct Leaf {
  CLI::App* cmd;
  Args* args;  // owned by the command's callback
};

// A command under `parent` with the connection flags, --json and (for task
// commands) --no-wait; `run` becomes the action when it is chosen.
Leaf Add(CLI::App* parent, const std::string& name, const std::string& help, Action* action,
         Run run, bool task = false) {
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

// The group `name` under `app`, made if it does not exist yet (`host` is
// also the host agent's group).
CLI::App* Group(CLI::App& app, const std::string& name, const std::string& help) {
  auto found = app.get_subcommands([&](CLI::App* s) { return s->get_name() == name; });
  if (!found.empty()) return found.front();
  CLI::App* g = app.add_subcommand(name, help);
  g->require_subcommand(1);
  return g;
}

// --- provider ----------------------------------------------------------------

int ProviderAdd(const Args& a) {
  if (a.native == !a.servers.empty()) {
    return Usage("provider add needs either --server HOST:PORT (repeatable) or --native");
  }
  if (a.tpm_required && !a.native) return Usage("--tpm-required goes with --native");
  Json body = {{"name", a.name}};
  if (a.native) {
    body["type"] = "native";
    body["tpm_required"] = a.tpm_required;
  } else {
    body["type"] = "standard";
    body["servers"] = a.servers;
  }
  return PostAndFollow(a, "/providers", body);
}

int ProviderTrust(const Args& a) {
  const int chosen = a.fetch + !a.server_ca.empty() + a.csr + !a.signed_cert.empty() +
                     a.self_signed + (!a.import_cert.empty() || !a.import_key.empty());
  if (chosen != 1) {
    return Usage(
        "provider trust needs exactly one of --fetch, --server-ca FILE, --csr, --signed-cert "
        "FILE, --self-signed, --import-cert FILE --import-key FILE");
  }
  if (!a.out.empty() && !a.csr && !a.self_signed) {
    return Usage("--out goes with --csr or --self-signed");
  }
  if (a.import_cert.empty() != a.import_key.empty()) {
    return Usage("--import-cert and --import-key go together");
  }
  Json body;
  const char* pem_field = nullptr;  // the PEM the reply carries, if any
  if (a.fetch) {
    body = {{"action", "fetch-server-certificates"}};
  } else if (!a.server_ca.empty()) {
    auto ca = ReadText(a.server_ca);
    if (!ca.ok()) return Fail(ca.status());
    body = {{"action", "server-ca"}, {"ca", *ca}};
  } else if (a.csr) {
    body = {{"action", "csr"}};
    pem_field = "csr";
  } else if (!a.signed_cert.empty()) {
    auto cert = ReadText(a.signed_cert);
    if (!cert.ok()) return Fail(cert.status());
    body = {{"action", "signed-certificate"}, {"certificate", *cert}};
  } else if (a.self_signed) {
    body = {{"action", "self-signed"}};
    pem_field = "certificate";
  } else {
    auto cert = ReadText(a.import_cert);
    if (!cert.ok()) return Fail(cert.status());
    auto key = ReadText(a.import_key);
    if (!key.ok()) return Fail(key.status());
    body = {{"action", "import"}, {"certificate", *cert}, {"key", *key}};
    OPENSSL_cleanse(key->data(), key->size());
  }
  const std::string path = "/providers/" + Esc(a.name) + "/trust";
  return WithClient(a, [&](CenterClient& c) {
    auto reply = c.Post(path, body);
    if (body.contains("key")) {
      std::string& key = body["key"].get_ref<std::string&>();
      OPENSSL_cleanse(key.data(), key.size());
    }
    if (!reply.ok()) return Fail(reply.status());
    const std::string pem =
        pem_field != nullptr && reply->contains(pem_field) ? Cell((*reply)[pem_field]) : "";
    if (pem_field != nullptr && !a.out.empty()) {
      if (pem.empty() || pem == "-")
        return Fail("center's reply holds no " + std::string(pem_field));
      if (Status s = WriteFile(a.out, pem, 0644, false); !s.ok()) return Fail(s);
    }
    if (a.json) {
      PrintJson(*reply);
    } else if (pem_field != nullptr && a.out.empty()) {
      std::printf("%s", pem.c_str());  // for the KMS to sign or to trust
    } else {
      std::printf("provider %s: %s done%s%s\n", a.name.c_str(), Cell(body["action"]).c_str(),
                  a.out.empty() ? "" : "; wrote ", a.out.c_str());
    }
    return 0;
  });
}

int ProviderExport(const Args& a) {
  if (a.out.empty()) return Usage("provider export needs --out FILE");
  auto password = Password(a.password);
  if (!password.ok()) return Usage(password.status().message());
  return WithClient(a, [&](CenterClient& c) {
    auto reply = c.Post("/providers/" + Esc(a.name) + "/export", {{"password", *password}});
    if (!reply.ok()) return Fail(reply.status());
    if (!reply->contains("pkcs12") || !(*reply)["pkcs12"].is_string()) {
      return Fail("center's reply holds no pkcs12");
    }
    auto der = Base64Decode((*reply)["pkcs12"].get<std::string>());
    if (!der.ok()) return Fail("center's pkcs12 is not base64: " + der.status().message());
    const std::string_view bytes(reinterpret_cast<const char*>(der->data()), der->size());
    if (Status s = WriteFile(a.out, bytes, 0600, true); !s.ok()) return Fail(s);
    if (a.json) {
      PrintJson({{"name", a.name}, {"file", a.out}, {"bytes", der->size()}});
    } else {
      std::printf("provider %s exported to %s (PKCS#12, %zu bytes, mode 0600): keep it safe\n",
                  a.name.c_str(), a.out.c_str(), der->size());
    }
    return 0;
  });
}

int ProviderRestore(const Args& a) {
  if (a.file.empty()) return Usage("provider restore needs --file FILE");
  auto password = Password(a.password);
  if (!password.ok()) return Usage(password.status().message());
  auto der = ReadText(a.file);
  if (!der.ok()) return Fail(der.status());
  const Json body = {{"pkcs12", Base64Encode(AsBytes(*der))}, {"password", *password}};
  return PostAndFollow(a, "/providers/restore", body);
}

void AddProviderCommands(CLI::App& app, Action* action) {
  CLI::App* g = Group(app, "provider", "key providers of center (standard KMIP or native)");
  Add(g, "list", "list the key providers", action, [](const Args& a) {
    return GetAndShow(a, "/providers", ListPrinter("providers", kProviderCols));
  });
  AddName(Add(g, "show", "show a key provider", action,
              [](const Args& a) {
                return GetAndShow(a, "/providers/" + Esc(a.name),
                                  [](const Json& p) { PrintObject(p); });
              }),
          "provider name");

  Leaf add = Add(g, "add", "add a standard (--server ...) or native (--native) key provider",
                 action, ProviderAdd, true);
  AddName(add, "provider name");
  add.cmd->add_option("--server", add.args->servers,
                      "KMIP server HOST:PORT (repeatable, in order)");
  add.cmd->add_flag("--native", add.args->native, "a native key provider (keys derived on hosts)");
  add.cmd->add_flag("--tpm-required", add.args->tpm_required,
                    "native: only hosts with a TPM get the key derivation key");

  AddName(Add(g, "remove", "remove a key provider", action,
              [](const Args& a) {
                return WithClient(a, [&](CenterClient& c) {
                  return Show(a, c.Delete("/providers/" + Esc(a.name)), [&](const Json&) {
                    std::printf("provider %s removed\n", a.name.c_str());
                  });
                });
              }),
          "provider name");

  Leaf trust = Add(g, "trust", "set up trust between center and a standard provider's servers",
                   action, ProviderTrust);
  AddName(trust, "provider name");
  CLI::App* t = trust.cmd;
  Args* ta = trust.args;
  t->add_flag("--fetch", ta->fetch, "fetch and pin each server's certificate");
  t->add_option("--server-ca", ta->server_ca, "trust the servers' CA (PEM file)");
  t->add_flag("--csr", ta->csr, "make a client key and a CSR for the KMS to sign");
  t->add_option("--signed-cert", ta->signed_cert, "import the certificate the KMS signed (PEM)");
  t->add_flag("--self-signed", ta->self_signed,
              "make a self-signed client certificate to upload to the KMS");
  t->add_option("--import-cert", ta->import_cert, "client certificate the KMS issued (PEM)");
  t->add_option("--import-key", ta->import_key, "its private key (PEM)");
  t->add_option("--out", ta->out, "write the CSR or certificate here instead of stdout");

  Leaf def = Add(
      g, "default", "make a provider center's default, or a cluster's", action, [](const Args& a) {
        Json body = Json::object();
        if (!a.cluster.empty()) body["cluster"] = a.cluster;
        return PostAndShow(a, "/providers/" + Esc(a.name) + "/default", body, [&](const Json&) {
          std::printf("provider %s is now the default%s%s\n", a.name.c_str(),
                      a.cluster.empty() ? "" : " of cluster ", a.cluster.c_str());
        });
      });
  AddName(def, "provider name");
  def.cmd->add_option("--cluster", def.args->cluster, "only for this cluster");

  Leaf exp = Add(g, "export", "back up a native provider to a password-protected PKCS#12 file",
                 action, ProviderExport);
  AddName(exp, "provider name");
  exp.cmd->add_option("--password", exp.args->password, "PKCS#12 password (\"-\": read stdin)")
      ->required();
  exp.cmd->add_option("--out", exp.args->out, "file to write (must not exist)")->required();

  Leaf res = Add(g, "restore", "restore a native provider from its PKCS#12 backup", action,
                 ProviderRestore, true);
  res.cmd->add_option("--file", res.args->file, "the PKCS#12 file")->required();
  res.cmd->add_option("--password", res.args->password, "its password (\"-\": read stdin)")
      ->required();
}

// --- cluster, host -----------------------------------------------------------

int DeleteAndSay(const Args& a, const std::string& path, const std::string& what) {
  return WithClient(a, [&](CenterClient& c) {
    return Show(a, c.Delete(path), [&](const Json&) { std::printf("%s removed\n", what.c_str()); });
  });
}

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

// --- vm ----------------------------------------------------------------------

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

void AddClientCommands(CLI::App& app, Action* action) {
  AddProviderCommands(app, action);
  AddClusterCommands(app, action);
  AddInventoryHostCommands(app, action);
  AddVmCommands(app, action);
  AddMonitoringCommands(app, action);
  AddAccessCommands(app, action);
}

}  // namespace vmcrypt::cli
