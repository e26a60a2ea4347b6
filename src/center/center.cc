// Center: opening, users and roles, key providers. Inventory is in
// inventory.cc, VM tasks in vm_tasks.cc, key pushing and events in
// key_push.cc.
#include "vmcrypt/center/center.h"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>

#include "src/center/center_impl.h"
#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/file_util.h"

namespace vmcrypt::center {

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

Result<std::string> StringField(const Json& body, const char* key, std::string fallback) {
  if (!body.is_object() || !body.contains(key) || body[key].is_null()) return fallback;
  if (!body[key].is_string())
    return InvalidArgumentError(std::string("\"") + key + "\" must be a string");
  return body[key].get<std::string>();
}

Status CheckName(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.' && name[0] != '-';
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      ok = false;
  }
  if (!ok) {
    return InvalidArgumentError(what + " name \"" + name +
                                "\" is not valid: use 1-64 letters, digits, '.', '_' or '-'");
  }
  return OkStatus();
}

Json RedactVm(const Principal& who, Json vm) {
  if (who.Has(priv::kCryptoAccess)) return vm;
  if (vm.contains("key") && !vm["key"].is_null()) vm["key"] = "(hidden)";
  if (vm.contains("disks")) {
    for (Json& d : vm["disks"]) {
      if (d.contains("key") && !d["key"].is_null()) d["key"] = "(hidden)";
    }
  }
  return vm;
}

namespace {

Status MakeDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return InternalError("cannot create " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0700);
  return OkStatus();
}

// What GET /providers shows of a provider document: no sealed blobs, no
// paths to key files, certificates by fingerprint and subject.
Json ProviderView(const Json& doc, const std::string& center_default) {
  Json v = {{"name", doc.value("name", "")},
            {"type", doc.value("type", "")},
            {"default", doc.value("name", "") == center_default}};
  if (doc.value("type", "") == "native") {
    v["tpm_required"] = doc.value("tpm_required", false);
    v["backed_up"] = doc.value("backed_up", false);
    v["usable"] = doc.value("backed_up", false);
    return v;
  }
  Json servers = Json::array();
  bool server_trusted = !doc.value("servers", Json::array()).empty();
  for (const Json& s : doc.value("servers", Json::array())) {
    Json e = {{"address", s.value("address", "")}};
    std::string pem = s.value("pinned_cert", s.value("ca_cert", ""));
    if (s.contains("pinned_cert"))
      e["trust"] = "pinned certificate";
    else if (s.contains("ca_cert"))
      e["trust"] = "CA";
    else {
      e["trust"] = "none";
      server_trusted = false;
    }
    if (!pem.empty()) {
      Result<std::string> fp = CertificateFingerprint(pem);
      if (fp.ok()) e["fingerprint"] = *fp;
    }
    servers.push_back(std::move(e));
  }
  v["servers"] = servers;
  v["server_trusted"] = server_trusted;
  v["client_certificate"] = doc.contains("client_cert");
  v["pending_csr"] = doc.contains("pending_csr");
  v["usable"] = server_trusted && doc.contains("client_cert");
  if (doc.contains("client_cert")) {
    Result<std::string> fp = CertificateFingerprint(doc["client_cert"].get<std::string>());
    if (fp.ok()) v["client_fingerprint"] = *fp;
  }
  return v;
}

}  // namespace

Center::Center(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Center::~Center() { impl_->tasks.reset(); }

Result<std::unique_ptr<Center>> Center::Open(const CenterConfig& config, Logger log) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->log = log ? std::move(log) : [](const std::string&) {};
  if (config.state_dir.empty()) return InvalidArgumentError("center: state_dir is not set");
  RETURN_IF_ERROR(MakeDir(config.state_dir));
  RETURN_IF_ERROR(MakeDir(config.state_dir + "/providers"));
  ASSIGN_OR_RETURN(impl->store, OpenSqliteCenterStore(config.state_dir + "/center.db"));
  impl->authorizer = std::make_unique<Authorizer>(impl->store.get());
  RETURN_IF_ERROR(impl->authorizer->EnsureBuiltinRoles());
  ASSIGN_OR_RETURN(auto root_key, kms::SoftwareRootKey::Load(config.root_key_file));
  impl->root_key = std::move(root_key);
  ASSIGN_OR_RETURN(std::string client_pem, ReadFileToString(config.client_cert_file));
  ASSIGN_OR_RETURN(impl->client_fingerprint, CertificateFingerprint(client_pem));

  // Built-in storage policies and counters.
  RETURN_IF_ERROR(impl->store->Put(
      "policies", "encrypted",
      {{"name", "encrypted"},
       {"encryption", true},
       {"description", "VM home and disks encrypted with a KEK from the key provider"}}));
  RETURN_IF_ERROR(impl->store->Put(
      "policies", "none",
      {{"name", "none"}, {"encryption", false}, {"description", "no encryption"}}));
  for (const char* id : {"task_counter", "defaults"}) {
    if (!impl->store->Get("settings", id).ok()) {
      RETURN_IF_ERROR(impl->store->Put("settings", id, Json::object()));
    }
  }
  Impl* raw = impl.get();
  impl->tasks =
      std::make_unique<TaskRunner>(impl->store.get(), config.task_threads, [raw](const Json& t) {
        bool ok = t.value("state", "") == "success";
        std::string msg = "task " + t.value("id", "") + " (" + t.value("description", "") + ") " +
                          (ok ? "succeeded" : "failed: " + t.value("error", ""));
        raw->Event(ok ? "task.succeeded" : "task.failed", ok ? "info" : "error",
                   t["entity"].value("type", ""), t["entity"].value("name", ""), msg, "", "",
                   t.value("id", ""));
        raw->log(msg);
      });
  RETURN_IF_ERROR(impl->tasks->FailInterrupted());
  return std::unique_ptr<Center>(new Center(std::move(impl)));
}

const CenterConfig& Center::config() const { return impl_->config; }
Authorizer& Center::auth() { return *impl_->authorizer; }
CenterStore& Center::store() { return *impl_->store; }
const std::string& Center::client_fingerprint() const { return impl_->client_fingerprint; }

Result<Json> Center::About(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  return Json{
      {"product", "vmcrypt center"},
      {"version", "0.1.0"},
      {"name", impl_->config.name},
      {"client_fingerprint", impl_->client_fingerprint},
      {"user", who.user},
      {"role", who.role},
      {"privileges", Json(std::vector<std::string>(who.privileges.begin(), who.privileges.end()))}};
}

// --- users and roles ----------------------------------------------------------

Result<Json> Center::ListUsers(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kAuthorizationManage));
  ASSIGN_OR_RETURN(std::vector<Json> users, impl_->authorizer->ListUsers());
  return Json{{"users", users}};
}

Result<Json> Center::AddUser(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kAuthorizationManage));
  ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
  ASSIGN_OR_RETURN(std::string role, StringField(body, "role", std::string(kReadOnlyRole)));
  ASSIGN_OR_RETURN(std::string token, impl_->authorizer->CreateUser(name, role));
  impl_->Event("user.added", "info", "user", name, "user " + name + " added with role " + role);
  return Json{{"name", name}, {"role", role}, {"token", token}};
}

Result<Json> Center::ListRoles(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kAuthorizationManage));
  ASSIGN_OR_RETURN(std::vector<Json> roles, impl_->authorizer->ListRoles());
  return Json{{"roles", roles}};
}

Result<Json> Center::AddRole(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kAuthorizationManage));
  ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
  if (!body.contains("privileges") || !body["privileges"].is_array()) {
    return InvalidArgumentError("\"privileges\" must be an array of privilege names");
  }
  std::vector<std::string> privileges;
  for (const Json& p : body["privileges"]) {
    if (!p.is_string()) return InvalidArgumentError("\"privileges\" must hold strings");
    privileges.push_back(p.get<std::string>());
  }
  RETURN_IF_ERROR(impl_->authorizer->CreateRole(name, privileges));
  return Json{{"name", name}, {"privileges", privileges}, {"builtin", false}};
}

// --- key providers --------------------------------------------------------------

ProviderContext Center::Impl::ContextFor(const std::string& provider) const {
  ProviderContext ctx;
  ctx.root_key = root_key.get();
  ctx.provider_dir = config.state_dir + "/providers/" + provider;
  ctx.timeout = config.kms_timeout;
  return ctx;
}

Result<std::shared_ptr<KeyProvider>> Center::Impl::Provider(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = providers.find(name);
    if (it != providers.end()) return it->second;
  }
  Result<Json> doc = store->Get("providers", name);
  if (!doc.ok()) {
    if (doc.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no key provider named " + name);
    }
    return doc.status();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<KeyProvider> made, MakeKeyProvider(*doc, ContextFor(name)));
  std::shared_ptr<KeyProvider> provider = std::move(made);
  std::lock_guard<std::mutex> lock(mu);
  return providers.emplace(name, provider).first->second;
}

void Center::Impl::ForgetProvider(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu);
  providers.erase(name);
}

Result<std::string> Center::Impl::ResolveProvider(const std::string& requested,
                                                  const std::string& cluster) {
  std::string name = requested;
  if (name.empty() && !cluster.empty()) {
    Result<Json> c = store->Get("clusters", cluster);
    if (c.ok()) name = c->value("default_provider", "");
  }
  if (name.empty()) {
    ASSIGN_OR_RETURN(Json defaults, store->Get("settings", "defaults"));
    name = defaults.value("provider", "");
  }
  if (name.empty()) {
    return FailedPreconditionError(
        "no key provider given and no default set: name one (--provider) or set a default "
        "(vmcrypt provider default NAME)");
  }
  if (!store->Get("providers", name).ok()) return NotFoundError("no key provider named " + name);
  return name;
}

Result<Json> Center::Impl::SubmitKdkPush(const std::string& provider, const std::string& user) {
  Impl* impl = this;
  return tasks->Submit("push-kdk", "provider", provider, user,
                       "push the KDK of " + provider + " to every host",
                       [impl, provider](TaskContext& ctx) -> Result<Json> {
                         ASSIGN_OR_RETURN(std::vector<Json> hosts, impl->store->List("hosts"));
                         RETURN_IF_ERROR(impl->PushKdk(provider, hosts, "", ctx.id()));
                         return Json{{"hosts", hosts.size()}};
                       });
}

Result<Json> Center::ListProviders(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoReadKeyServersInfo));
  ASSIGN_OR_RETURN(std::vector<Json> docs, impl_->store->List("providers"));
  ASSIGN_OR_RETURN(Json defaults, impl_->store->Get("settings", "defaults"));
  Json out = Json::array();
  for (const Json& d : docs) out.push_back(ProviderView(d, defaults.value("provider", "")));
  return Json{{"providers", out}};
}

Result<Json> Center::GetProvider(const Principal& who, const std::string& name) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoReadKeyServersInfo));
  Result<Json> doc = impl_->store->Get("providers", name);
  if (!doc.ok()) return NotFoundError("no key provider named " + name);
  ASSIGN_OR_RETURN(Json defaults, impl_->store->Get("settings", "defaults"));
  return ProviderView(*doc, defaults.value("provider", ""));
}

Result<Json> Center::AddProvider(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeyServers));
  ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
  RETURN_IF_ERROR(CheckName("key provider", name));
  ASSIGN_OR_RETURN(std::string type, StringField(body, "type", "standard"));
  Json doc;
  if (type == "standard") {
    std::vector<std::string> servers;
    for (const Json& s : body.value("servers", Json::array())) {
      if (!s.is_string()) return InvalidArgumentError("\"servers\" must be HOST:PORT strings");
      servers.push_back(s.get<std::string>());
    }
    ASSIGN_OR_RETURN(doc, NewStandardProvider(name, servers));
  } else if (type == "native") {
    bool tpm = body.value("tpm_required", false);
    ASSIGN_OR_RETURN(doc, NewNativeProvider(name, tpm, impl_->root_key.get()));
  } else {
    return InvalidArgumentError("provider type must be \"standard\" or \"native\", not \"" + type +
                                "\"");
  }
  RETURN_IF_ERROR(MakeDir(impl_->ContextFor(name).provider_dir));
  Status inserted = impl_->store->Insert("providers", name, doc);
  if (inserted.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a key provider named " + name + " already exists");
  }
  RETURN_IF_ERROR(inserted);
  // The first provider becomes center's default.
  (void)impl_->store->Update("settings", "defaults", [&](Json& d) {
    if (d.value("provider", "").empty()) d["provider"] = name;
    return OkStatus();
  });
  impl_->Event("provider.added", "info", "provider", name,
               type + " key provider " + name + " added", name);
  if (type == "native") {
    // Every host gets the KDK (hosts added later get it when added).
    ASSIGN_OR_RETURN(Json task, impl_->SubmitKdkPush(name, who.user));
    Json view = ProviderView(doc, "");
    view["task"] = task;
    return view;
  }
  return ProviderView(doc, "");
}

Result<Json> Center::DeleteProvider(const Principal& who, const std::string& name) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeyServers));
  Result<Json> doc = impl_->store->Get("providers", name);
  if (!doc.ok()) return NotFoundError("no key provider named " + name);
  ASSIGN_OR_RETURN(std::vector<Json> vms, impl_->store->List("vms"));
  for (const Json& vm : vms) {
    for (const Json& k : Impl::KeysOfVm(vm)) {
      if (k.value("provider", "") == name) {
        return FailedPreconditionError("key provider " + name + " is in use by VM " +
                                       vm.value("name", "") +
                                       "; decrypt or rekey its VMs before removing it");
      }
    }
  }
  RETURN_IF_ERROR(impl_->store->Delete("providers", name));
  impl_->ForgetProvider(name);
  (void)impl_->store->Update("settings", "defaults", [&](Json& d) {
    if (d.value("provider", "") == name) d.erase("provider");
    return OkStatus();
  });
  if (doc->value("type", "") == "native") {
    // Hosts forget the KDK (best effort; an unreachable host gets an event).
    ASSIGN_OR_RETURN(std::vector<Json> hosts, impl_->store->List("hosts"));
    for (const Json& h : hosts) {
      Result<std::shared_ptr<HostClient>> client = impl_->Host(h.value("name", ""));
      Status s = client.ok() ? (*client)->DeleteKdk(name) : client.status();
      if (!s.ok() && s.code() != StatusCode::kNotFound) {
        impl_->Event("kdk.delete_failed", "warning", "host", h.value("name", ""),
                     "the KDK of native key provider " + name + " could not be removed from host " +
                         h.value("name", "") + ": " + s.message(),
                     name);
      }
    }
  }
  impl_->Event("provider.removed", "info", "provider", name, "key provider " + name + " removed",
               name);
  return Json{{"name", name}, {"removed", true}};
}

Result<Json> Center::TrustProvider(const Principal& who, const std::string& name,
                                   const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeyServers));
  Result<Json> found = impl_->store->Get("providers", name);
  if (!found.ok()) return NotFoundError("no key provider named " + name);
  Json doc = *found;
  if (doc.value("type", "") != "standard") {
    return FailedPreconditionError("key provider " + name +
                                   " is native: trust applies to standard (KMIP) providers");
  }
  ASSIGN_OR_RETURN(std::string action, StringField(body, "action"));
  std::string dir = impl_->ContextFor(name).provider_dir;
  std::string cn = "vmcrypt-center-" + impl_->config.name;
  Json out = {{"name", name}, {"action", action}};
  if (action == "fetch-server-certificates") {
    RETURN_IF_ERROR(TrustFetchServerCertificates(doc, impl_->config.kms_timeout));
  } else if (action == "server-ca") {
    ASSIGN_OR_RETURN(std::string ca, StringField(body, "ca"));
    RETURN_IF_ERROR(TrustServerCa(doc, ca));
  } else if (action == "csr") {
    ASSIGN_OR_RETURN(out["csr"], MakeClientCsr(doc, dir, cn));
  } else if (action == "signed-certificate") {
    ASSIGN_OR_RETURN(std::string cert, StringField(body, "certificate"));
    RETURN_IF_ERROR(ImportSignedClientCertificate(doc, cert));
  } else if (action == "self-signed") {
    ASSIGN_OR_RETURN(out["certificate"], MakeSelfSignedClientCertificate(doc, dir, cn));
  } else if (action == "import") {
    ASSIGN_OR_RETURN(std::string cert, StringField(body, "certificate"));
    ASSIGN_OR_RETURN(std::string key, StringField(body, "key"));
    SecretBytes key_pem(AsBytes(key));
    internal::SecureWipe(key.data(), key.size());
    RETURN_IF_ERROR(ImportClientCertificateAndKey(doc, dir, cert, key_pem));
  } else {
    return InvalidArgumentError(
        "unknown trust action \"" + action +
        "\": use fetch-server-certificates, server-ca, csr, signed-certificate, self-signed or "
        "import");
  }
  RETURN_IF_ERROR(impl_->store->Put("providers", name, doc));
  impl_->ForgetProvider(name);
  impl_->Event("provider.trust", "info", "provider", name,
               "trust set-up of key provider " + name + ": " + action, name);
  ASSIGN_OR_RETURN(Json defaults, impl_->store->Get("settings", "defaults"));
  out["provider"] = ProviderView(doc, defaults.value("provider", ""));
  return out;
}

Result<Json> Center::SetDefaultProvider(const Principal& who, const std::string& name,
                                        const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeyServers));
  if (!impl_->store->Get("providers", name).ok()) {
    return NotFoundError("no key provider named " + name);
  }
  ASSIGN_OR_RETURN(std::string cluster, StringField(body, "cluster"));
  if (!cluster.empty()) {
    Result<Json> c = impl_->store->Update("clusters", cluster, [&](Json& doc) {
      doc["default_provider"] = name;
      return OkStatus();
    });
    if (!c.ok()) return NotFoundError("no cluster named " + cluster);
    return Json{{"provider", name}, {"cluster", cluster}};
  }
  RETURN_IF_ERROR(impl_->store
                      ->Update("settings", "defaults",
                               [&](Json& d) {
                                 d["provider"] = name;
                                 return OkStatus();
                               })
                      .status());
  return Json{{"provider", name}, {"cluster", nullptr}};
}

Result<Json> Center::ExportProvider(const Principal& who, const std::string& name,
                                    const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeyServers));
  ASSIGN_OR_RETURN(std::string password, StringField(body, "password"));
  std::vector<uint8_t> p12;
  Result<Json> doc = impl_->store->Update("providers", name, [&](Json& d) -> Status {
    if (d.value("type", "") != "native") {
      return FailedPreconditionError("key provider " + name +
                                     " is standard: only native providers are exported");
    }
    ASSIGN_OR_RETURN(p12, ExportNativeProvider(d, impl_->root_key.get(), password));
    return OkStatus();
  });
  internal::SecureWipe(password.data(), password.size());
  if (!doc.ok() && doc.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no key provider named " + name);
  }
  RETURN_IF_ERROR(doc.status());
  impl_->ForgetProvider(name);
  impl_->Event("provider.exported", "info", "provider", name,
               "native key provider " + name + " backed up (PKCS#12 export)", name);
  return Json{{"name", name}, {"pkcs12", Base64Encode(p12)}};
}

Result<Json> Center::RestoreProvider(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeyServers));
  ASSIGN_OR_RETURN(std::string b64, StringField(body, "pkcs12"));
  ASSIGN_OR_RETURN(std::string password, StringField(body, "password"));
  ASSIGN_OR_RETURN(std::vector<uint8_t> p12, Base64Decode(b64));
  Result<Json> doc = RestoreNativeProvider(p12, password, impl_->root_key.get());
  internal::SecureWipe(password.data(), password.size());
  RETURN_IF_ERROR(doc.status());
  std::string name = doc->value("name", "");
  RETURN_IF_ERROR(CheckName("key provider", name));
  RETURN_IF_ERROR(MakeDir(impl_->ContextFor(name).provider_dir));
  // Never over an existing provider: its KDK may differ, and the VMs whose
  // keys it derives would be lost.
  Status inserted = impl_->store->Insert("providers", name, *doc);
  if (inserted.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a key provider named " + name +
                              " already exists; the backup is not restored over it");
  }
  RETURN_IF_ERROR(inserted);
  impl_->ForgetProvider(name);
  impl_->Event("provider.restored", "info", "provider", name,
               "native key provider " + name + " restored from a backup", name);
  ASSIGN_OR_RETURN(Json task, impl_->SubmitKdkPush(name, who.user));
  Json view = ProviderView(*doc, "");
  view["task"] = task;
  return view;
}

// --- tasks, events, alarms ----------------------------------------------------------

Result<Json> Center::ListTasks(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  ASSIGN_OR_RETURN(std::vector<Json> tasks, impl_->store->List("tasks"));
  return Json{{"tasks", tasks}};
}

Result<Json> Center::GetTask(const Principal& who, const std::string& id,
                             std::chrono::milliseconds wait) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  Result<Json> task = impl_->tasks->Wait(id, wait);
  if (!task.ok() && task.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no task " + id);
  }
  return task;
}

Result<Json> Center::ListEvents(const Principal& who, int64_t after, size_t limit) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  if (after > 0) {
    ASSIGN_OR_RETURN(std::vector<Json> events, impl_->store->ListEvents(after, limit));
    return Json{{"events", events}};
  }
  // Without `after`: the newest `limit` events, oldest first.
  ASSIGN_OR_RETURN(std::vector<Json> events, impl_->store->ListRecentEvents(limit));
  return Json{{"events", events}};
}

Result<Json> Center::ListAlarms(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  ASSIGN_OR_RETURN(std::vector<Json> alarms, impl_->store->List("alarms"));
  return Json{{"alarms", alarms}};
}

}  // namespace vmcrypt::center
