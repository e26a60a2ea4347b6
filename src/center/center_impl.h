// Center's internals, shared by center.cc (providers, users), inventory.cc,
// vm_tasks.cc, key_push.cc and tasks.cc. Not a public header.
#ifndef VMCRYPT_SRC_CENTER_CENTER_IMPL_H_
#define VMCRYPT_SRC_CENTER_CENTER_IMPL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "vmcrypt/center/center.h"
#include "vmcrypt/center/host_client.h"
#include "vmcrypt/center/key_provider.h"
#include "vmcrypt/kms/root_key.h"

namespace vmcrypt::center {

// RFC 3339 UTC time with milliseconds ("2026-11-22T10:00:00.123Z").
std::string NowRfc3339();

// The body's string member `key`, or `fallback` when absent; InvalidArgument
// when present but not a string.
Result<std::string> StringField(const Json& body, const char* key, std::string fallback = "");
// Names of clusters, hosts, VMs, providers: [A-Za-z0-9._-]{1,64}.
Status CheckName(const std::string& what, const std::string& name);

// A task's view of itself while it runs.
class TaskContext {
 public:
  TaskContext(CenterStore* store, std::string id) : store_(store), id_(std::move(id)) {}
  const std::string& id() const { return id_; }
  // Records progress (0..100) and the step in progress.
  void Progress(int percent, const std::string& step);

 private:
  CenterStore* store_;
  std::string id_;
};

// Runs tasks on a pool of threads; tasks on the same entity run one at a
// time, in submission order.
class TaskRunner {
 public:
  using Body = std::function<Result<Json>(TaskContext&)>;
  // Called once per finished task with its final document.
  using OnDone = std::function<void(const Json& task)>;

  TaskRunner(CenterStore* store, int threads, OnDone on_done);
  ~TaskRunner();  // finishes queued and running tasks

  // Records a queued task and schedules `body`; returns the task document.
  Result<Json> Submit(const std::string& type, const std::string& entity_type,
                      const std::string& entity_name, const std::string& user,
                      const std::string& description, Body body);
  // The task's document once finished, or as it is after `wait`.
  Result<Json> Wait(const std::string& id, std::chrono::milliseconds wait);
  // Marks tasks a previous process left queued or running as failed.
  Status FailInterrupted();

 private:
  struct Item {
    std::string id;
    std::string entity;  // "type/name"
    Body body;
  };
  void Work();
  bool Runnable(const Item& item) const;

  CenterStore* store_;
  OnDone on_done_;
  std::mutex mu_;
  std::condition_variable cv_;       // work queued, entity released, stop
  std::condition_variable done_cv_;  // a task finished
  std::deque<Item> queue_;
  std::map<std::string, int> busy_;  // entities with a running task
  std::set<std::string> finishing_;  // tasks taken from the queue, callback not yet run
  uint64_t finished_count_ = 0;      // tasks finished so far (wakes waiters)
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

struct Center::Impl {
  CenterConfig config;
  Logger log;
  std::unique_ptr<CenterStore> store;
  std::unique_ptr<Authorizer> authorizer;
  std::unique_ptr<kms::RootKey> root_key;
  std::string client_fingerprint;
  std::unique_ptr<TaskRunner> tasks;

  std::mutex mu;  // guards the two caches
  std::map<std::string, std::shared_ptr<KeyProvider>> providers;
  std::map<std::string, std::shared_ptr<HostClient>> hosts;

  // --- providers (center.cc) ---
  ProviderContext ContextFor(const std::string& provider) const;
  Result<std::shared_ptr<KeyProvider>> Provider(const std::string& name);
  void ForgetProvider(const std::string& name);
  // The provider to use: `requested`, else the cluster's default, else
  // center's default.
  Result<std::string> ResolveProvider(const std::string& requested, const std::string& cluster);
  // A task that pushes a native provider's KDK to every host.
  Result<Json> SubmitKdkPush(const std::string& provider, const std::string& user);

  // --- hosts (inventory.cc) ---
  Result<std::shared_ptr<HostClient>> Host(const std::string& name);
  void ForgetHost(const std::string& name);
  Result<std::vector<Json>> HostsOfCluster(const std::string& cluster);

  // --- keys (key_push.cc) ---
  // Pushes a standard provider's key to `hosts` in parallel. Hosts that fail
  // get a "key could not be pushed" event; the result lists them. Fails if
  // the key cannot be fetched (key server unreachable, key missing: events
  // too) or if `required_host` did not get it.
  Status PushKey(const std::string& provider, const std::string& key_id,
                 const std::vector<Json>& hosts, const std::string& required_host,
                 const std::string& task_id);
  // Pushes a native provider's KDK to `hosts` in parallel (same failure rules).
  Status PushKdk(const std::string& provider, const std::vector<Json>& hosts,
                 const std::string& required_host, const std::string& task_id);
  // Runs `push` on every host in parallel; a host that fails gets a
  // "WHAT could not be pushed" event and alarm (unreachable or
  // incompatible); returns the failure of `required_host`, if any.
  Status FanOut(const std::vector<Json>& hosts, const std::string& required_host,
                const std::string& what, const std::string& provider, const std::string& key_id,
                const std::string& task_id, const std::function<Status(HostClient&)>& push);
  // Makes sure `host` holds every key of `keys` ({"provider","key_id"}):
  // asks the host what it has and pushes the rest (KEK or KDK).
  Status EnsureKeysOnHost(const Json& host, const std::vector<Json>& keys,
                          const std::string& task_id);
  // A new key from `provider` for an entity, tagged, pushed to the hosts of
  // `cluster` (VM's host required). Returns {"provider","key_id"}.
  Result<Json> NewKeyFor(const std::string& provider, const KeyTag& tag, const std::string& cluster,
                         const std::string& required_host, const std::string& task_id);
  Result<Json> KeyStatus();

  // --- events and alarms (key_push.cc) ---
  void Event(const std::string& type, const std::string& severity, const std::string& entity_type,
             const std::string& entity_name, const std::string& message,
             const std::string& provider = "", const std::string& key_id = "",
             const std::string& task_id = "");
  void RaiseAlarm(const std::string& type, const std::string& entity_type,
                  const std::string& entity_name, const std::string& message,
                  const std::string& provider = "", const std::string& key_id = "");
  void ClearAlarm(const std::string& type, const std::string& entity_type,
                  const std::string& entity_name);

  // --- VMs (vm_tasks.cc) ---
  // Copies what the host reports about a VM into center's VM document.
  Result<Json> SyncVm(const std::string& name, const Json& host_vm);
  // The keys a VM's home and disks use.
  static std::vector<Json> KeysOfVm(const Json& vm);
  Result<Json> RunVmTask(const std::string& vm, const std::string& action, const Json& body,
                         const std::string& user, TaskContext& ctx);
};

// Hides key ids from callers without Cryptographer.Access.
Json RedactVm(const Principal& who, Json vm);

}  // namespace vmcrypt::center

#endif  // VMCRYPT_SRC_CENTER_CENTER_IMPL_H_
