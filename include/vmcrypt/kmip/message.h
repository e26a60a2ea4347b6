// KMIP request and response messages (KMIP 1.4 §7, 2.1 §8): headers, batch
// items with Unique Batch Item IDs, result status/reason/message. Payloads
// stay as TTLV items here; payloads.h gives them types.
//
// Encoding is strict per protocol version: header fields that a version lacks
// are rejected on encoding, never silently sent.
//
// Thread-safety: values.
#ifndef VMCRYPT_KMIP_MESSAGE_H_
#define VMCRYPT_KMIP_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip {

// Fields are listed in wire order; the comments give the first version that
// has them where that is not 1.0.
struct RequestBatchItem {
  Operation operation = Operation::kDiscoverVersions;
  std::optional<bool> ephemeral;  // 2.0
  std::optional<ttlv::Bytes> unique_batch_item_id;
  ttlv::Item payload = ttlv::Item::Structure(0x420079);  // Request Payload
  std::optional<ttlv::Item> message_extension;
};

struct RequestMessage {
  ProtocolVersion version = kKmip14;
  std::optional<int32_t> maximum_response_size;
  std::optional<std::string> client_correlation_value;  // 1.4
  std::optional<std::string> server_correlation_value;  // 1.4
  std::optional<bool> asynchronous_indicator;
  std::optional<bool> attestation_capable_indicator;  // 1.2
  std::vector<uint32_t> attestation_types;            // 1.2
  std::optional<ttlv::Item> authentication;           // kept as given
  std::optional<uint32_t> batch_error_continuation_option;
  std::optional<bool> batch_order_option;
  std::optional<int64_t> time_stamp;  // seconds since the epoch
  std::vector<RequestBatchItem> items;
};

struct ResponseBatchItem {
  std::optional<Operation> operation;  // required on success (KMIP 1.4 §7.3)
  std::optional<ttlv::Bytes> unique_batch_item_id;
  ResultStatus status = ResultStatus::kSuccess;
  std::optional<ResultReason> reason;
  std::optional<std::string> message;
  std::optional<ttlv::Bytes> asynchronous_correlation_value;
  std::optional<ttlv::Item> payload;  // Response Payload
  std::optional<ttlv::Item> message_extension;

  bool ok() const { return status == ResultStatus::kSuccess; }
  // A Status for a failed item: "Item Not Found: <message>".
  Status ToStatus() const;
};

struct ResponseMessage {
  ProtocolVersion version = kKmip14;
  int64_t time_stamp = 0;
  std::optional<ttlv::Item> nonce;                      // 1.2
  std::optional<ttlv::Bytes> server_hashed_password;    // 2.0
  std::vector<uint32_t> attestation_types;              // 1.2
  std::optional<std::string> client_correlation_value;  // 1.4
  std::optional<std::string> server_correlation_value;  // 1.4
  std::vector<ResponseBatchItem> items;
};

// Encoding to and from the TTLV tree of a Request/Response Message.
Result<ttlv::Item> EncodeRequest(const RequestMessage& m);
Result<RequestMessage> DecodeRequest(const ttlv::Item& item);
Result<ttlv::Item> EncodeResponse(const ResponseMessage& m);
Result<ResponseMessage> DecodeResponse(const ttlv::Item& item);

// The protocol version in a message's header, if it can be read; servers use
// it to answer a malformed request in the client's own version.
std::optional<ProtocolVersion> PeekVersion(const ttlv::Item& message);

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_MESSAGE_H_
