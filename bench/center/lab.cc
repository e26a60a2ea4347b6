// The set-up follows src/cli/dev_command.cc (`vmcrypt dev`): the same
// init functions and the same trust steps, with every piece in this process.
#include "bench/center/lab.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include "vmcrypt/base/file_util.h"
#include "vmcrypt/center/config.h"
#include "vmcrypt/host/config.h"
#include "vmcrypt/kms/config.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/pki.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt::bench {
namespace {

using center::Json;

// Center and agents log every request; a benchmark keeps them quiet.
void Quiet(const std::string&) {}

}  // namespace

Result<std::unique_ptr<Lab>> Lab::Start(const std::string& dir) {
  std::unique_ptr<Lab> lab(new Lab());
  RETURN_IF_ERROR(lab->Init(dir));
  return lab;
}

Lab::~Lab() {
  center_.reset();  // finishes its tasks, which may still call agents and the KMS
  for (Agent& a : agents_) a.server->Shutdown();
  agents_.clear();
  if (kms_server_) kms_server_->Shutdown();
}

const std::string& Lab::client_cert_file() const { return center_->config().client_cert_file; }
const std::string& Lab::client_key_file() const { return center_->config().client_key_file; }

Status Lab::Init(const std::string& dir) {
  dir_ = dir;
  center::CenterInitOptions c;
  c.dir = dir + "/center";
  c.name = "bench-center";
  ASSIGN_OR_RETURN(center::CenterInitResult init, center::InitCenterDirectory(c));

  kms::InitOptions k;
  k.dir = dir + "/kms";
  k.name = "bench-kms";
  RETURN_IF_ERROR(kms::InitKmsDirectory(k).status());
  ASSIGN_OR_RETURN(kms::KmsConfig kc, kms::LoadKmsConfig(k.dir + "/kms.toml"));
  kc.server.listen = "127.0.0.1:0";
  ASSIGN_OR_RETURN(kms_store_, store::OpenSqliteStore(kc.store_path));
  ASSIGN_OR_RETURN(kms_root_key_, kms::SoftwareRootKey::Load(kc.root_key_file));
  kms::EngineOptions eo;
  eo.server_name = kc.name;
  kms_engine_ = std::make_unique<kms::Engine>(kms_store_.get(), kms_root_key_.get(), eo);
  ASSIGN_OR_RETURN(kms_server_, kms::KmsServer::Start(kc.server, kms_engine_.get(),
                                                      kms_store_.get(), nullptr, Quiet));

  // One host identity for every agent; each agent gets its own folders.
  host::HostInitOptions h;
  h.dir = dir + "/host-identity";
  h.name = "bench-host";
  h.trusted_fingerprints = {init.client_fingerprint};
  RETURN_IF_ERROR(host::InitHostDirectory(h).status());
  ASSIGN_OR_RETURN(host_template_, host::LoadHostConfig(h.dir + "/host.toml"));
  host_template_.listen = "127.0.0.1:0";
  ASSIGN_OR_RETURN(std::string pem, ReadFileToString(host_template_.cert_file));
  ASSIGN_OR_RETURN(kms::CertificateInfo info, kms::DescribeCertificate(pem));
  host_fingerprint_ = info.sha256_fingerprint;

  ASSIGN_OR_RETURN(center::CenterConfig cc, center::LoadCenterConfig(c.dir + "/center.toml"));
  cc.listen = "127.0.0.1:0";  // no API server: the bench calls Center directly
  ASSIGN_OR_RETURN(center_, center::Center::Open(cc, Quiet));
  ASSIGN_OR_RETURN(std::string token, center_->auth().IssueToken("admin"));
  ASSIGN_OR_RETURN(admin_, center_->auth().Authenticate(token));
  return SetUpProviders();
}

Status Lab::SetUpProviders() {
  center::Center& c = *center_;
  std::string kms_address = "127.0.0.1:" + std::to_string(kms_server_->port());
  RETURN_IF_ERROR(
      c.AddProvider(admin_, {{"name", "kms"}, {"type", "standard"}, {"servers", {kms_address}}})
          .status());
  RETURN_IF_ERROR(
      c.TrustProvider(admin_, "kms", {{"action", "fetch-server-certificates"}}).status());
  ASSIGN_OR_RETURN(Json self, c.TrustProvider(admin_, "kms", {{"action", "self-signed"}}));
  std::string pem = self["certificate"].get<std::string>();
  ASSIGN_OR_RETURN(kms::CertificateInfo info, kms::DescribeCertificate(pem));
  RETURN_IF_ERROR(
      kms_store_->PutClient({"bench-center", "default", info.subject, info.sha256_fingerprint, pem,
                             static_cast<int64_t>(std::time(nullptr))}));
  RETURN_IF_ERROR(c.SetDefaultProvider(admin_, "kms", Json::object()).status());
  RETURN_IF_ERROR(c.AddProvider(admin_, {{"name", "native"}, {"type", "native"}}).status());
  // Center makes no native key before the provider is backed up; the
  // backup (a PKCS#12 blob) is dropped: the lab is thrown away.
  return c.ExportProvider(admin_, "native", {{"password", "center-bench-backup"}}).status();
}

Result<std::vector<size_t>> Lab::AddAgents(const std::string& prefix, int count,
                                           size_t key_cache_size) {
  std::vector<size_t> added;
  for (int i = 1; i <= count; ++i) {
    Agent a;
    a.name = prefix + std::to_string(i);
    host::HostConfig config = host_template_;
    config.name = a.name;
    std::string home = dir_ + "/agents/" + a.name;
    std::filesystem::create_directories(home);
    config.data_dir = home + "/data";
    config.run_dir = home + "/run";
    config.state_dir = home + "/state";
    config.key_cache_size = key_cache_size;
    ASSIGN_OR_RETURN(a.agent, host::HostAgent::Create(config));
    ASSIGN_OR_RETURN(a.server, host::HostApiServer::Start(a.agent.get(), Quiet));
    a.address = "127.0.0.1:" + std::to_string(a.server->port());
    added.push_back(agents_.size());
    agents_.push_back(std::move(a));
  }
  return added;
}

Result<std::vector<std::string>> Lab::AddCluster(const std::string& cluster,
                                                 const std::vector<size_t>& agent_indexes) {
  RETURN_IF_ERROR(center_->AddCluster(admin_, {{"name", cluster}}).status());
  std::vector<std::string> names;
  for (size_t i = 0; i < agent_indexes.size(); ++i) {
    std::string name = cluster + "-h" + std::to_string(i + 1);
    RETURN_IF_ERROR(center_
                        ->AddHost(admin_, {{"name", name},
                                           {"address", agents_.at(agent_indexes[i]).address},
                                           {"fingerprint", host_fingerprint_},
                                           {"cluster", cluster}})
                        .status());
    names.push_back(name);
  }
  return names;
}

Status WaitForTasks(center::Center& c, const center::Principal& who,
                    const std::vector<std::string>& task_ids) {
  for (const std::string& id : task_ids) {
    Json task;
    // A task still running after the wait is waited for again.
    do {
      ASSIGN_OR_RETURN(task, c.GetTask(who, id, std::chrono::seconds(60)));
    } while (task.value("state", "") == "queued" || task.value("state", "") == "running");
    if (task.value("state", "") != "success") {
      return InternalError("task " + id + " (" + task.value("description", "") +
                           ") ended in state " + task.value("state", "") + ": " +
                           task.value("error", ""));
    }
  }
  return OkStatus();
}

}  // namespace vmcrypt::bench
