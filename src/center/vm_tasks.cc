// VM tasks: create, encrypt, decrypt, rekey, register, move, open, close,
// delete, and one-disk encrypt/decrypt. Center asks the VM's host to do the
// work after making sure the host holds every key the VM needs (pushing
// what it lacks: a restarted host has none). Center's VM document mirrors
// what the host reports; it holds key ids, never key bytes.
#include "src/center/center_impl.h"

namespace vmcrypt::center {
namespace {

Json KeyOrNull(const Json& j) {
  if (j.is_object() && j.contains("key_id")) {
    return {{"provider", j.value("provider", "")}, {"key_id", j.value("key_id", "")}};
  }
  return nullptr;
}

// The host's response, or its error prefixed with what center was doing.
Status Doing(const std::string& what, const Status& s) {
  if (s.ok()) return s;
  return Status(s.code(), what + ": " + s.message());
}

}  // namespace

std::vector<Json> Center::Impl::KeysOfVm(const Json& vm) {
  std::vector<Json> keys;
  auto add = [&](const Json& k) {
    Json ref = KeyOrNull(k);
    if (ref.is_null()) return;
    for (const Json& have : keys) {
      if (have == ref) return;
    }
    keys.push_back(ref);
  };
  if (vm.contains("key")) add(vm["key"]);
  for (const Json& d : vm.value("disks", Json::array())) {
    if (d.contains("key")) add(d["key"]);
  }
  return keys;
}

Result<Json> Center::Impl::SyncVm(const std::string& name, const Json& host_vm) {
  return store->Update("vms", name, [&](Json& vm) {
    vm["encrypted"] = host_vm.value("encrypted", false);
    vm["key"] = KeyOrNull(host_vm.value("key", Json()));
    vm["vtpm"] = host_vm.value("vtpm", false);
    vm["state"] = host_vm.value("open", false) ? "open" : "closed";
    Json disks = Json::array();
    for (const Json& d : host_vm.value("disks", Json::array())) {
      Json disk = {{"name", d.value("name", "")},
                   {"size", d.value("size", uint64_t{0})},
                   {"encrypted", d.value("encrypted", false)},
                   {"key", KeyOrNull(d.value("key", Json()))}};
      if (d.contains("nbd_uri")) disk["nbd_uri"] = d["nbd_uri"];
      disks.push_back(std::move(disk));
    }
    vm["disks"] = disks;
    vm["updated"] = NowRfc3339();
    return OkStatus();
  });
}

Result<Json> Center::CreateVm(const Principal& who, const Json& body) {
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kVmCreate));
  ASSIGN_OR_RETURN(std::string name, StringField(body, "name"));
  RETURN_IF_ERROR(CheckName("VM", name));
  ASSIGN_OR_RETURN(std::string policy, StringField(body, "policy", "none"));
  Result<Json> policy_doc = impl_->store->Get("policies", policy);
  if (!policy_doc.ok()) {
    return InvalidArgumentError("no storage policy named \"" + policy +
                                "\" (the policies are \"encrypted\" and \"none\")");
  }
  bool vtpm = body.value("vtpm", false);
  bool encrypted = policy_doc->value("encryption", false) || vtpm;  // a vTPM forces encryption
  if (encrypted) RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoEncryptNew));
  if (!body.contains("disks") || !body["disks"].is_array()) {
    return InvalidArgumentError("\"disks\" must be an array of sizes in bytes");
  }
  for (const Json& d : body["disks"]) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() == 0) {
      return InvalidArgumentError("each disk size must be a positive number of bytes");
    }
  }
  ASSIGN_OR_RETURN(std::string host, StringField(body, "host"));
  if (host.empty()) {
    // Placement: the host with the fewest VMs.
    ASSIGN_OR_RETURN(std::vector<Json> hosts, impl_->store->List("hosts"));
    ASSIGN_OR_RETURN(std::vector<Json> vms, impl_->store->List("vms"));
    size_t best = SIZE_MAX;
    for (const Json& h : hosts) {
      size_t n = 0;
      for (const Json& vm : vms) n += vm.value("host", "") == h.value("name", "");
      if (n < best) {
        best = n;
        host = h.value("name", "");
      }
    }
    if (host.empty())
      return FailedPreconditionError("there is no host to place the VM on; add one");
  }
  Result<Json> host_doc = impl_->store->Get("hosts", host);
  if (!host_doc.ok()) return NotFoundError("no host named " + host);
  std::string cluster = host_doc->value("cluster", "");
  std::string provider;
  if (encrypted) {
    ASSIGN_OR_RETURN(std::string requested, StringField(body, "provider"));
    ASSIGN_OR_RETURN(provider, impl_->ResolveProvider(requested, cluster));
  }
  Json vm = {{"name", name},     {"host", host},           {"cluster", cluster},
             {"policy", policy}, {"vtpm", vtpm},           {"encrypted", encrypted},
             {"key", nullptr},   {"disks", Json::array()}, {"state", "creating"},
             {"locked", false},  {"locked_reason", ""},    {"created", NowRfc3339()}};
  Status s = impl_->store->Insert("vms", name, vm);
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("a VM named " + name + " already exists");
  }
  RETURN_IF_ERROR(s);
  Impl* impl = impl_.get();
  Json disks = body["disks"];
  std::string what =
      std::string(encrypted ? "create encrypted VM " : "create VM ") + name + " on " + host;
  return impl_->tasks->Submit(
      "vm-create", "vm", name, who.user, what,
      [impl, name, host, cluster, provider, encrypted, vtpm,
       disks](TaskContext& ctx) -> Result<Json> {
        Json spec = {{"name", name}, {"disks", disks}, {"encrypted", encrypted}, {"vtpm", vtpm}};
        Result<Json> created = [&]() -> Result<Json> {
          if (encrypted) {
            ctx.Progress(10, "creating the VM's key with provider " + provider);
            ASSIGN_OR_RETURN(
                Json key, impl->NewKeyFor(provider, {"VM", name, name}, cluster, host, ctx.id()));
            spec["provider"] = key["provider"];
            spec["key_id"] = key["key_id"];
          }
          ctx.Progress(50, "creating the VM on host " + host);
          ASSIGN_OR_RETURN(std::shared_ptr<HostClient> client, impl->Host(host));
          return client->Call("POST", "/v1/vms", &spec);
        }();
        if (!created.ok()) {
          (void)impl->store->Delete("vms", name);  // frees the name; nothing was made
          return created.status();
        }
        return impl->SyncVm(name, *created);
      });
}

Result<Json> Center::VmAction(const Principal& who, const std::string& name,
                              const std::string& action, const Json& body) {
  Result<Json> vm = impl_->store->Get("vms", name);
  std::string_view needed;
  if (action == "encrypt")
    needed = priv::kCryptoEncrypt;
  else if (action == "decrypt")
    needed = priv::kCryptoDecrypt;
  else if (action == "rekey")
    needed = priv::kCryptoRecrypt;
  else if (action == "register")
    needed = priv::kCryptoRegisterVm;
  else if (action == "move")
    needed = priv::kVmMigrate;
  else if (action == "open" || action == "close")
    needed = priv::kVmInteract;
  else if (action == "delete")
    needed = priv::kVmDelete;
  else {
    return NotFoundError("unknown VM action \"" + action +
                         "\": encrypt, decrypt, rekey, register, move, open, close or delete");
  }
  RETURN_IF_ERROR(Authorizer::Check(who, needed));
  if (!vm.ok()) return NotFoundError("no VM named " + name);
  if (action == "move" && vm->value("encrypted", false)) {
    RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoMigrate));
  }
  // Checks that can fail before queueing.
  std::string provider;
  if (action == "encrypt" || (action == "rekey" && body.value("mode", "") == "shallow")) {
    ASSIGN_OR_RETURN(std::string requested, StringField(body, "provider"));
    if (requested.empty() && action == "rekey" && vm->contains("key") &&
        vm->at("key").is_object()) {
      requested = (*vm)["key"].value("provider", "");
    }
    ASSIGN_OR_RETURN(provider, impl_->ResolveProvider(requested, vm->value("cluster", "")));
  }
  if (action == "rekey") {
    std::string mode = body.value("mode", "");
    if (mode != "shallow" && mode != "deep") {
      return InvalidArgumentError("rekey \"mode\" must be \"shallow\" or \"deep\"");
    }
    if (!vm->value("encrypted", false)) {
      return FailedPreconditionError("VM " + name + " is not encrypted; encrypt it instead");
    }
  }
  if (action == "move") {
    ASSIGN_OR_RETURN(std::string target, StringField(body, "host"));
    if (!impl_->store->Get("hosts", target).ok()) return NotFoundError("no host named " + target);
  }
  Impl* impl = impl_.get();
  std::string user = who.user;
  std::string what = action + " VM " + name;
  if (action == "rekey") what = body.value("mode", "") + " rekey of VM " + name;
  if (action == "move") what = "move VM " + name + " to host " + body.value("host", "");
  Json args = body;
  args["provider"] = provider;
  return impl_->tasks->Submit("vm-" + action, "vm", name, who.user, what,
                              [impl, name, action, args, user](TaskContext& ctx) {
                                return impl->RunVmTask(name, action, args, user, ctx);
                              });
}

Result<Json> Center::Impl::RunVmTask(const std::string& name, const std::string& action,
                                     const Json& args, const std::string& user, TaskContext& ctx) {
  ASSIGN_OR_RETURN(Json vm, store->Get("vms", name));
  std::string host_name = vm.value("host", "");
  ASSIGN_OR_RETURN(Json host, store->Get("hosts", host_name));
  ASSIGN_OR_RETURN(std::shared_ptr<HostClient> client, Host(host_name));
  std::string path = "/v1/vms/" + name;
  std::string provider = args.value("provider", "");

  // Every action but close and delete needs the VM's keys on its host.
  auto ensure_keys = [&](const Json& on_host) -> Status {
    ctx.Progress(10, "making sure host " + on_host.value("name", "") + " holds the VM's keys");
    Status s = EnsureKeysOnHost(on_host, KeysOfVm(vm), ctx.id());
    if (s.ok()) return s;
    std::string msg = "Virtual machine " + name + " is locked because of a KMS cluster error: " +
                      "a required key is not available on host " + on_host.value("name", "") +
                      " (" + s.message() + ")";
    Json k = KeysOfVm(vm).empty() ? Json::object() : KeysOfVm(vm)[0];
    Event("vm.locked", "error", "vm", name, msg, k.value("provider", ""), k.value("key_id", ""),
          ctx.id());
    RaiseAlarm("vm.locked", "vm", name, msg, k.value("provider", ""), k.value("key_id", ""));
    (void)store->Update("vms", name, [&](Json& d) {
      d["locked"] = true;
      d["locked_reason"] = msg;
      return OkStatus();
    });
    return Status(s.code(), msg);
  };
  auto unlocked = [&]() {
    (void)store->Update("vms", name, [&](Json& d) {
      d["locked"] = false;
      d["locked_reason"] = "";
      return OkStatus();
    });
    ClearAlarm("vm.locked", "vm", name);
  };
  auto post = [&](const std::string& sub, const Json& body) -> Result<Json> {
    Result<Json> r = client->Call("POST", path + sub, &body);
    return r.ok()
               ? r
               : Result<Json>(Doing(action + " VM " + name + " on host " + host_name, r.status()));
  };

  if (action == "close") {
    RETURN_IF_ERROR(post("/close", Json::object()).status());
    ASSIGN_OR_RETURN(Json info, client->Call("GET", path));
    return SyncVm(name, info);
  }
  if (action == "delete") {
    if (vm.value("state", "") == "open") {
      return FailedPreconditionError("VM " + name + " is open; close it before deleting it");
    }
    Result<Json> r = client->Call("DELETE", path);
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
    RETURN_IF_ERROR(store->Delete("vms", name));
    ClearAlarm("vm.locked", "vm", name);
    return Json{{"name", name}, {"deleted", true}};
  }
  if (action == "open") {
    RETURN_IF_ERROR(ensure_keys(host));
    ctx.Progress(60, "opening the VM's disks on host " + host_name);
    ASSIGN_OR_RETURN(Json info, post("/open", Json::object()));
    unlocked();
    return SyncVm(name, info);
  }
  if (action == "register") {
    ASSIGN_OR_RETURN(std::vector<Json> hosts, HostsOfCluster(vm.value("cluster", "")));
    for (const Json& k : KeysOfVm(vm)) {
      RETURN_IF_ERROR(
          PushKey(k.value("provider", ""), k.value("key_id", ""), hosts, host_name, ctx.id()));
    }
    unlocked();
    return Json{{"vm", name}, {"keys", KeysOfVm(vm)}, {"hosts", hosts.size()}};
  }
  if (action == "move") {
    std::string target = args.value("host", "");
    if (target == host_name) return vm;
    ASSIGN_OR_RETURN(Json target_host, store->Get("hosts", target));
    ASSIGN_OR_RETURN(std::shared_ptr<HostClient> target_client, Host(target));
    Result<Json> seen = target_client->Call("GET", path);
    if (!seen.ok()) {
      return FailedPreconditionError(
          "host " + target + " does not see VM " + name +
          " (the hosts must share the datastore): " + seen.status().message());
    }
    bool was_open = vm.value("state", "") == "open";
    RETURN_IF_ERROR(ensure_keys(target_host));
    if (was_open) {
      ctx.Progress(40, "closing the VM on host " + host_name);
      RETURN_IF_ERROR(post("/close", Json::object()).status());
    }
    RETURN_IF_ERROR(store
                        ->Update("vms", name,
                                 [&](Json& d) {
                                   d["host"] = target;
                                   d["cluster"] = target_host.value("cluster", "");
                                   return OkStatus();
                                 })
                        .status());
    Json info = *seen;
    if (was_open) {
      ctx.Progress(70, "opening the VM on host " + target);
      Result<Json> opened = target_client->Call("POST", path + "/open", nullptr);
      RETURN_IF_ERROR(Doing("open VM " + name + " on host " + target, opened.status()));
      info = *opened;
    }
    unlocked();
    return SyncVm(name, info);
  }
  if (action == "encrypt") {
    if (vm.value("encrypted", false)) {
      return FailedPreconditionError("VM " + name + " is already encrypted; rekey it instead");
    }
    RETURN_IF_ERROR(ensure_keys(host));  // disks encrypted earlier, one by one
    ctx.Progress(20, "creating the VM's key with provider " + provider);
    ASSIGN_OR_RETURN(Json key, NewKeyFor(provider, {"VM", name, name}, vm.value("cluster", ""),
                                         host_name, ctx.id()));
    ctx.Progress(50, "encrypting the VM home and disks on host " + host_name);
    ASSIGN_OR_RETURN(Json info, post("/encrypt", key));
    (void)store->Update("vms", name, [](Json& d) {
      d["policy"] = "encrypted";
      return OkStatus();
    });
    return SyncVm(name, info);
  }
  if (action == "decrypt") {
    RETURN_IF_ERROR(ensure_keys(host));
    ctx.Progress(40, "decrypting the disks, then the home, on host " + host_name);
    ASSIGN_OR_RETURN(Json info, post("/decrypt", Json::object()));
    (void)store->Update("vms", name, [](Json& d) {
      d["policy"] = "none";
      return OkStatus();
    });
    unlocked();
    return SyncVm(name, info);
  }
  if (action == "rekey") {
    RETURN_IF_ERROR(ensure_keys(host));
    if (args.value("mode", "") == "deep") {
      ctx.Progress(30, "re-encrypting every disk with new DEKs on host " + host_name);
      ASSIGN_OR_RETURN(Json info, post("/rekey", Json{{"mode", "deep"}}));
      return SyncVm(name, info);
    }
    ctx.Progress(30, "creating the new KEK with provider " + provider);
    ASSIGN_OR_RETURN(Json key, NewKeyFor(provider, {"VM", name, name}, vm.value("cluster", ""),
                                         host_name, ctx.id()));
    ctx.Progress(60, "rewrapping the DEKs on host " + host_name);
    Json req = key;
    req["mode"] = "shallow";
    ASSIGN_OR_RETURN(Json info, post("/rekey", req));
    return SyncVm(name, info);
  }
  return InternalError("unhandled VM action " + action);
}

Result<Json> Center::DiskAction(const Principal& who, const std::string& name,
                                const std::string& disk, const std::string& action) {
  if (action != "encrypt" && action != "decrypt") {
    return NotFoundError("unknown disk action \"" + action + "\": encrypt or decrypt");
  }
  RETURN_IF_ERROR(
      Authorizer::Check(who, action == "encrypt" ? priv::kCryptoEncrypt : priv::kCryptoDecrypt));
  RETURN_IF_ERROR(Authorizer::Check(who, priv::kCryptoAddDisk));
  if (!impl_->store->Get("vms", name).ok()) return NotFoundError("no VM named " + name);
  Impl* impl = impl_.get();
  return impl_->tasks->Submit(
      "disk-" + action, "vm", name, who.user, action + " disk " + disk + " of VM " + name,
      [impl, name, disk, action](TaskContext& ctx) -> Result<Json> {
        ASSIGN_OR_RETURN(Json vm, impl->store->Get("vms", name));
        ASSIGN_OR_RETURN(Json host, impl->store->Get("hosts", vm.value("host", "")));
        RETURN_IF_ERROR(impl->EnsureKeysOnHost(host, Impl::KeysOfVm(vm), ctx.id()));
        ASSIGN_OR_RETURN(std::shared_ptr<HostClient> client, impl->Host(host.value("name", "")));
        ctx.Progress(30, action + "ing disk " + disk);
        Json empty = Json::object();
        ASSIGN_OR_RETURN(
            Json info,
            client->Call("POST", "/v1/vms/" + name + "/disks/" + disk + "/" + action, &empty));
        return impl->SyncVm(name, info);
      });
}

}  // namespace vmcrypt::center
