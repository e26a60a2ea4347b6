// Inventory: clusters, hosts (added by address and pinned certificate
// fingerprint), storage policies, VM listings, host encryption mode, key
// status.
#include "src/center/center_impl.h"

namespace vmcrypt::center {

Result<std::shared_ptr<HostClient>> Center::Impl::Host(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = hosts.find(name);
    if (it != hosts.end()) return it->second;
  }
  Result<Json> doc = store->Get("hosts", name);
  if (!doc.ok()) return NotFoundError("no host named " + name);
  ASSIGN_OR_RETURN(
      std::unique_ptr<HostClient> made,
      HostClient::Create({name, doc->value("address", ""), doc->value("fingerprint", "")},
                         {config.client_cert_file, config.client_key_file}, config.host_timeout));
  std::shared_ptr<HostClient> client = std::move(made);
  std::lock_guard<std::mutex> lock(mu);
  return hosts.emplace(name, client).first->second;
}

void Center::Impl::ForgetHost(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu);
  hosts.erase(name);
}

Result<std::vector<Json>> Center::Impl::HostsOfCluster(const std::string& cluster) {
  ASSIGN_OR_RETURN(std::vector<Json> all, store->List("hosts"));
  std::vector<Json> out;
  for (Json& h : all) {
    if (h.value("cluster", "") == cluster) out.push_back(std::move(h));
  }
  return out;
}

Result<Json> Center::ListClusters(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  ASSIGN_OR_RETURN(std::vector<Json> clusters, impl_->store->List("clusters"));
  for (Json& c : clusters) {
    ASSIGN_OR_RETURN(std::vector<Json> hosts, impl_->HostsOfCluster(c.value("name", "")));
    Json names = Json::array();
    for (const Json& h : hosts) names.push_back(h.value("name", ""));
    c["hosts"] = names;
  }
  return Json{{"clusters", clusters}};
}

Result<Json> Center::AddCluster(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kInventoryManage));
  ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
  RETURN_IF_ERROR(CheckName("cluster", name));
  Json doc = {{"name", name}, {"default_provider", ""}, {"created", NowRfc3339()}};
  Status s = impl_->store->Insert("clusters", name, doc);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a cluster named " + name + " already exists");
  }
  RETURN_IF_ERROR(s);
  impl_->Event("cluster.added", "info", "cluster", name, "cluster " + name + " added");
  return doc;
}

Result<Json> Center::DeleteCluster(const Principal& who, const std::string& name) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kInventoryManage));
  if (!impl_->store->Get("clusters", name).ok()) return NotFoundError("no cluster named " + name);
  ASSIGN_OR_RETURN(std::vector<Json> hosts, impl_->HostsOfCluster(name));
  if (!hosts.empty()) {
    return FailedPreconditionError("cluster " + name + " still has " +
                                   std::to_string(hosts.size()) + " host(s); remove them first");
  }
  RETURN_IF_ERROR(impl_->store->Delete("clusters", name));
  impl_->Event("cluster.removed", "info", "cluster", name, "cluster " + name + " removed");
  return Json{{"name", name}, {"removed", true}};
}

Result<Json> Center::ListHosts(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  ASSIGN_OR_RETURN(std::vector<Json> hosts, impl_->store->List("hosts"));
  ASSIGN_OR_RETURN(std::vector<Json> vms, impl_->store->List("vms"));
  for (Json& h : hosts) {
    int n = 0;
    for (const Json& vm : vms) n += vm.value("host", "") == h.value("name", "");
    h["vms"] = n;
    if (!who.Has(priv::kCryptoAccess) && h["encryption_mode"].contains("key")) {
      h["encryption_mode"]["key"] = "(hidden)";
    }
  }
  return Json{{"hosts", hosts}};
}

Result<Json> Center::GetHost(const Principal& who, const std::string& name) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  Result<Json> doc = impl_->store->Get("hosts", name);
  if (!doc.ok()) return NotFoundError("no host named " + name);
  Json h = *doc;
  // Live state from the host itself.
  Result<std::shared_ptr<HostClient>> client = impl_->Host(name);
  Result<Json> status = client.ok() ? (*client)->GetStatus() : Result<Json>(client.status());
  if (status.ok()) {
    h["connection"] = "connected";
    h["status"] = *status;
  } else {
    h["connection"] = "unreachable";
    h["connection_error"] = status.status().message();
  }
  if (!who.Has(priv::kCryptoAccess) && h["encryption_mode"].contains("key")) {
    h["encryption_mode"]["key"] = "(hidden)";
  }
  return h;
}

Result<Json> Center::AddHost(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kInventoryManage));
  ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
  RETURN_IF_ERROR(CheckName("host", name));
  ASSIGN_OR_RETURN(std::string address, StringField(body, "address"));
  ASSIGN_OR_RETURN(std::string fingerprint, StringField(body, "fingerprint"));
  ASSIGN_OR_RETURN(std::string cluster, StringField(body, "cluster"));
  if (address.empty() || fingerprint.empty()) {
    return InvalidArgumentError(
        "a host is added by \"address\" (HOST:PORT) and \"fingerprint\" (the SHA-256 "
        "fingerprint of its certificate)");
  }
  if (!impl_->store->Get("clusters", cluster).ok()) {
    return NotFoundError("no cluster named \"" + cluster + "\"; add it first");
  }
  if (impl_->store->Get("hosts", name).ok()) {
    return AlreadyExistsError("a host named " + name + " already exists");
  }
  // Connect before recording: the address answers, the certificate matches
  // the fingerprint, and the host trusts center's client certificate.
  ASSIGN_OR_RETURN(
      std::unique_ptr<HostClient> client,
      HostClient::Create({name, address, fingerprint},
                         {impl_->config.client_cert_file, impl_->config.client_key_file},
                         impl_->config.host_timeout));
  ASSIGN_OR_RETURN(Json status, client->GetStatus());
  Json doc = {{"name", name},
              {"address", address},
              {"fingerprint", fingerprint},
              {"cluster", cluster},
              {"host_name", status.value("name", "")},
              {"tpm", status.value("tpm", false)},
              {"encryption_mode", {{"enabled", false}}},
              {"added", NowRfc3339()}};
  RETURN_IF_ERROR(impl_->store->Insert("hosts", name, doc));
  impl_->ForgetHost(name);
  impl_->Event("host.added", "info", "host", name,
               "host " + name + " (" + address + ") added to cluster " + cluster);
  // Native providers' KDKs go to every host.
  Impl* impl = impl_.get();
  ASSIGN_OR_RETURN(
      Json task,
      impl_->tasks->Submit("register-host", "host", name, who.user,
                           "push the native key providers' KDKs to host " + name,
                           [impl, doc](TaskContext& ctx) -> Result<Json> {
                             ASSIGN_OR_RETURN(std::vector<Json> providers,
                                              impl->store->List("providers"));
                             Json pushed = Json::array();
                             for (const Json& p : providers) {
                               if (p.value("type", "") != "native") continue;
                               std::string pname = p.value("name", "");
                               RETURN_IF_ERROR(impl->PushKdk(pname, {doc}, doc["name"], ctx.id()));
                               pushed.push_back(pname);
                             }
                             return Json{{"kdks", pushed}};
                           }));
  doc["task"] = task;
  return doc;
}

Result<Json> Center::RemoveHost(const Principal& who, const std::string& name) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kInventoryManage));
  if (!impl_->store->Get("hosts", name).ok()) return NotFoundError("no host named " + name);
  ASSIGN_OR_RETURN(std::vector<Json> vms, impl_->store->List("vms"));
  for (const Json& vm : vms) {
    if (vm.value("host", "") == name) {
      return FailedPreconditionError("host " + name + " still runs VM " + vm.value("name", "") +
                                     "; move or delete its VMs first");
    }
  }
  RETURN_IF_ERROR(impl_->store->Delete("hosts", name));
  impl_->ForgetHost(name);
  impl_->Event("host.removed", "info", "host", name, "host " + name + " removed");
  return Json{{"name", name}, {"removed", true}};
}

Result<Json> Center::ListPolicies(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  ASSIGN_OR_RETURN(std::vector<Json> policies, impl_->store->List("policies"));
  return Json{{"policies", policies}};
}

Result<Json> Center::ListVms(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  ASSIGN_OR_RETURN(std::vector<Json> vms, impl_->store->List("vms"));
  Json out = Json::array();
  for (Json& vm : vms) out.push_back(RedactVm(who, std::move(vm)));
  return Json{{"vms", out}};
}

Result<Json> Center::GetVm(const Principal& who, const std::string& name) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kSystemView));
  Result<Json> vm = impl_->store->Get("vms", name);
  if (!vm.ok()) return NotFoundError("no VM named " + name);
  return RedactVm(who, *vm);
}

Result<Json> Center::EnableHostEncryption(const Principal& who, const std::string& host,
                                          const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoRegisterHost));
  Result<Json> doc = impl_->store->Get("hosts", host);
  if (!doc.ok()) return NotFoundError("no host named " + host);
  ASSIGN_OR_RETURN(std::string requested, StringField(body, "provider"));
  ASSIGN_OR_RETURN(std::string provider,
                   impl_->ResolveProvider(requested, doc->value("cluster", "")));
  Impl* impl = impl_.get();
  return impl_->tasks->Submit(
      "host-encryption", "host", host, who.user,
      "enable host encryption mode on " + host + " with provider " + provider,
      [impl, host, provider](TaskContext& ctx) -> Result<Json> {
        ASSIGN_OR_RETURN(Json h, impl->store->Get("hosts", host));
        ASSIGN_OR_RETURN(std::shared_ptr<KeyProvider> p, impl->Provider(provider));
        ctx.Progress(10, "creating the host key");
        Result<std::string> id = p->CreateKey();
        if (!id.ok()) return id.status();
        RETURN_IF_ERROR(p->TagKey(*id, {"Host", host, h.value("host_name", host)}));
        Json key = {{"provider", provider}, {"key_id", *id}};
        ctx.Progress(50, "pushing the host key");
        RETURN_IF_ERROR(impl->EnsureKeysOnHost(h, {key}, ctx.id()));
        ASSIGN_OR_RETURN(std::shared_ptr<HostClient> client, impl->Host(host));
        ASSIGN_OR_RETURN(Json mode, client->Call("PUT", "/v1/encryption-mode", &key));
        ASSIGN_OR_RETURN(Json updated, impl->store->Update("hosts", host, [&](Json& d) {
          d["encryption_mode"] = {{"enabled", true}, {"key", key}, {"since", NowRfc3339()}};
          d["crypto_state"] = "safe";
          return OkStatus();
        }));
        return updated;
      });
}

Result<Json> Center::KeyStatus(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeys));
  return impl_->KeyStatus();
}

Result<Json> Center::KeyStatusTask(const Principal& who) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoManageKeys));
  Impl* impl = impl_.get();
  return impl_->tasks->Submit("key-status", "center", impl_->config.name, who.user,
                              "check the status of every key in use",
                              [impl](TaskContext&) { return impl->KeyStatus(); });
}

}  // namespace vmcrypt::center
