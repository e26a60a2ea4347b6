#include "src/kms/crypto_streams.h"

#include <utility>

#include "src/kms/managed.h"
#include "vmcrypt/crypto/random.h"

namespace vmcrypt::kms::internal {

using kmip::ResultReason;

void CryptoStreams::DropExpired(int64_t now) {
  std::erase_if(streams_,
                [now](const auto& kv) { return now - kv.second.last_used > kIdleSeconds; });
}

Result<ttlv::Bytes> CryptoStreams::Start(Entry entry, int64_t now) {
  ttlv::Bytes correlation(16);
  RETURN_IF_ERROR(crypto::RandomBytes(correlation));
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now);
  if (streams_.size() >= kMaxStreams) {
    return Fail(ResultReason::kGeneralFailure,
                "too many multi-part calls in progress; finish some or send the data in one "
                "request");
  }
  entry.last_used = now;
  streams_.insert_or_assign(correlation, std::move(entry));
  return correlation;
}

Result<CryptoStreams::Entry> CryptoStreams::Take(const ttlv::Bytes& correlation,
                                                 const std::string& tenant,
                                                 kmip::Operation operation, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  DropExpired(now);
  auto it = streams_.find(correlation);
  if (it == streams_.end() || it->second.tenant != tenant || it->second.operation != operation) {
    return Fail(ResultReason::kInvalidField,
                "no multi-part " + std::string(kmip::OperationName(operation)) +
                    " with that Correlation Value is in progress (unknown, finished or expired)");
  }
  Entry e = std::move(it->second);
  streams_.erase(it);
  return e;
}

void CryptoStreams::PutBack(const ttlv::Bytes& correlation, Entry entry, int64_t now) {
  std::lock_guard<std::mutex> lock(mu_);
  entry.last_used = now;
  streams_.insert_or_assign(correlation, std::move(entry));
}

size_t CryptoStreams::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_.size();
}

}  // namespace vmcrypt::kms::internal
