// center-bench: what the control plane costs, in one process on loopback
// (bench/center/lab.h: built-in KMS, in-process host agents, center), each
// figure side by side with the same work done without center, as a ratio
// from one run:
//
//   create  VMS encrypted VMs (disks of DISKS MiB each, sparse) on HOSTS
//           hosts of one cluster through Center::CreateVm, all submitted,
//           then every task waited for; with the standard provider (the
//           built-in KMS over KMIP/TLS) and with the native one (KEKs
//           derived on the hosts). Reference: as many HostAgent::CreateVm
//           calls made directly (no center, no HTTPS, no KMS), each VM's key
//           already in the agent's cache, one thread per agent.
//   push    one VM's KEK to every host of its cluster (the "register" VM
//           task), for each cluster size in PUSH_HOSTS; median of RUNS runs
//           after one untimed. Reference: one HostClient::PutKey to one host.
//
// Exit status: 0 when every step succeeded, 1 when any failed, 2 for bad
// arguments. Timings are for information: nothing is asserted on them.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/center/lab.h"
#include "vmcrypt/center/host_client.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::bench {
namespace {

using center::Json;
using Clock = std::chrono::steady_clock;

struct Options {
  int vms = 100;
  int hosts = 4;
  std::vector<int> disks_mib = {64, 16};
  std::vector<int> push_hosts = {4, 16, 64};
  int runs = 5;
  size_t push_key_cache = 64;
  std::string dir;  // parent of the lab folder; default $TMPDIR or /tmp
  bool keep = false;
};

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median, min and max of a few timings.
struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread SpreadOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

// Submits `vms` CreateVm tasks (VM i on hosts[i % hosts.size()]), then waits
// for all of them; returns the seconds from the first submit to the last end.
Result<double> CenterCreate(Lab& lab, const std::vector<std::string>& hosts,
                            const std::string& provider, const std::string& prefix, int vms,
                            const Json& disks) {
  std::vector<std::string> ids;
  Clock::time_point t0 = Clock::now();
  for (int i = 0; i < vms; ++i) {
    ASSIGN_OR_RETURN(Json task,
                     lab.center().CreateVm(lab.admin(), {{"name", prefix + std::to_string(i)},
                                                         {"disks", disks},
                                                         {"policy", "encrypted"},
                                                         {"provider", provider},
                                                         {"host", hosts[i % hosts.size()]}}));
    ids.push_back(task.value("id", ""));
  }
  RETURN_IF_ERROR(WaitForTasks(lab.center(), lab.admin(), ids));
  return SecondsSince(t0);
}

// The reference for CenterCreate: the same VMs made by the agents directly,
// one thread per agent, each VM's key put in the agent's cache beforehand.
Result<double> DirectCreate(Lab& lab, const std::vector<size_t>& agents, int vms,
                            const std::vector<uint64_t>& disk_sizes) {
  std::vector<host::VmSpec> specs;
  for (int i = 0; i < vms; ++i) {
    host::KeyRef ref{"bench-direct", "direct-key-" + std::to_string(i)};
    ASSIGN_OR_RETURN(SecretBytes key, crypto::RandomSecret(32));
    RETURN_IF_ERROR(lab.agents()[agents[i % agents.size()]].agent->keys().Put(ref, key.span()));
    specs.push_back({"direct-vm-" + std::to_string(i), disk_sizes, true, ref, false});
  }
  std::vector<Status> results(agents.size(), OkStatus());
  Clock::time_point t0 = Clock::now();
  std::vector<std::thread> threads;
  for (size_t j = 0; j < agents.size(); ++j) {
    threads.emplace_back([&, j] {
      host::HostAgent& agent = *lab.agents()[agents[j]].agent;
      for (size_t i = j; i < specs.size(); i += agents.size()) {
        Result<host::VmInfo> made = agent.CreateVm(specs[i]);
        if (!made.ok()) {
          results[j] = made.status();
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  double seconds = SecondsSince(t0);
  for (const Status& s : results) RETURN_IF_ERROR(s);
  return seconds;
}

// Creates one encrypted VM (standard provider) in the cluster, then times
// `runs` register tasks (after one untimed), in ms. Checks that every agent
// behind the cluster's hosts holds the VM's key afterwards.
Result<std::vector<double>> CenterPush(Lab& lab, const std::vector<std::string>& hosts,
                                       const std::vector<size_t>& agents, int runs) {
  std::string vm = "push-vm-" + std::to_string(hosts.size());
  ASSIGN_OR_RETURN(Json task, lab.center().CreateVm(lab.admin(), {{"name", vm},
                                                                  {"disks", {uint64_t{1} << 20}},
                                                                  {"policy", "encrypted"},
                                                                  {"provider", "kms"},
                                                                  {"host", hosts[0]}}));
  RETURN_IF_ERROR(WaitForTasks(lab.center(), lab.admin(), {task.value("id", "")}));
  std::vector<double> ms;
  for (int r = 0; r <= runs; ++r) {
    Clock::time_point t0 = Clock::now();
    ASSIGN_OR_RETURN(Json reg, lab.center().VmAction(lab.admin(), vm, "register", Json::object()));
    RETURN_IF_ERROR(WaitForTasks(lab.center(), lab.admin(), {reg.value("id", "")}));
    if (r > 0) ms.push_back(SecondsSince(t0) * 1e3);
  }
  ASSIGN_OR_RETURN(Json doc, lab.center().GetVm(lab.admin(), vm));
  host::KeyRef ref{doc["key"].value("provider", ""), doc["key"].value("key_id", "")};
  for (size_t a : agents) {
    if (!lab.agents()[a].agent->keys().Contains(ref)) {
      return InternalError("after register, agent " + lab.agents()[a].name +
                           " does not hold the key of " + vm);
    }
  }
  return ms;
}

// The reference for CenterPush: one HostClient::PutKey to one host (a new
// mutual-TLS connection, as center makes), `runs` times after one untimed.
Result<std::vector<double>> DirectPush(Lab& lab, size_t agent, int runs) {
  ASSIGN_OR_RETURN(std::unique_ptr<center::HostClient> client,
                   center::HostClient::Create({lab.agents()[agent].name,
                                               lab.agents()[agent].address, lab.host_fingerprint()},
                                              {lab.client_cert_file(), lab.client_key_file()}));
  ASSIGN_OR_RETURN(SecretBytes key, crypto::RandomSecret(32));
  std::vector<double> ms;
  for (int r = 0; r <= runs; ++r) {
    Clock::time_point t0 = Clock::now();
    RETURN_IF_ERROR(client->PutKey("bench-direct", "push-key", key));
    if (r > 0) ms.push_back(SecondsSince(t0) * 1e3);
  }
  return ms;
}

std::string DisksText(const std::vector<int>& mib) {
  std::string s;
  for (int m : mib) s += (s.empty() ? "" : " + ") + std::to_string(m) + " MiB";
  return s;
}

Status Run(const Options& o, const std::string& dir) {
  int max_push = *std::max_element(o.push_hosts.begin(), o.push_hosts.end());
  std::printf(
      "== center: control plane vs the same work without it (bench/center; one process on\n"
      "   loopback; built-in KMS, %d + %d in-process host agents; one run)\n",
      o.hosts, max_push);
  std::fflush(stdout);
  ASSIGN_OR_RETURN(std::unique_ptr<Lab> lab, Lab::Start(dir));

  // Create: standard keys and native KEKs both end up in these agents' caches.
  size_t create_cache = 2 * static_cast<size_t>(o.vms) + 16;
  ASSIGN_OR_RETURN(std::vector<size_t> create_agents,
                   lab->AddAgents("create", o.hosts, create_cache));
  ASSIGN_OR_RETURN(std::vector<std::string> create_hosts, lab->AddCluster("create", create_agents));
  Json disks = Json::array();
  std::vector<uint64_t> disk_sizes;
  for (int m : o.disks_mib) {
    disks.push_back(uint64_t(m) << 20);
    disk_sizes.push_back(uint64_t(m) << 20);
  }
  ASSIGN_OR_RETURN(double direct_s, DirectCreate(*lab, create_agents, o.vms, disk_sizes));
  ASSIGN_OR_RETURN(double std_s, CenterCreate(*lab, create_hosts, "kms", "std-vm-", o.vms, disks));
  ASSIGN_OR_RETURN(double native_s,
                   CenterCreate(*lab, create_hosts, "native", "native-vm-", o.vms, disks));

  // Push: the same agents serve every cluster size, under other names.
  ASSIGN_OR_RETURN(std::vector<size_t> push_agents,
                   lab->AddAgents("push", max_push, o.push_key_cache));
  ASSIGN_OR_RETURN(std::vector<double> direct_ms, DirectPush(*lab, push_agents[0], o.runs));
  Spread ref = SpreadOf(direct_ms);
  std::vector<Spread> pushes;
  for (int n : o.push_hosts) {
    std::vector<size_t> members(push_agents.begin(), push_agents.begin() + n);
    ASSIGN_OR_RETURN(std::vector<std::string> hosts,
                     lab->AddCluster("push" + std::to_string(n), members));
    ASSIGN_OR_RETURN(std::vector<double> ms, CenterPush(*lab, hosts, members, o.runs));
    pushes.push_back(SpreadOf(ms));
  }

  std::printf(
      "create: %d encrypted VMs, disks %s (sparse), on %d hosts of one cluster; center runs\n"
      "        %d task threads; all submitted, then every task waited for\n",
      o.vms, DisksText(o.disks_mib).c_str(), o.hosts, lab->center().config().task_threads);
  std::printf(
      "push:   one VM's KEK to every host of its cluster (\"register\" task), median (min-max)\n"
      "        of %d runs after 1 untimed\n\n",
      o.runs);
  std::printf("%-34s %-24s %-24s %8s\n", "figure", "center", "reference", "ratio");
  auto create_row = [&](const char* label, double s) {
    char a[64], b[64];
    std::snprintf(a, sizeof(a), "%.2f s (%.1f VMs/s)", s, o.vms / s);
    std::snprintf(b, sizeof(b), "%.2f s (%.1f VMs/s)", direct_s, o.vms / direct_s);
    std::printf("%-34s %-24s %-24s %7.1fx\n", label, a, b, s / direct_s);
  };
  std::string n = std::to_string(o.vms);
  create_row(("create " + n + " VMs, standard (KMS)").c_str(), std_s);
  create_row(("create " + n + " VMs, native").c_str(), native_s);
  for (size_t i = 0; i < o.push_hosts.size(); ++i) {
    char label[64], a[64], b[64];
    std::snprintf(label, sizeof(label), "push 1 KEK to %d hosts", o.push_hosts[i]);
    std::snprintf(a, sizeof(a), "%.1f ms (%.1f-%.1f)", pushes[i].median, pushes[i].min,
                  pushes[i].max);
    std::snprintf(b, sizeof(b), "%.1f ms (%.1f-%.1f)", ref.median, ref.min, ref.max);
    std::printf("%-34s %-24s %-24s %7.1fx\n", label, a, b, pushes[i].median / ref.median);
  }
  std::printf(
      "\nratio = center time / reference time (1.0x: no overhead).\n"
      "create reference: %d HostAgent::CreateVm calls made directly in this process (no center,\n"
      "  no HTTPS, no KMS), each VM's key already in the agent's cache, one thread per agent.\n"
      "create, standard: per VM a task: KMIP Create + tag + Get on the built-in KMS over TLS, the\n"
      "  key pushed to all %d hosts (HTTPS, mutual TLS, a new connection each), POST /v1/vms,\n"
      "  and the VM, task and event rows in center's SQLite store.\n"
      "create, native: per VM a task: a key id from center, the host's keys and KDKs listed\n"
      "  (GET /v1/keys, /v1/kdks), POST /v1/vms; the host derives the KEK.\n"
      "push reference: one HostClient::PutKey to one host (HTTPS, mutual TLS, new connection).\n"
      "push: a register task: KMIP Get of the KEK from the built-in KMS, then one PutKey per "
      "host,\n"
      "  each on its own thread; the task and its events recorded in SQLite. Afterwards every\n"
      "  host's agent is checked to hold the key.\n",
      o.vms, o.hosts);
  return OkStatus();
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(std::atoi(text.substr(start, comma - start).c_str()));
    start = comma + 1;
  }
  return out;
}

}  // namespace
}  // namespace vmcrypt::bench

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  vmcrypt::bench::Options o;
  std::string disks = "64,16";
  std::string push_hosts = "4,16,64";
  CLI::App app{"center-bench: the control plane's cost against the same work without it"};
  app.add_option("--vms", o.vms, "encrypted VMs to create per provider")
      ->check(CLI::Range(1, 10000));
  app.add_option("--hosts", o.hosts, "hosts of the create cluster")->check(CLI::Range(1, 64));
  app.add_option("--disks-mib", disks, "disk sizes of each VM, MiB, comma-separated");
  app.add_option("--push-hosts", push_hosts, "cluster sizes for the push, comma-separated");
  app.add_option("--runs", o.runs, "timed runs per push figure")->check(CLI::Range(1, 1000));
  app.add_option("--push-key-cache", o.push_key_cache, "key cache size of the push agents")
      ->check(CLI::Range(8, 4096));
  app.add_option("--dir", o.dir,
                 "where to make the temporary lab folder (default $TMPDIR or /tmp)");
  app.add_flag("--keep", o.keep, "keep the lab folder");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.disks_mib = vmcrypt::bench::ParseList(disks);
  o.push_hosts = vmcrypt::bench::ParseList(push_hosts);
  for (int m : o.disks_mib) {
    if (m < 1 || m > 1 << 20) {
      std::fprintf(stderr, "center-bench: --disks-mib: each size must be 1 to 1048576 MiB\n");
      return 2;
    }
  }
  for (int h : o.push_hosts) {
    if (h < 1 || h > 256) {
      std::fprintf(stderr, "center-bench: --push-hosts: each size must be 1 to 256\n");
      return 2;
    }
  }
  std::string parent = o.dir;
  if (parent.empty()) parent = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string tmpl = parent + "/center-bench.XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "center-bench: cannot make a folder in %s\n", parent.c_str());
    return 1;
  }
  vmcrypt::Status s = vmcrypt::bench::Run(o, tmpl);
  std::error_code ec;
  if (!o.keep) fs::remove_all(tmpl, ec);
  if (!s.ok()) {
    std::fprintf(stderr, "center-bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
