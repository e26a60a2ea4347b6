// kms-load: a KMIP load generator. C connections (persistent, or one new TLS
// session per request the way vCenter connects), an operation mix, a bounded
// run; prints ops/s and p50/p99/p99.9 latency per operation, and every error.
// Exit status: 0 when every request succeeded, 1 when any failed or the
// run could not start, 2 for bad arguments (docs/kms.md, "Performance").
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <latch>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/kms_load/event_loop.h"
#include "bench/kms_load/workload.h"
#include "vmcrypt/kmip/client.h"

namespace vmcrypt::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string server;
  std::string ca;
  std::string cert;
  std::string key;
  std::string server_name;
  int connections = 16;
  double duration = 10;
  std::string mix = "get=60,get_attributes=20,locate=10,add_attribute=5,create=5";
  std::string mode = "persistent";
  uint64_t preload = 1000;
  uint32_t preload_batch = 100;
  int preload_connections = 16;
  std::string version = "1.4";
  double timeout = 30;
  bool json = false;
  bool thread_per_connection = false;
  int loop_threads = 4;
  bool resume = false;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "kms-load: %s\n", message.c_str());
  return 1;
}

Result<kmip::ClientOptions> ClientOptionsFrom(const Options& o) {
  kmip::ClientOptions co;
  const size_t colon = o.server.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("--server must be HOST:PORT");
  co.host = o.server.substr(0, colon);
  if (co.host.size() > 2 && co.host.front() == '[' && co.host.back() == ']') {
    co.host = co.host.substr(1, co.host.size() - 2);
  }
  const std::string port = o.server.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
      std::stoi(port) > 65535) {
    return InvalidArgumentError("bad port in --server " + o.server);
  }
  co.port = static_cast<uint16_t>(std::stoi(port));
  co.ca_file = o.ca;
  co.cert_file = o.cert;
  co.key_file = o.key;
  co.server_name = o.server_name;
  co.resume_sessions = o.resume;
  co.io_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout * 1000));
  co.connect_timeout = co.io_timeout;
  if (!kmip::ParseProtocolVersion(o.version, &co.version)) {
    return InvalidArgumentError("bad --version " + o.version);
  }
  return co;
}

std::string RandomPrefix() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "kms-load-%08x-", static_cast<unsigned>(rd()));
  return buf;
}

// How the connections are driven (see Run).
std::string Driver(const Options& o) {
  if (o.mode != "persistent" || o.thread_per_connection) return "a thread per connection";
  const int n = std::min(o.loop_threads, o.connections);
  return std::to_string(n) + (n == 1 ? " epoll thread" : " epoll threads");
}

double Millis(uint64_t nanos) { return static_cast<double>(nanos) / 1e6; }

void PrintTable(const Options& o, const Stats& stats, double seconds, uint64_t preload,
                double preload_seconds) {
  std::printf("kms-load: %s, %d %s connection%s (%s), %.1f s, KMIP %s\n", o.server.c_str(),
              o.connections, o.mode.c_str(), o.connections == 1 ? "" : "s", Driver(o).c_str(),
              seconds, o.version.c_str());
  if (preload > 0) {
    std::printf("preload: %llu named keys in %.1f s (%.0f/s, %d connections, batches of %u)\n",
                static_cast<unsigned long long>(preload), preload_seconds,
                preload / preload_seconds, o.preload_connections, o.preload_batch);
  }
  std::printf("%-18s %10s %10s %9s %9s %9s %9s %8s\n", "op", "count", "ops/s", "p50 ms", "p99 ms",
              "p99.9 ms", "max ms", "errors");
  uint64_t total = 0;
  uint64_t total_errors = 0;
  for (int i = 0; i < kRows; ++i) {
    const LatencyHistogram& h = stats.latency[i];
    if (h.count() == 0 && stats.errors[i] == 0) continue;
    if (i < kMixOps) {
      total += h.count();
      total_errors += stats.errors[i];
    }
    std::printf("%-18s %10llu %10.1f %9.3f %9.3f %9.3f %9.3f %8llu\n",
                std::string(RowName(static_cast<Row>(i))).c_str(),
                static_cast<unsigned long long>(h.count()), h.count() / seconds,
                Millis(h.Percentile(0.5)), Millis(h.Percentile(0.99)), Millis(h.Percentile(0.999)),
                Millis(h.max()), static_cast<unsigned long long>(stats.errors[i]));
  }
  std::printf("%-18s %10llu %10.1f %9s %9s %9s %9s %8llu\n", "all operations",
              static_cast<unsigned long long>(total), total / seconds, "", "", "", "",
              static_cast<unsigned long long>(total_errors));
  if (o.mode == "session") {
    std::printf(
        "TLS sessions resumed: %llu of %llu%s\n",
        static_cast<unsigned long long>(stats.sessions_resumed),
        static_cast<unsigned long long>(stats.latency[static_cast<int>(Row::kSession)].count()),
        o.resume ? "" : " (full handshakes: no --resume)");
  }
}

void PrintJson(const Options& o, const Stats& stats, double seconds, uint64_t preload,
               double preload_seconds) {
  nlohmann::json j;
  j["server"] = o.server;
  j["mode"] = o.mode;
  j["driver"] = Driver(o);
  j["connections"] = o.connections;
  j["seconds"] = seconds;
  j["version"] = o.version;
  j["preload"] = preload;
  j["preload_seconds"] = preload_seconds;
  j["resume"] = o.resume;
  j["sessions_resumed"] = stats.sessions_resumed;
  j["ops"] = nlohmann::json::array();
  for (int i = 0; i < kRows; ++i) {
    const LatencyHistogram& h = stats.latency[i];
    if (h.count() == 0 && stats.errors[i] == 0) continue;
    nlohmann::json row = {{"op", RowName(static_cast<Row>(i))},
                          {"count", h.count()},
                          {"ops_per_s", h.count() / seconds},
                          {"p50_ms", Millis(h.Percentile(0.5))},
                          {"p99_ms", Millis(h.Percentile(0.99))},
                          {"p999_ms", Millis(h.Percentile(0.999))},
                          {"max_ms", Millis(h.max())},
                          {"mean_ms", h.mean() / 1e6},
                          {"errors", stats.errors[i]}};
    if (!stats.first_error[i].empty()) row["first_error"] = stats.first_error[i];
    j["ops"].push_back(row);
  }
  std::cout << j.dump(2) << "\n";
}

int Run(const Options& o) {
  Result<Mix> mix = ParseMix(o.mix);
  if (!mix.ok()) return Fail(mix.status().message());
  Result<kmip::ClientOptions> co = ClientOptionsFrom(o);
  if (!co.ok()) return Fail(co.status().message());
  const bool needs_pool = mix->uses(Row::kGet) || mix->uses(Row::kGetAttributes) ||
                          mix->uses(Row::kLocate) || mix->uses(Row::kAddAttribute);
  if (needs_pool && o.preload == 0) {
    return Fail(
        "--preload must be at least 1: get, get_attributes, locate and add_attribute "
        "work on preloaded keys");
  }

  // One client per connection; certificates are read once here, and a
  // session-mode worker reuses its client's TLS context for every handshake.
  auto make_clients = [&](int n) -> Result<std::vector<std::unique_ptr<kmip::Client>>> {
    std::vector<std::unique_ptr<kmip::Client>> clients;
    for (int i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(auto c, kmip::Client::Create(*co));
      clients.push_back(std::move(c));
    }
    return clients;
  };
  auto clients = make_clients(o.connections);
  if (!clients.ok()) return Fail(clients.status().message());

  // The preload has its own connections, closed before the timed run: the
  // server commits concurrent Creates together (group commit), so more
  // connections preload faster, while the items of one batch are serial.
  Pool pool;
  pool.name_prefix = RandomPrefix();
  pool.size = o.preload;
  const auto preload_start = Clock::now();
  if (o.preload > 0) {
    auto preload_clients = make_clients(o.preload_connections);
    if (!preload_clients.ok()) return Fail(preload_clients.status().message());
    if (Status s = Preload(*preload_clients, o.preload_batch, &pool); !s.ok()) {
      return Fail("preload failed: " + s.ToString());
    }
  }
  const double preload_seconds =
      std::chrono::duration<double>(Clock::now() - preload_start).count();

  // Persistent connections are driven by one thread through epoll
  // (event_loop.h) unless --thread-per-connection; session mode always runs
  // a thread per connection (each request makes its own connection).
  const Mode mode = o.mode == "session" ? Mode::kSession : Mode::kPersistent;
  const bool loop = mode == Mode::kPersistent && !o.thread_per_connection;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::unique_ptr<kmip::TlsSocket>> sockets;
  for (int i = 0; i < o.connections; ++i) {
    WorkerConfig wc{mode, *mix, i, &pool, co->version};
    if (loop) {
      auto socket = (*clients)[i]->OpenSocket();
      if (!socket.ok()) return Fail(socket.status().WithContext("connecting").ToString());
      sockets.push_back(std::move(*socket));
      workers.push_back(std::make_unique<Worker>(wc, nullptr));
    } else {
      workers.push_back(std::make_unique<Worker>(wc, std::move((*clients)[i])));
      if (Status s = workers.back()->Setup(); !s.ok()) return Fail(s.ToString());
    }
  }

  // Every connection starts at once and stops at the same deadline; the
  // rate is over the time the last one took to finish its last request.
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.duration));
  if (loop) {
    // Connections dealt round-robin to --loop-threads event loops.
    const int n = std::min(o.loop_threads, o.connections);
    std::vector<std::vector<Worker*>> share(n);
    std::vector<std::vector<std::unique_ptr<kmip::TlsSocket>>> share_sockets(n);
    for (int i = 0; i < o.connections; ++i) {
      share[i % n].push_back(workers[i].get());
      share_sockets[i % n].push_back(std::move(sockets[i]));
    }
    std::vector<std::thread> loops;
    for (int t = 0; t < n; ++t) {
      loops.emplace_back(
          [&, t] { RunEventLoop(share[t], share_sockets[t], deadline, co->max_response_size); });
    }
    for (std::thread& t : loops) t.join();
  } else {
    std::latch go(1);
    std::vector<std::thread> threads;
    for (auto& w : workers) {
      threads.emplace_back([&go, &w, deadline] {
        go.wait();
        w->Run(deadline);
      });
    }
    go.count_down();
    for (std::thread& t : threads) t.join();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  Stats total;
  for (auto& w : workers) total.Merge(w->stats());
  if (o.json) {
    PrintJson(o, total, seconds, o.preload, preload_seconds);
  } else {
    PrintTable(o, total, seconds, o.preload, preload_seconds);
  }
  uint64_t errors = 0;
  for (int i = 0; i < kRows; ++i) {
    errors += total.errors[i];
    if (total.errors[i] > 0) {
      std::fprintf(stderr, "kms-load: %llu %s error(s), first: %s\n",
                   static_cast<unsigned long long>(total.errors[i]),
                   std::string(RowName(static_cast<Row>(i))).c_str(), total.first_error[i].c_str());
    }
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vmcrypt::bench

int main(int argc, char** argv) {
  vmcrypt::bench::Options o;
  CLI::App app{"kms-load: KMIP load generator (ops/s and latency percentiles per operation)"};
  app.add_option("--server", o.server, "HOST:PORT of the KMIP server")->required();
  app.add_option("--ca", o.ca, "CA certificate(s) that sign the server certificate (PEM)")
      ->required();
  app.add_option("--cert", o.cert, "client certificate (PEM)")->required();
  app.add_option("--key", o.key, "client private key (PEM)")->required();
  app.add_option("--server-name", o.server_name, "name to check in the server certificate");
  app.add_option("--connections", o.connections,
                 "concurrent connections (persistent: shared by --loop-threads epoll loops)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--loop-threads", o.loop_threads,
                 "persistent mode: event-loop threads sharing the connections (default 4)")
      ->check(CLI::Range(1, 256));
  app.add_flag("--thread-per-connection", o.thread_per_connection,
               "persistent mode: one thread per connection with blocking I/O instead of the "
               "event loop");
  app.add_option("--duration", o.duration, "seconds of timed load")
      ->check(CLI::Range(0.1, 86400.0));
  app.add_option("--mix", o.mix,
                 "operation weights: get=,get_attributes=,locate=,add_attribute=,create=");
  app.add_option("--mode", o.mode,
                 "persistent: one connection per worker for the whole run; session: a new TLS "
                 "connection, Discover Versions, one operation, close (like vCenter)")
      ->check(CLI::IsMember({"persistent", "session"}));
  app.add_flag("--resume", o.resume,
               "session mode: each new connection offers the previous one's TLS session "
               "(resumption, as a client with a session cache does); default: full handshakes");
  app.add_option("--preload", o.preload,
                 "named keys created before the timed run (Locate searches among them)");
  app.add_option("--preload-batch", o.preload_batch, "Create items per preload request")
      ->check(CLI::Range(1, 1000));
  app.add_option("--preload-connections", o.preload_connections,
                 "connections used by the preload only (closed before the run)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--version", o.version, "KMIP protocol version (1.0 ... 2.1)");
  app.add_option("--timeout", o.timeout, "connect and I/O timeout, seconds")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_flag("--json", o.json, "print the results as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return vmcrypt::bench::Run(o);
}
