// Payloads of Encrypt, Decrypt, MAC and RNG Retrieve (KMIP 1.4 §4.29, §4.30,
// §4.33, §4.35; 2.1 §6.1.11, §6.1.17, §6.1.32, §6.1.49).
//
// The three cryptographic operations share one request and one response
// shape; `operation` selects which fields exist: IV/Counter/Nonce and
// Authenticated Encryption Additional Data only for Encrypt and Decrypt, the
// Authenticated Encryption Tag in the Decrypt request and the Encrypt
// response, and MAC Data instead of Data in the MAC response.
#include "src/kmip/fields.h"
#include "src/kmip/payload_util.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {
namespace {

using internal::Fields;
using internal::Since;
using ttlv::Item;
namespace tag = ttlv::tag;

// Encrypt, Decrypt and MAC are 1.2 operations (1.4 §4.29-§4.34).
Status CheckCryptoOperation(Operation op, ProtocolVersion v) {
  switch (op) {
    case Operation::kEncrypt:
    case Operation::kDecrypt:
    case Operation::kMac:
      return Since(v, kKmip12, true, "Encrypt/Decrypt/MAC");
    default:
      return InvalidArgumentError("not Encrypt, Decrypt or MAC: " + std::string(OperationName(op)));
  }
}

Status NotFor(Operation op, const char* field) {
  return InvalidArgumentError(std::string(field) + " is not a field of " +
                              std::string(OperationName(op)));
}

// Field and version rules of 1.4 Tables 229, 231, 237 / 2.1 Tables 196, 214,
// 259. Correlation Value and the indicators are 1.3, the authenticated
// encryption fields 1.4.
Status CheckRequest(const CryptoRequest& r, ProtocolVersion v) {
  RETURN_IF_ERROR(CheckCryptoOperation(r.operation, v));
  const bool enc_dec = r.operation != Operation::kMac;
  if (!enc_dec && r.iv_counter_nonce) return NotFor(r.operation, "IV/Counter/Nonce");
  if (!enc_dec && r.authenticated_encryption_additional_data) {
    return NotFor(r.operation, "Authenticated Encryption Additional Data");
  }
  if (r.operation != Operation::kDecrypt && r.authenticated_encryption_tag) {
    return NotFor(r.operation, "Authenticated Encryption Tag");
  }
  RETURN_IF_ERROR(Since(v, kKmip13, r.correlation_value.has_value(), "Correlation Value"));
  RETURN_IF_ERROR(Since(v, kKmip13, r.init_indicator.has_value(), "Init Indicator"));
  RETURN_IF_ERROR(Since(v, kKmip13, r.final_indicator.has_value(), "Final Indicator"));
  RETURN_IF_ERROR(Since(v, kKmip14, r.authenticated_encryption_additional_data.has_value(),
                        "Authenticated Encryption Additional Data"));
  return Since(v, kKmip14, r.authenticated_encryption_tag.has_value(),
               "Authenticated Encryption Tag");
}

// 1.4 Tables 230, 232, 238 / 2.1 Tables 197, 215, 260.
Status CheckResponse(const CryptoResponse& r, ProtocolVersion v) {
  RETURN_IF_ERROR(CheckCryptoOperation(r.operation, v));
  if (r.operation != Operation::kEncrypt && r.iv_counter_nonce) {
    return NotFor(r.operation, "IV/Counter/Nonce");
  }
  if (r.operation != Operation::kEncrypt && r.authenticated_encryption_tag) {
    return NotFor(r.operation, "Authenticated Encryption Tag");
  }
  RETURN_IF_ERROR(Since(v, kKmip13, r.correlation_value.has_value(), "Correlation Value"));
  return Since(v, kKmip14, r.authenticated_encryption_tag.has_value(),
               "Authenticated Encryption Tag");
}

Result<CryptoRequest> DecodeRequestFields(const Item& payload) {
  Fields f(payload);
  CryptoRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.cryptographic_parameters, f.OptStruct(tag::kCryptographicParameters));
  ASSIGN_OR_RETURN(std::optional<ttlv::Bytes> data, f.OptBytes(tag::kData));
  if (data) r.data = std::move(*data);
  ASSIGN_OR_RETURN(r.iv_counter_nonce, f.OptBytes(tag::kIvCounterNonce));
  ASSIGN_OR_RETURN(r.correlation_value, f.OptBytes(tag::kCorrelationValue));
  ASSIGN_OR_RETURN(r.init_indicator, f.OptBool(tag::kInitIndicator));
  ASSIGN_OR_RETURN(r.final_indicator, f.OptBool(tag::kFinalIndicator));
  ASSIGN_OR_RETURN(r.authenticated_encryption_additional_data,
                   f.OptBytes(tag::kAuthenticatedEncryptionAdditionalData));
  ASSIGN_OR_RETURN(r.authenticated_encryption_tag, f.OptBytes(tag::kAuthenticatedEncryptionTag));
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<CryptoResponse> DecodeResponseFields(const Item& payload, bool mac) {
  Fields f(payload);
  CryptoResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(std::optional<ttlv::Bytes> data, f.OptBytes(mac ? tag::kMacData : tag::kData));
  if (data) r.data = std::move(*data);
  if (!mac) {
    ASSIGN_OR_RETURN(r.iv_counter_nonce, f.OptBytes(tag::kIvCounterNonce));
  }
  ASSIGN_OR_RETURN(r.correlation_value, f.OptBytes(tag::kCorrelationValue));
  if (!mac) {
    ASSIGN_OR_RETURN(r.authenticated_encryption_tag, f.OptBytes(tag::kAuthenticatedEncryptionTag));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

}  // namespace

// --- Encrypt / Decrypt / MAC requests ------------------------------------------------

Result<Item> CryptoRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckRequest(*this, v));
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (cryptographic_parameters) {
    s.Add(cryptographic_parameters->WithTag(tag::kCryptographicParameters));
  }
  // Data is required in single-part calls, even when empty (e.g. GCM over
  // no plaintext), and optional in the parts of a multi-part call (1.4 Table
  // 229: "Yes for single-part. No for multi-part.").
  const bool multi_part = correlation_value || init_indicator || final_indicator;
  if (!data.empty() || !multi_part) s.Add(Item::ByteString(tag::kData, data));
  internal::AddBytes(s, tag::kIvCounterNonce, iv_counter_nonce);
  internal::AddBytes(s, tag::kCorrelationValue, correlation_value);
  internal::AddBool(s, tag::kInitIndicator, init_indicator);
  internal::AddBool(s, tag::kFinalIndicator, final_indicator);
  internal::AddBytes(s, tag::kAuthenticatedEncryptionAdditionalData,
                     authenticated_encryption_additional_data);
  internal::AddBytes(s, tag::kAuthenticatedEncryptionTag, authenticated_encryption_tag);
  return s;
}

Result<CryptoRequest> CryptoRequest::Decode(const Item& payload, ProtocolVersion v) {
  ASSIGN_OR_RETURN(CryptoRequest r, DecodeRequestFields(payload));
  // Without the operation, only a Decrypt request may carry a tag; MAC
  // requests have a subset of the Encrypt fields.
  r.operation = r.authenticated_encryption_tag ? Operation::kDecrypt : Operation::kEncrypt;
  RETURN_IF_ERROR(CheckRequest(r, v));
  return r;
}

Result<CryptoRequest> CryptoRequest::Decode(const Item& payload, ProtocolVersion v, Operation op) {
  ASSIGN_OR_RETURN(CryptoRequest r, DecodeRequestFields(payload));
  r.operation = op;
  RETURN_IF_ERROR(CheckRequest(r, v));
  return r;
}

// --- Encrypt / Decrypt / MAC responses -----------------------------------------------

Result<Item> CryptoResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckResponse(*this, v));
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  // As in the request: always in a single-part answer, which has no
  // Correlation Value (1.4 Tables 230, 232, 238).
  if (!data.empty() || !correlation_value) {
    s.Add(Item::ByteString(operation == Operation::kMac ? tag::kMacData : tag::kData, data));
  }
  internal::AddBytes(s, tag::kIvCounterNonce, iv_counter_nonce);
  internal::AddBytes(s, tag::kCorrelationValue, correlation_value);
  internal::AddBytes(s, tag::kAuthenticatedEncryptionTag, authenticated_encryption_tag);
  return s;
}

Result<CryptoResponse> CryptoResponse::Decode(const Item& payload, ProtocolVersion v) {
  // MAC Data tells a MAC response apart; Decrypt responses have a subset of
  // the Encrypt fields.
  const bool mac = payload.Find(tag::kMacData) != nullptr;
  ASSIGN_OR_RETURN(CryptoResponse r, DecodeResponseFields(payload, mac));
  r.operation = mac ? Operation::kMac : Operation::kEncrypt;
  RETURN_IF_ERROR(CheckResponse(r, v));
  return r;
}

Result<CryptoResponse> CryptoResponse::Decode(const Item& payload, ProtocolVersion v,
                                              Operation op) {
  RETURN_IF_ERROR(CheckCryptoOperation(op, v));
  ASSIGN_OR_RETURN(CryptoResponse r, DecodeResponseFields(payload, op == Operation::kMac));
  r.operation = op;
  RETURN_IF_ERROR(CheckResponse(r, v));
  return r;
}

// --- RNG Retrieve (1.4 Tables 241-242; 2.1 Tables 316-317), a 1.2 operation ------------

Result<Item> RngRetrieveRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(Since(v, kKmip12, true, "RNG Retrieve"));
  Item s = internal::RequestPayload();
  s.Add(Item::Integer(tag::kDataLength, data_length));
  return s;
}

Result<RngRetrieveRequest> RngRetrieveRequest::Decode(const Item& payload, ProtocolVersion v) {
  RETURN_IF_ERROR(Since(v, kKmip12, true, "RNG Retrieve"));
  Fields f(payload);
  RngRetrieveRequest r;
  ASSIGN_OR_RETURN(r.data_length, f.Int(tag::kDataLength));
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> RngRetrieveResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(Since(v, kKmip12, true, "RNG Retrieve"));
  Item s = internal::ResponsePayload();
  s.Add(Item::ByteString(tag::kData, data));
  return s;
}

Result<RngRetrieveResponse> RngRetrieveResponse::Decode(const Item& payload, ProtocolVersion v) {
  RETURN_IF_ERROR(Since(v, kKmip12, true, "RNG Retrieve"));
  Fields f(payload);
  RngRetrieveResponse r;
  ASSIGN_OR_RETURN(r.data, f.Bytes(tag::kData));
  RETURN_IF_ERROR(f.Done());
  return r;
}

}  // namespace vmcrypt::kmip
