#include "vmcrypt/kmip/message.h"

#include "src/kmip/fields.h"
#include "src/kmip/payload_util.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using internal::Fields;
using ttlv::Item;
namespace tag = ttlv::tag;

// Version checks for header fields (KMIP 1.4 §7.2 and 2.1 §8: the tables list
// when each field appeared).
Status CheckHeaderVersions(ProtocolVersion v, bool correlation, bool attestation) {
  if (correlation && v < kKmip14)
    return internal::NotInVersion("Client/Server Correlation Value", "1.4");
  if (attestation && v < kKmip12) return internal::NotInVersion("Attestation", "1.2");
  return OkStatus();
}

}  // namespace

Status ResponseBatchItem::ToStatus() const {
  if (ok()) return OkStatus();
  std::string text;
  if (reason.has_value()) {
    std::string_view name = ResultReasonName(*reason);
    text = name.empty() ? "result reason " + std::to_string(static_cast<uint32_t>(*reason))
                        : std::string(name);
  } else {
    text = status == ResultStatus::kOperationPending ? "Operation Pending" : "Operation Failed";
  }
  if (message.has_value() && !message->empty()) text += ": " + *message;
  const ResultReason r = reason.value_or(ResultReason::kGeneralFailure);
  return Status(StatusCodeFor(r), text).WithDetail(static_cast<int32_t>(r));
}

Result<Item> EncodeRequest(const RequestMessage& m) {
  const ProtocolVersion v = m.version;
  RETURN_IF_ERROR(
      CheckHeaderVersions(v, m.client_correlation_value || m.server_correlation_value,
                          m.attestation_capable_indicator || !m.attestation_types.empty()));
  Item header = Item::Structure(tag::kRequestHeader, {internal::EncodeProtocolVersion(v)});
  internal::AddInt(header, tag::kMaximumResponseSize, m.maximum_response_size);
  internal::AddText(header, tag::kClientCorrelationValue, m.client_correlation_value);
  internal::AddText(header, tag::kServerCorrelationValue, m.server_correlation_value);
  internal::AddBool(header, tag::kAsynchronousIndicator, m.asynchronous_indicator);
  internal::AddBool(header, tag::kAttestationCapableIndicator, m.attestation_capable_indicator);
  for (uint32_t t : m.attestation_types) header.Add(Item::Enumeration(tag::kAttestationType, t));
  internal::AddItem(header, m.authentication);
  internal::AddEnum(header, tag::kBatchErrorContinuationOption, m.batch_error_continuation_option);
  internal::AddBool(header, tag::kBatchOrderOption, m.batch_order_option);
  internal::AddDateTime(header, tag::kTimeStamp, m.time_stamp);
  header.Add(Item::Integer(tag::kBatchCount, static_cast<int32_t>(m.items.size())));

  Item msg = Item::Structure(tag::kRequestMessage, {std::move(header)});
  for (const RequestBatchItem& b : m.items) {
    if (b.ephemeral && !v.is_v2()) return internal::NotInVersion("Ephemeral", "2.0");
    Item bi = Item::Structure(tag::kBatchItem);
    bi.Add(Item::Enumeration(tag::kOperation, static_cast<uint32_t>(b.operation)));
    internal::AddBool(bi, tag::kEphemeral, b.ephemeral);
    internal::AddBytes(bi, tag::kUniqueBatchItemId, b.unique_batch_item_id);
    bi.Add(b.payload.WithTag(tag::kRequestPayload));
    internal::AddItem(bi, b.message_extension);
    msg.Add(std::move(bi));
  }
  return msg;
}

Result<RequestMessage> DecodeRequest(const Item& item) {
  if (item.tag() != tag::kRequestMessage) return InvalidArgumentError("not a Request Message");
  Fields f(item);
  RequestMessage m;
  ASSIGN_OR_RETURN(Item header, f.Struct(tag::kRequestHeader));
  {
    Fields h(header);
    ASSIGN_OR_RETURN(Item version, h.Struct(tag::kProtocolVersion));
    ASSIGN_OR_RETURN(m.version, internal::DecodeProtocolVersion(version));
    ASSIGN_OR_RETURN(m.maximum_response_size, h.OptInt(tag::kMaximumResponseSize));
    ASSIGN_OR_RETURN(m.client_correlation_value, h.OptText(tag::kClientCorrelationValue));
    ASSIGN_OR_RETURN(m.server_correlation_value, h.OptText(tag::kServerCorrelationValue));
    ASSIGN_OR_RETURN(m.asynchronous_indicator, h.OptBool(tag::kAsynchronousIndicator));
    ASSIGN_OR_RETURN(m.attestation_capable_indicator, h.OptBool(tag::kAttestationCapableIndicator));
    ASSIGN_OR_RETURN(m.attestation_types, h.AllEnums(tag::kAttestationType));
    ASSIGN_OR_RETURN(m.authentication, h.OptStruct(tag::kAuthentication));
    ASSIGN_OR_RETURN(m.batch_error_continuation_option,
                     h.OptEnum(tag::kBatchErrorContinuationOption));
    ASSIGN_OR_RETURN(m.batch_order_option, h.OptBool(tag::kBatchOrderOption));
    ASSIGN_OR_RETURN(m.time_stamp, h.OptDateTime(tag::kTimeStamp));
    ASSIGN_OR_RETURN(int32_t count, h.Int(tag::kBatchCount));
    RETURN_IF_ERROR(h.Done());
    for (const Item* bi : f.All(tag::kBatchItem)) {
      Fields b(*bi);
      RequestBatchItem rb;
      ASSIGN_OR_RETURN(uint32_t op, b.Enum(tag::kOperation));
      rb.operation = static_cast<Operation>(op);
      ASSIGN_OR_RETURN(rb.ephemeral, b.OptBool(tag::kEphemeral));
      ASSIGN_OR_RETURN(rb.unique_batch_item_id, b.OptBytes(tag::kUniqueBatchItemId));
      ASSIGN_OR_RETURN(rb.payload, b.Struct(tag::kRequestPayload));
      ASSIGN_OR_RETURN(rb.message_extension, b.OptStruct(tag::kMessageExtension));
      RETURN_IF_ERROR(b.Done());
      m.items.push_back(std::move(rb));
    }
    if (count < 0 || static_cast<size_t>(count) != m.items.size()) {
      return InvalidArgumentError("Request Message: Batch Count " + std::to_string(count) +
                                  " but " + std::to_string(m.items.size()) + " Batch Item(s)");
    }
  }
  RETURN_IF_ERROR(f.Done());
  if (m.items.empty()) return InvalidArgumentError("Request Message: no Batch Item");
  return m;
}

Result<Item> EncodeResponse(const ResponseMessage& m) {
  const ProtocolVersion v = m.version;
  RETURN_IF_ERROR(CheckHeaderVersions(v, m.client_correlation_value || m.server_correlation_value,
                                      m.nonce || !m.attestation_types.empty()));
  if (m.server_hashed_password && !v.is_v2()) {
    return internal::NotInVersion("Server Hashed Password", "2.0");
  }
  Item header = Item::Structure(tag::kResponseHeader, {internal::EncodeProtocolVersion(v)});
  header.Add(Item::DateTime(tag::kTimeStamp, m.time_stamp));
  internal::AddItem(header, m.nonce);
  internal::AddBytes(header, tag::kServerHashedPassword, m.server_hashed_password);
  for (uint32_t t : m.attestation_types) header.Add(Item::Enumeration(tag::kAttestationType, t));
  internal::AddText(header, tag::kClientCorrelationValue, m.client_correlation_value);
  internal::AddText(header, tag::kServerCorrelationValue, m.server_correlation_value);
  header.Add(Item::Integer(tag::kBatchCount, static_cast<int32_t>(m.items.size())));

  Item msg = Item::Structure(tag::kResponseMessage, {std::move(header)});
  for (const ResponseBatchItem& b : m.items) {
    Item bi = Item::Structure(tag::kBatchItem);
    if (b.operation)
      bi.Add(Item::Enumeration(tag::kOperation, static_cast<uint32_t>(*b.operation)));
    internal::AddBytes(bi, tag::kUniqueBatchItemId, b.unique_batch_item_id);
    bi.Add(Item::Enumeration(tag::kResultStatus, static_cast<uint32_t>(b.status)));
    if (b.reason) bi.Add(Item::Enumeration(tag::kResultReason, static_cast<uint32_t>(*b.reason)));
    internal::AddText(bi, tag::kResultMessage, b.message);
    internal::AddBytes(bi, tag::kAsynchronousCorrelationValue, b.asynchronous_correlation_value);
    if (b.payload) bi.Add(b.payload->WithTag(tag::kResponsePayload));
    internal::AddItem(bi, b.message_extension);
    msg.Add(std::move(bi));
  }
  return msg;
}

Result<ResponseMessage> DecodeResponse(const Item& item) {
  if (item.tag() != tag::kResponseMessage) return InvalidArgumentError("not a Response Message");
  Fields f(item);
  ResponseMessage m;
  ASSIGN_OR_RETURN(Item header, f.Struct(tag::kResponseHeader));
  Fields h(header);
  ASSIGN_OR_RETURN(Item version, h.Struct(tag::kProtocolVersion));
  ASSIGN_OR_RETURN(m.version, internal::DecodeProtocolVersion(version));
  ASSIGN_OR_RETURN(m.time_stamp, h.DateTime(tag::kTimeStamp));
  ASSIGN_OR_RETURN(m.nonce, h.OptStruct(tag::kNonce));
  ASSIGN_OR_RETURN(m.server_hashed_password, h.OptBytes(tag::kServerHashedPassword));
  ASSIGN_OR_RETURN(m.attestation_types, h.AllEnums(tag::kAttestationType));
  ASSIGN_OR_RETURN(m.client_correlation_value, h.OptText(tag::kClientCorrelationValue));
  ASSIGN_OR_RETURN(m.server_correlation_value, h.OptText(tag::kServerCorrelationValue));
  ASSIGN_OR_RETURN(int32_t count, h.Int(tag::kBatchCount));
  RETURN_IF_ERROR(h.Done());
  for (const Item* bi : f.All(tag::kBatchItem)) {
    Fields b(*bi);
    ResponseBatchItem rb;
    ASSIGN_OR_RETURN(std::optional<uint32_t> op, b.OptEnum(tag::kOperation));
    if (op) rb.operation = static_cast<Operation>(*op);
    ASSIGN_OR_RETURN(rb.unique_batch_item_id, b.OptBytes(tag::kUniqueBatchItemId));
    ASSIGN_OR_RETURN(uint32_t status, b.Enum(tag::kResultStatus));
    rb.status = static_cast<ResultStatus>(status);
    ASSIGN_OR_RETURN(std::optional<uint32_t> reason, b.OptEnum(tag::kResultReason));
    if (reason) rb.reason = static_cast<ResultReason>(*reason);
    ASSIGN_OR_RETURN(rb.message, b.OptText(tag::kResultMessage));
    ASSIGN_OR_RETURN(rb.asynchronous_correlation_value,
                     b.OptBytes(tag::kAsynchronousCorrelationValue));
    ASSIGN_OR_RETURN(rb.payload, b.OptStruct(tag::kResponsePayload));
    ASSIGN_OR_RETURN(rb.message_extension, b.OptStruct(tag::kMessageExtension));
    RETURN_IF_ERROR(b.Done());
    m.items.push_back(std::move(rb));
  }
  RETURN_IF_ERROR(f.Done());
  if (count < 0 || static_cast<size_t>(count) != m.items.size()) {
    return InvalidArgumentError("Response Message: Batch Count " + std::to_string(count) + " but " +
                                std::to_string(m.items.size()) + " Batch Item(s)");
  }
  return m;
}

std::optional<ProtocolVersion> PeekVersion(const Item& message) {
  for (uint32_t header_tag : {tag::kRequestHeader, tag::kResponseHeader}) {
    const Item* header = message.Find(header_tag);
    if (header == nullptr) continue;
    const Item* version = header->Find(tag::kProtocolVersion);
    if (version == nullptr) continue;
    auto v = internal::DecodeProtocolVersion(*version);
    if (v.ok()) return *v;
  }
  return std::nullopt;
}

}  // namespace vmcrypt::kmip
