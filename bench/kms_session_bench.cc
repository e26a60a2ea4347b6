// CPU cost of one vCenter-style session (new TLS connection, Discover
// Versions, close) on each side, against an in-process key server with one
// worker thread: the client is this thread, the server everything else in
// the process. Sessions run one at a time, so the figures are CPU time per
// session (not throughput) and hold still on a busy or shared machine,
// where kms-load's sessions/s vary by 15% from run to run: the tool for A/B
// runs of handshake changes. Counters: server_us (process CPU minus this
// thread's) and client_us (this thread's CPU) per session, and resumed (the
// share of sessions that resumed a TLS session).
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/bench_dir.h"
#include "vmcrypt/kmip/client.h"
#include "vmcrypt/kms/audit.h"
#include "vmcrypt/kms/engine.h"
#include "vmcrypt/kms/init.h"
#include "vmcrypt/kms/root_key.h"
#include "vmcrypt/kms/server.h"
#include "vmcrypt/store/sqlite_store.h"

namespace vmcrypt {
namespace {

double CpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::filesystem::path bench_dir;  // removed at exit, even after Die()

[[noreturn]] void Die(const std::string& what, const Status& st) {
  std::fprintf(stderr, "kms_session_bench: %s: %s\n", what.c_str(), st.ToString().c_str());
  std::error_code ignored;
  if (!bench_dir.empty()) std::filesystem::remove_all(bench_dir, ignored);
  std::exit(1);
}

// `kms init` in a temporary folder and the server serving it on 127.0.0.1,
// port 0, with one worker thread; all removed at exit.
class Server {
 public:
  Server() {
    bench_dir = dir_.path();
    kms::InitOptions init;
    init.dir = dir_.path();
    if (Status st = kms::InitKmsDirectory(init).status(); !st.ok()) Die("kms init", st);
    auto store = store::OpenSqliteStore(P("kms.db"));
    if (!store.ok()) Die("store", store.status());
    store_ = std::move(*store);
    auto root_key = kms::SoftwareRootKey::Load(P("root.key"));
    if (!root_key.ok()) Die("root key", root_key.status());
    root_key_ = std::move(*root_key);
    auto audit = kms::AuditLog::Open(P("audit.log"));
    if (!audit.ok()) Die("audit log", audit.status());
    audit_ = std::move(*audit);
    engine_ = std::make_unique<kms::Engine>(store_.get(), root_key_.get(), kms::EngineOptions{});
    kms::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.cert_file = P("server.crt");
    o.key_file = P("server.key");
    o.threads = 1;
    auto server = kms::KmsServer::Start(o, engine_.get(), store_.get(), audit_.get(), nullptr);
    if (!server.ok()) Die("server", server.status());
    server_ = std::move(*server);
  }
  ~Server() {
    server_->Shutdown();
    server_.reset();
    engine_.reset();
    audit_.reset();
    store_.reset();
  }

  std::unique_ptr<kmip::Client> MakeClient(bool resume) const {
    kmip::ClientOptions o;
    o.host = "127.0.0.1";
    o.port = server_->port();
    o.ca_file = P("ca.crt");
    o.cert_file = P("clients/admin.crt");
    o.key_file = P("clients/admin.key");
    o.version = kmip::ProtocolVersion{1, 1};  // what vCenter speaks
    o.resume_sessions = resume;
    auto client = kmip::Client::Create(o);
    if (!client.ok()) Die("client", client.status());
    return std::move(*client);
  }

 private:
  std::string P(const std::string& f) const { return dir_.File(f); }

  bench::BenchDir dir_{"kms_session_bench"};  // removed last
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<kms::RootKey> root_key_;
  std::unique_ptr<kms::AuditLog> audit_;
  std::unique_ptr<kms::Engine> engine_;
  std::unique_ptr<kms::KmsServer> server_;
};

std::unique_ptr<Server> server;  // made by the first benchmark, ended by main()

Server& TheServer() {
  if (server == nullptr) server = std::make_unique<Server>();
  return *server;
}

// Arg 0: a full handshake per session; 1: each session resumes the last.
void BM_Session(benchmark::State& state) {
  const bool resume = state.range(0) == 1;
  auto client = TheServer().MakeClient(resume);
  if (Status st = client->DiscoverVersions().status(); !st.ok()) Die("first session", st);
  client->Close();  // with --resume, the next session resumes this one
  int64_t resumed = 0;
  const double process0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
  const double thread0 = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
  for (auto _ : state) {
    if (Status st = client->DiscoverVersions().status(); !st.ok()) Die("session", st);
    if (client->resumed()) ++resumed;
    client->Close();
  }
  const double client_s = CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - thread0;
  const double server_s = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - process0 - client_s;
  const double n = static_cast<double>(state.iterations());
  state.counters["server_us"] = server_s / n * 1e6;
  state.counters["client_us"] = client_s / n * 1e6;
  state.counters["resumed"] = static_cast<double>(resumed) / n;
}
BENCHMARK(BM_Session)->Arg(0)->Arg(1)->ArgName("resume")->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace vmcrypt

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  vmcrypt::server.reset();  // stops the server, removes its folder
  return 0;
}
