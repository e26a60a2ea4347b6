// Getting keys to hosts (seed 000 step 3: center requests the KEK from the
// key provider and pushes it to every host of the cluster), and the events
// and alarms of seed 000's "key errors".
#include <future>
#include <set>

#include "src/center/center_impl.h"

namespace vmcrypt::center {
namespace {

std::string KeyText(const std::string& provider, const std::string& key_id) {
  return "key " + key_id + " of provider " + provider;
}

}  // namespace

void Center::Impl::Event(const std::string& type, const std::string& severity,
                         const std::string& entity_type, const std::string& entity_name,
                         const std::string& message, const std::string& provider,
                         const std::string& key_id, const std::string& task_id) {
  Json e = {{"time", NowRfc3339()}, {"type", type},
            {"severity", severity}, {"entity", {{"type", entity_type}, {"name", entity_name}}},
            {"provider", provider}, {"key_id", key_id},
            {"message", message},   {"task", task_id}};
  Result<int64_t> id = store->AppendEvent(std::move(e));
  if (!id.ok()) log("cannot record event (" + message + "): " + id.status().ToString());
  if (severity != "info") log("event " + type + ": " + message);
}

void Center::Impl::RaiseAlarm(const std::string& type, const std::string& entity_type,
                              const std::string& entity_name, const std::string& message,
                              const std::string& provider, const std::string& key_id) {
  std::string id = type + ":" + entity_type + ":" + entity_name;
  Json a = {{"id", id},
            {"type", type},
            {"entity", {{"type", entity_type}, {"name", entity_name}}},
            {"provider", provider},
            {"key_id", key_id},
            {"message", message},
            {"time", NowRfc3339()}};
  Status s = store->Put("alarms", id, a);
  if (!s.ok()) log("cannot record alarm " + id + ": " + s.ToString());
}

void Center::Impl::ClearAlarm(const std::string& type, const std::string& entity_type,
                              const std::string& entity_name) {
  std::string id = type + ":" + entity_type + ":" + entity_name;
  if (store->Delete("alarms", id).ok()) {
    Event("alarm.cleared", "info", entity_type, entity_name, "alarm " + type + " cleared");
  }
}

// Records what a failed key-provider call means (seed 000 key errors).
static void ReportProviderFailure(Center::Impl& impl, const std::string& provider,
                                  const std::string& key_id, const Status& s,
                                  const std::string& task_id) {
  if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
    std::string msg = "key server cluster " + provider + " is unreachable: " + s.message();
    impl.Event("kms.unreachable", "error", "provider", provider, msg, provider, key_id, task_id);
    impl.RaiseAlarm("kms.unreachable", "provider", provider, msg, provider, key_id);
    return;
  }
  // The provider answered with an error: is the key gone (never existed,
  // destroyed, ...)? Ask it directly.
  bool missing = s.code() == StatusCode::kNotFound;
  std::string why = s.message();
  if (!missing && !key_id.empty()) {
    Result<std::shared_ptr<KeyProvider>> p = impl.Provider(provider);
    if (p.ok()) {
      KeyCheck check = (*p)->CheckKey(key_id);
      missing = check.state == KeyState::kMissing;
      if (missing) why = check.reason;
    }
  }
  if (missing) {
    std::string msg =
        "keys are missing on KMS cluster " + provider + ": " + key_id + " (" + why + ")";
    impl.Event("key.missing", "error", "provider", provider, msg, provider, key_id, task_id);
    impl.RaiseAlarm("key.missing", "key", provider + "/" + key_id, msg, provider, key_id);
  }
}

Status Center::Impl::PushKey(const std::string& provider, const std::string& key_id,
                             const std::vector<Json>& target_hosts,
                             const std::string& required_host, const std::string& task_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<KeyProvider> p, Provider(provider));
  if (p->type() == "native") return PushKdk(provider, target_hosts, required_host, task_id);
  Result<SecretBytes> key = p->GetKey(key_id);
  if (!key.ok()) {
    ReportProviderFailure(*this, provider, key_id, key.status(), task_id);
    return Status(key.status().code(),
                  "cannot get " + KeyText(provider, key_id) + ": " + key.status().message());
  }
  ClearAlarm("kms.unreachable", "provider", provider);

  return FanOut(target_hosts, required_host, KeyText(provider, key_id), provider, key_id, task_id,
                [&](HostClient& client) { return client.PutKey(provider, key_id, *key); });
}

Status Center::Impl::PushKdk(const std::string& provider, const std::vector<Json>& target_hosts,
                             const std::string& required_host, const std::string& task_id) {
  ASSIGN_OR_RETURN(Json doc, store->Get("providers", provider));
  ASSIGN_OR_RETURN(SecretBytes kdk, NativeKdk(doc, root_key.get()));
  bool tpm_required = doc.value("tpm_required", false);
  return FanOut(target_hosts, required_host, "the KDK of native key provider " + provider, provider,
                "", task_id,
                [&](HostClient& client) { return client.PutKdk(provider, kdk, tpm_required); });
}

Status Center::Impl::FanOut(const std::vector<Json>& target_hosts, const std::string& required_host,
                            const std::string& what, const std::string& provider,
                            const std::string& key_id, const std::string& task_id,
                            const std::function<Status(HostClient&)>& push) {
  // In parallel: one thread per host (hosts answer in milliseconds; a dead
  // one costs its timeout, not the others').
  std::vector<std::future<Status>> pushes;
  for (const Json& h : target_hosts) {
    std::string name = h.value("name", "");
    pushes.push_back(std::async(std::launch::async, [this, name, &push]() -> Status {
      ASSIGN_OR_RETURN(std::shared_ptr<HostClient> client, Host(name));
      return push(*client);
    }));
  }
  Status required = OkStatus();
  for (size_t i = 0; i < pushes.size(); ++i) {
    Status s = pushes[i].get();
    std::string name = target_hosts[i].value("name", "");
    if (s.ok()) {
      ClearAlarm("key.push_failed", "host", name);
      continue;
    }
    std::string why = s.code() == StatusCode::kUnavailable ? "unreachable" : "incompatible";
    std::string msg =
        what + " could not be pushed to host " + name + " (" + why + "): " + s.message();
    Event("key.push_failed", "warning", "host", name, msg, provider, key_id, task_id);
    RaiseAlarm("key.push_failed", "host", name, msg, provider, key_id);
    if (name == required_host) required = Status(s.code(), msg);
  }
  return required;
}

Status Center::Impl::EnsureKeysOnHost(const Json& host, const std::vector<Json>& keys,
                                      const std::string& task_id) {
  if (keys.empty()) return OkStatus();
  std::string name = host.value("name", "");
  ASSIGN_OR_RETURN(std::shared_ptr<HostClient> client, Host(name));
  ASSIGN_OR_RETURN(Json held, client->Call("GET", "/v1/keys"));
  ASSIGN_OR_RETURN(Json kdks, client->Call("GET", "/v1/kdks"));
  std::set<std::pair<std::string, std::string>> have;
  for (const Json& k : held.value("keys", Json::array())) {
    have.insert({k.value("provider", ""), k.value("key_id", "")});
  }
  std::set<std::string> have_kdk;
  for (const Json& k : kdks.value("kdks", Json::array())) have_kdk.insert(k.value("provider", ""));
  std::set<std::pair<std::string, std::string>> done;
  for (const Json& k : keys) {
    std::string provider = k.value("provider", "");
    std::string key_id = k.value("key_id", "");
    if (have.count({provider, key_id}) || !done.insert({provider, key_id}).second) continue;
    Result<Json> doc = store->Get("providers", provider);
    if (!doc.ok()) {
      return NotFoundError("the key provider " + provider + " of " + KeyText(provider, key_id) +
                           " is not configured in center");
    }
    if (doc->value("type", "") == "native") {
      if (have_kdk.count(provider)) continue;
      RETURN_IF_ERROR(PushKdk(provider, {host}, name, task_id));
      have_kdk.insert(provider);
    } else {
      RETURN_IF_ERROR(PushKey(provider, key_id, {host}, name, task_id));
    }
  }
  return OkStatus();
}

Result<Json> Center::Impl::NewKeyFor(const std::string& provider, const KeyTag& tag,
                                     const std::string& cluster, const std::string& required_host,
                                     const std::string& task_id) {
  ASSIGN_OR_RETURN(std::shared_ptr<KeyProvider> p, Provider(provider));
  Result<std::string> id = p->CreateKey();
  if (!id.ok()) {
    ReportProviderFailure(*this, provider, "", id.status(), task_id);
    return Status(id.status().code(),
                  "cannot create a key with provider " + provider + ": " + id.status().message());
  }
  Status tagged = p->TagKey(*id, tag);
  if (!tagged.ok()) {
    ReportProviderFailure(*this, provider, *id, tagged, task_id);
    return Status(tagged.code(), "cannot tag " + KeyText(provider, *id) + ": " + tagged.message());
  }
  ASSIGN_OR_RETURN(std::vector<Json> hosts, HostsOfCluster(cluster));
  if (p->type() == "native") {
    ASSIGN_OR_RETURN(Json host, store->Get("hosts", required_host));
    RETURN_IF_ERROR(EnsureKeysOnHost(host, {{{"provider", provider}, {"key_id", *id}}}, task_id));
  } else {
    RETURN_IF_ERROR(PushKey(provider, *id, hosts, required_host, task_id));
  }
  return Json{{"provider", provider}, {"key_id", *id}};
}

Result<Json> Center::Impl::KeyStatus() {
  struct Use {
    std::set<std::string> vms;
    std::set<std::string> hosts;  // hosts that should hold it
  };
  std::map<std::pair<std::string, std::string>, Use> uses;
  ASSIGN_OR_RETURN(std::vector<Json> vms, store->List("vms"));
  for (const Json& vm : vms) {
    std::vector<Json> cluster_hosts;
    Result<std::vector<Json>> hs = HostsOfCluster(vm.value("cluster", ""));
    if (hs.ok()) cluster_hosts = *hs;
    for (const Json& k : KeysOfVm(vm)) {
      Use& u = uses[{k.value("provider", ""), k.value("key_id", "")}];
      u.vms.insert(vm.value("name", ""));
      for (const Json& h : cluster_hosts) u.hosts.insert(h.value("name", ""));
    }
  }
  ASSIGN_OR_RETURN(std::vector<Json> hosts, store->List("hosts"));
  for (const Json& h : hosts) {
    const Json& mode = h.value("encryption_mode", Json::object());
    if (mode.value("enabled", false)) {
      uses[{mode["key"].value("provider", ""), mode["key"].value("key_id", "")}].hosts.insert(
          h.value("name", ""));
    }
  }
  // What each host holds (ids only), asked once per host.
  std::map<std::string, std::optional<std::set<std::pair<std::string, std::string>>>> held;
  std::map<std::string, std::set<std::string>> held_kdk;
  for (const Json& h : hosts) {
    std::string name = h.value("name", "");
    Result<std::shared_ptr<HostClient>> client = Host(name);
    if (!client.ok()) continue;
    Result<Json> keys = (*client)->Call("GET", "/v1/keys");
    Result<Json> kdks = (*client)->Call("GET", "/v1/kdks");
    if (!keys.ok() || !kdks.ok()) {
      held[name] = std::nullopt;
      continue;
    }
    std::set<std::pair<std::string, std::string>> set;
    for (const Json& k : keys->value("keys", Json::array())) {
      set.insert({k.value("provider", ""), k.value("key_id", "")});
    }
    held[name] = set;
    for (const Json& k : kdks->value("kdks", Json::array())) {
      held_kdk[name].insert(k.value("provider", ""));
    }
  }
  Json out = Json::array();
  for (const auto& [ref, use] : uses) {
    const auto& [provider, key_id] = ref;
    KeyCheck check{KeyState::kUnusable, "key provider " + provider + " is not configured"};
    Result<std::shared_ptr<KeyProvider>> p = Provider(provider);
    bool native = false;
    if (p.ok()) {
      check = (*p)->CheckKey(key_id);
      native = (*p)->type() == "native";
    }
    Json on_hosts = Json::array();
    for (const std::string& h : use.hosts) {
      std::string state;
      auto it = held.find(h);
      if (it == held.end() || !it->second)
        state = "host unreachable";
      else if (it->second->count(ref) || (native && held_kdk[h].count(provider)))
        state = "present";
      else
        state = "not pushed (pushed again when needed)";
      on_hosts.push_back({{"host", h}, {"state", state}});
    }
    out.push_back({{"provider", provider},
                   {"key_id", key_id},
                   {"state", KeyStateName(check.state)},
                   {"available", check.state == KeyState::kAvailable},
                   {"reason", check.reason},
                   {"vms", Json(std::vector<std::string>(use.vms.begin(), use.vms.end()))},
                   {"hosts", Json(std::vector<std::string>(use.hosts.begin(), use.hosts.end()))},
                   {"on_hosts", on_hosts}});
  }
  return Json{{"keys", out}};
}

}  // namespace vmcrypt::center
