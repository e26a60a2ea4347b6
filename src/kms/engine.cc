#include "vmcrypt/kms/engine.h"

#include <chrono>

#include "src/kms/crypto_streams.h"
#include "src/kms/managed.h"
#include "src/kms/ops.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms {

using internal::Fail;
using kmip::Operation;
using kmip::ProtocolVersion;
using kmip::ResultReason;
using kmip::ResultStatus;

namespace {

int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Supported(ProtocolVersion v, ProtocolVersion max) {
  if (v > max) return false;
  if (v.major == 1) return v.minor >= 0 && v.minor <= 4;
  if (v.major == 2) return v.minor >= 0 && v.minor <= 1;
  return false;
}

// Batch Error Continuation Option values (KMIP 1.4 §9.1.3.2.30).
constexpr uint32_t kContinue = 1;
constexpr uint32_t kStop = 2;
constexpr uint32_t kUndo = 3;

kmip::ResponseBatchItem Failure(const kmip::RequestBatchItem& item, const Status& s) {
  kmip::ResponseBatchItem r;
  r.operation = item.operation;
  r.unique_batch_item_id = item.unique_batch_item_id;
  r.status = ResultStatus::kOperationFailed;
  r.reason = internal::ReasonOf(s);
  r.message = s.message();
  return r;
}

}  // namespace

Engine::Engine(store::ObjectStore* store, RootKey* root_key, EngineOptions options, Clock clock)
    : store_(store),
      root_key_(root_key),
      options_(std::move(options)),
      clock_(std::move(clock)),
      streams_(std::make_shared<internal::CryptoStreams>()) {
  if (!clock_) clock_ = SystemNow;
}

bool Engine::Writes(const ttlv::Item& request) {
  if (request.type() != ttlv::ItemType::kStructure) return false;
  for (const ttlv::Item& item : request.children()) {
    if (item.tag() != ttlv::tag::kBatchItem || item.type() != ttlv::ItemType::kStructure) continue;
    const ttlv::Item* op = item.Find(ttlv::tag::kOperation);
    if (op == nullptr || op->type() != ttlv::ItemType::kEnumeration) continue;
    switch (static_cast<Operation>(op->int_value())) {
      case Operation::kCreate:
      case Operation::kCreateKeyPair:
      case Operation::kRegister:
      case Operation::kReKey:
      case Operation::kReKeyKeyPair:
      case Operation::kDeriveKey:
      case Operation::kCertify:
      case Operation::kReCertify:
      case Operation::kAddAttribute:
      case Operation::kModifyAttribute:
      case Operation::kDeleteAttribute:
      case Operation::kSetAttribute:
      case Operation::kAdjustAttribute:
      case Operation::kActivate:
      case Operation::kRevoke:
      case Operation::kDestroy:
      case Operation::kArchive:
      case Operation::kRecover:
      case Operation::kImport:
        return true;
      default:
        break;
    }
  }
  return false;
}

ttlv::Item Engine::InvalidMessage(std::optional<ProtocolVersion> version,
                                  const std::string& message) {
  kmip::ResponseMessage resp;
  resp.version =
      version.has_value() && Supported(*version, options_.max_version) ? *version : kmip::kKmip10;
  resp.time_stamp = clock_();
  kmip::ResponseBatchItem item;
  item.status = ResultStatus::kOperationFailed;
  item.reason = ResultReason::kInvalidMessage;
  item.message = message;
  resp.items.push_back(std::move(item));
  auto tree = kmip::EncodeResponse(resp);
  return tree.ok() ? *tree : ttlv::Item::Structure(ttlv::tag::kResponseMessage);
}

ttlv::Item Engine::Process(const ClientIdentity& client, const ttlv::Item& request,
                           std::vector<OperationRecord>* records) {
  auto msg = kmip::DecodeRequest(request);
  if (!msg.ok()) return InvalidMessage(kmip::PeekVersion(request), msg.status().message());
  const ProtocolVersion v = msg->version;
  if (!Supported(v, options_.max_version)) {
    return InvalidMessage(std::nullopt, "protocol version " + v.ToString() + " is not supported");
  }
  const uint32_t on_error = msg->batch_error_continuation_option.value_or(kStop);

  kmip::ResponseMessage resp;
  resp.version = v;
  resp.time_stamp = clock_();
  if (on_error == kUndo || (on_error != kStop && on_error != kContinue)) {
    Status s = Fail(ResultReason::kFeatureNotSupported,
                    "Batch Error Continuation Option Undo is not supported");
    for (const auto& item : msg->items) resp.items.push_back(Failure(item, s));
  } else {
    internal::Ops ops(*store_, *root_key_, options_, clock_, client, v);
    ops.set_streams(streams_.get());
    for (const kmip::RequestBatchItem& item : msg->items) {
      std::string uid;
      Result<ttlv::Item> payload = ops.Run(item.operation, item.payload, &uid);
      if (records != nullptr) {
        OperationRecord rec{item.operation, uid, ResultStatus::kSuccess, std::nullopt};
        if (!payload.ok()) {
          rec.status = ResultStatus::kOperationFailed;
          rec.reason = internal::ReasonOf(payload.status());
        }
        records->push_back(rec);
      }
      if (!payload.ok()) {
        resp.items.push_back(Failure(item, payload.status()));
        if (on_error == kStop) break;
        continue;
      }
      kmip::ResponseBatchItem r;
      r.operation = item.operation;
      r.unique_batch_item_id = item.unique_batch_item_id;
      r.payload = std::move(*payload);
      resp.items.push_back(std::move(r));
    }
  }
  auto tree = kmip::EncodeResponse(resp);
  if (tree.ok()) return *tree;
  return InvalidMessage(v, "cannot encode the response: " + tree.status().message());
}

}  // namespace vmcrypt::kms
