#include "bench/kms_load/workload.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/message.h"

namespace vmcrypt::bench {

using kmip::Attribute;

namespace {

constexpr std::array<std::string_view, kRows> kRowNames = {
    "get", "get_attributes", "locate", "add_attribute", "create", "connect_discover", "session"};

// The key every Create sends: AES-256 for encryption, as vCenter asks for a
// KEK (KMIP 1.4 §4.1; its x- attributes come later with Add Attribute).
kmip::CreateRequest Aes256(std::optional<std::string> name) {
  kmip::CreateRequest r;
  r.attributes = {Attribute::Enum("Cryptographic Algorithm",
                                  static_cast<uint32_t>(kmip::CryptographicAlgorithm::kAes)),
                  Attribute::Integer("Cryptographic Length", 256),
                  Attribute::Integer("Cryptographic Usage Mask",
                                     kmip::usage::kEncrypt | kmip::usage::kDecrypt)};
  if (name) r.attributes.push_back(Attribute::Name(*name));
  return r;
}

Status Unexpected(std::string what) { return InternalError("unexpected answer: " + what); }

}  // namespace

std::string_view RowName(Row row) { return kRowNames[static_cast<int>(row)]; }

uint32_t Mix::total() const {
  uint32_t sum = 0;
  for (uint32_t w : weights) sum += w;
  return sum;
}

Result<Mix> ParseMix(std::string_view text) {
  Mix mix;
  std::array<bool, kMixOps> seen{};
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("--mix: '" + std::string(part) + "' is not OP=WEIGHT");
    }
    const std::string_view name = part.substr(0, eq);
    const std::string_view value = part.substr(eq + 1);
    auto it = std::find(kRowNames.begin(), kRowNames.begin() + kMixOps, name);
    if (it == kRowNames.begin() + kMixOps) {
      return InvalidArgumentError("--mix: unknown operation '" + std::string(name) +
                                  "' (get, get_attributes, locate, add_attribute, create)");
    }
    const int op = static_cast<int>(it - kRowNames.begin());
    if (seen[op]) return InvalidArgumentError("--mix: '" + std::string(name) + "' given twice");
    seen[op] = true;
    if (value.empty() || value.size() > 6 ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return InvalidArgumentError("--mix: weight of '" + std::string(name) +
                                  "' must be a whole number 0-999999");
    }
    mix.weights[op] = static_cast<uint32_t>(std::stoul(std::string(value)));
  }
  if (mix.total() == 0) return InvalidArgumentError("--mix: every weight is zero");
  return mix;
}

void Stats::Merge(const Stats& other) {
  for (int i = 0; i < kRows; ++i) {
    latency[i].Merge(other.latency[i]);
    errors[i] += other.errors[i];
    if (first_error[i].empty()) first_error[i] = other.first_error[i];
  }
  sessions_resumed += other.sessions_resumed;
}

Status Preload(std::vector<std::unique_ptr<kmip::Client>>& clients, uint32_t batch, Pool* pool) {
  if (pool->size == 0) return OkStatus();
  if (clients.empty() || batch == 0) return InvalidArgumentError("preload needs clients and batch");
  pool->stride = (pool->size + Pool::kMaxKeptUids - 1) / Pool::kMaxKeptUids;
  pool->uids.assign((pool->size + pool->stride - 1) / pool->stride, std::string());
  const uint64_t batches = (pool->size + batch - 1) / batch;
  std::atomic<uint64_t> next_batch{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first = OkStatus();
  auto fail = [&](Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (first.ok()) first = std::move(s);
    failed = true;
  };
  auto work = [&](kmip::Client* client) {
    const kmip::ProtocolVersion v = client->options().version;
    while (!failed) {
      const uint64_t b = next_batch++;
      if (b >= batches) return;
      const uint64_t begin = b * batch;
      const uint64_t end = std::min(pool->size, begin + batch);
      kmip::RequestMessage request;
      for (uint64_t i = begin; i < end; ++i) {
        Result<ttlv::Item> payload = Aes256(pool->name_prefix + std::to_string(i)).Encode(v);
        if (!payload.ok()) return fail(payload.status());
        request.items.push_back(
            {kmip::Operation::kCreate, std::nullopt, std::nullopt, *payload, std::nullopt});
      }
      Result<kmip::ResponseMessage> response = client->Send(std::move(request));
      if (!response.ok()) return fail(response.status().WithContext("preload Create batch"));
      if (response->items.size() != end - begin) {
        return fail(Unexpected("preload batch of " + std::to_string(end - begin) + " Creates got " +
                               std::to_string(response->items.size()) + " answers"));
      }
      for (uint64_t i = begin; i < end; ++i) {
        kmip::ResponseBatchItem& item = response->items[i - begin];
        if (!item.ok()) return fail(item.ToStatus().WithContext("preload Create"));
        if (i % pool->stride != 0) continue;
        if (!item.payload) return fail(Unexpected("preload Create without a payload"));
        Result<kmip::CreateResponse> created = kmip::CreateResponse::Decode(*item.payload, v);
        if (!created.ok()) return fail(created.status().WithContext("preload Create"));
        pool->uids[i / pool->stride] = created->uid;
      }
      // Progress for long preloads, every tenth, on stderr.
      const uint64_t tenth = batches / 10;
      if (pool->size >= 100000 && tenth > 0 && (b + 1) % tenth == 0) {
        std::fprintf(stderr, "kms-load: preload %llu%%\n",
                     static_cast<unsigned long long>((b + 1) * 100 / batches));
      }
    }
  };
  std::vector<std::thread> threads;
  for (auto& c : clients) threads.emplace_back(work, c.get());
  for (std::thread& t : threads) t.join();
  return first;
}

Worker::Worker(const WorkerConfig& config, std::unique_ptr<kmip::Client> client)
    : config_(config),
      client_(std::move(client)),
      rng_(std::random_device{}() ^ (static_cast<uint64_t>(config.worker_index) << 32)) {}

Status Worker::Setup() {
  if (config_.mode == Mode::kSession) return OkStatus();
  return client_->DiscoverVersions().status().WithContext("connecting");
}

Row Worker::Draw() {
  uint64_t r = rng_() % config_.mix.total();
  for (int op = 0; op < kMixOps; ++op) {
    if (r < config_.mix.weights[op]) return static_cast<Row>(op);
    r -= config_.mix.weights[op];
  }
  return Row::kGet;
}

uint64_t Worker::RandomIndex() { return rng_() % config_.pool->size; }

const std::string& Worker::RandomUid() {
  return config_.pool->uids[rng_() % config_.pool->uids.size()];
}

void Worker::Record(Row row, Clock::time_point start, Clock::time_point end, const Status& status) {
  const int i = static_cast<int>(row);
  stats_.latency[i].Record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()));
  if (!status.ok()) {
    ++stats_.errors[i];
    if (stats_.first_error[i].empty()) stats_.first_error[i] = status.ToString();
  }
}

// Each operation checks the answer is the one asked for, so that a server
// answering fast but wrongly counts as failing.
Result<PreparedOp> Worker::Prepare(Row op) {
  const kmip::ProtocolVersion v = config_.version;
  PreparedOp p;
  switch (op) {
    case Row::kGet: {
      kmip::GetRequest r;
      r.uid = RandomUid();
      p.operation = kmip::Operation::kGet;
      ASSIGN_OR_RETURN(p.payload, r.Encode(v));
      p.check = [uid = *r.uid, v](const ttlv::Item& answer) -> Status {
        ASSIGN_OR_RETURN(kmip::GetResponse got, kmip::GetResponse::Decode(answer, v));
        if (got.uid != uid) return Unexpected("Get returned object " + got.uid);
        if (!got.object.key_block || got.object.key_block->key_material.size() != 32) {
          return Unexpected("Get did not return a 32-byte key");
        }
        return OkStatus();
      };
      return p;
    }
    case Row::kGetAttributes: {
      kmip::GetAttributesRequest r{RandomUid(), {"State", "Cryptographic Length", "Name"}};
      p.operation = kmip::Operation::kGetAttributes;
      ASSIGN_OR_RETURN(p.payload, r.Encode(v));
      p.check = [uid = *r.uid, v](const ttlv::Item& answer) -> Status {
        ASSIGN_OR_RETURN(kmip::GetAttributesResponse got,
                         kmip::GetAttributesResponse::Decode(answer, v));
        if (got.uid != uid) return Unexpected("Get Attributes returned object " + got.uid);
        if (kmip::FindAttribute(got.attributes, "Cryptographic Length") == nullptr) {
          return Unexpected("Get Attributes lacks Cryptographic Length");
        }
        return OkStatus();
      };
      return p;
    }
    case Row::kLocate: {
      const uint64_t index = RandomIndex();
      kmip::LocateRequest r;
      r.attributes = {Attribute::Name(config_.pool->name_prefix + std::to_string(index))};
      p.operation = kmip::Operation::kLocate;
      ASSIGN_OR_RETURN(p.payload, r.Encode(v));
      const Pool* pool = config_.pool;
      p.check = [index, pool, v](const ttlv::Item& answer) -> Status {
        ASSIGN_OR_RETURN(kmip::LocateResponse found, kmip::LocateResponse::Decode(answer, v));
        if (found.uids.size() != 1) {
          return Unexpected("Locate by name found " + std::to_string(found.uids.size()) +
                            " objects, expected 1");
        }
        if (index % pool->stride == 0 && found.uids[0] != pool->uids[index / pool->stride]) {
          return Unexpected("Locate by name found another object");
        }
        return OkStatus();
      };
      return p;
    }
    case Row::kAddAttribute: {
      // A custom attribute, as vCenter adds x-Component / x-Name / x-Identifier
      // to its keys; multiple instances are allowed (KMIP 1.4 §3.1).
      kmip::AddAttributeRequest r;
      r.uid = RandomUid();
      r.attribute = Attribute::Text(
          "x-kms-load", std::to_string(config_.worker_index) + "-" + std::to_string(++sequence_));
      p.operation = kmip::Operation::kAddAttribute;
      ASSIGN_OR_RETURN(p.payload, r.Encode(v));
      p.check = [uid = *r.uid, v](const ttlv::Item& answer) -> Status {
        ASSIGN_OR_RETURN(kmip::AttributeChangeResponse changed,
                         kmip::AttributeChangeResponse::Decode(answer, v));
        if (changed.uid != uid) return Unexpected("Add Attribute changed object " + changed.uid);
        return OkStatus();
      };
      return p;
    }
    case Row::kCreate: {
      p.operation = kmip::Operation::kCreate;
      ASSIGN_OR_RETURN(p.payload, Aes256(std::nullopt).Encode(v));
      p.check = [v](const ttlv::Item& answer) -> Status {
        ASSIGN_OR_RETURN(kmip::CreateResponse created, kmip::CreateResponse::Decode(answer, v));
        if (created.uid.empty()) return Unexpected("Create returned no identifier");
        return OkStatus();
      };
      return p;
    }
    default:
      return InternalError("not a mix operation");
  }
}

Status Worker::Do(Row op) {
  ASSIGN_OR_RETURN(PreparedOp p, Prepare(op));
  ASSIGN_OR_RETURN(ttlv::Item answer, client_->Call(p.operation, p.payload));
  return p.check(answer);
}

void Worker::Run(Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    const Row op = Draw();
    if (config_.mode == Mode::kPersistent) {
      const auto start = Clock::now();
      Status s = Do(op);
      Record(op, start, Clock::now(), s);
      continue;
    }
    // A vCenter-style session: new TCP connection and TLS handshake (full,
    // or resuming the previous session with --resume), Discover Versions,
    // one operation, close.
    const auto start = Clock::now();
    Status s = client_->DiscoverVersions().status();
    const auto connected = Clock::now();
    if (s.ok() && client_->resumed()) ++stats_.sessions_resumed;
    Record(Row::kConnectDiscover, start, connected, s);
    Status op_status = s;
    if (s.ok()) {
      op_status = Do(op);
      Record(op, connected, Clock::now(), op_status);
    }
    client_->Close();
    Record(Row::kSession, start, Clock::now(), op_status);
  }
  if (config_.mode == Mode::kPersistent) client_->Close();
}

}  // namespace vmcrypt::bench
