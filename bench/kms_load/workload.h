// The kms-load workload: which KMIP operations to send, in what proportion,
// against which objects, and the per-operation statistics it collects.
//
// A run has three phases: preload (C clients Create N named AES-256 keys in
// batches), setup (every worker connects, in persistent mode), and the timed
// run (every worker loops until the deadline, drawing an operation from the
// mix for each request). Workers share the read-only Pool; each keeps its own
// Stats, merged by the caller.
#ifndef VMCRYPT_BENCH_KMS_LOAD_WORKLOAD_H_
#define VMCRYPT_BENCH_KMS_LOAD_WORKLOAD_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/kms_load/latency_histogram.h"
#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/client.h"

namespace vmcrypt::bench {

// The operations of the mix, then the rows only session mode fills.
enum class Row : int {
  kGet,
  kGetAttributes,
  kLocate,
  kAddAttribute,
  kCreate,
  kConnectDiscover,  // session mode: TCP + TLS handshake + Discover Versions
  kSession,          // session mode: the whole session, connect to close
  kCount,
};
inline constexpr int kMixOps = static_cast<int>(Row::kConnectDiscover);
inline constexpr int kRows = static_cast<int>(Row::kCount);

// "get", "get_attributes", ..., "connect_discover", "session".
std::string_view RowName(Row row);

// Relative weights of the five operations.
struct Mix {
  std::array<uint32_t, kMixOps> weights{};
  uint32_t total() const;
  bool uses(Row op) const { return weights[static_cast<int>(op)] > 0; }
};

// Parses "get=60,get_attributes=20,locate=10,add_attribute=5,create=5";
// operations not named get weight 0. Errors: unknown names, bad or
// duplicate weights, all weights zero.
Result<Mix> ParseMix(std::string_view text);

enum class Mode { kPersistent, kSession };

// The objects made by the preload: N keys named `name_prefix` + index, and
// the identifiers of some of them (all when N <= kMaxKeptUids, else an
// evenly spaced sample), for Get, Get Attributes and Add Attribute.
struct Pool {
  static constexpr uint64_t kMaxKeptUids = 100000;
  std::string name_prefix;
  uint64_t size = 0;
  uint64_t stride = 1;            // uids[k] is the object named prefix + k * stride
  std::vector<std::string> uids;  // filled by Preload
};

// Creates pool->size keys over `clients` (one thread each) with
// `batch` Create items per request message. Fails on the first error.
Status Preload(std::vector<std::unique_ptr<kmip::Client>>& clients, uint32_t batch, Pool* pool);

// What one worker measured.
struct Stats {
  std::array<LatencyHistogram, kRows> latency;
  std::array<uint64_t, kRows> errors{};
  std::array<std::string, kRows> first_error;
  uint64_t sessions_resumed = 0;  // session mode: TLS sessions resumed
  void Merge(const Stats& other);
};

struct WorkerConfig {
  Mode mode = Mode::kPersistent;
  Mix mix;
  int worker_index = 0;
  const Pool* pool = nullptr;
  kmip::ProtocolVersion version = kmip::kKmip14;
};

// One request of the mix, ready to send: the operation, its Request
// Payload, and the check of the Response Payload (so that a server that
// answers fast but wrongly counts as failing).
struct PreparedOp {
  kmip::Operation operation = kmip::Operation::kGet;
  ttlv::Item payload;
  std::function<Status(const ttlv::Item& response_payload)> check;
};

// One load-generating connection's requests and statistics.
// Thread-compatible: one thread uses it.
class Worker {
 public:
  using Clock = std::chrono::steady_clock;
  // `client` may be null when an event loop (event_loop.h) sends the
  // requests instead of Run.
  Worker(const WorkerConfig& config, std::unique_ptr<kmip::Client> client);

  // Persistent mode: connects (Discover Versions) so the timed run starts
  // on an open connection. Session mode: nothing.
  Status Setup();
  // Sends requests until `deadline`; every failure is counted in stats().
  void Run(Clock::time_point deadline);
  const Stats& stats() const { return stats_; }

  // The next operation of the mix, and its request.
  Row Draw();
  Result<PreparedOp> Prepare(Row op);
  void Record(Row row, Clock::time_point start, Clock::time_point end, const Status& status);
  kmip::ProtocolVersion version() const { return config_.version; }

 private:
  // One operation on the open (or to be opened) connection.
  Status Do(Row op);
  const std::string& RandomUid();
  uint64_t RandomIndex();

  WorkerConfig config_;
  std::unique_ptr<kmip::Client> client_;
  std::mt19937_64 rng_;
  uint64_t sequence_ = 0;
  Stats stats_;
};

}  // namespace vmcrypt::bench

#endif  // VMCRYPT_BENCH_KMS_LOAD_WORKLOAD_H_
