// Payloads of Sign and Signature Verify (KMIP 1.4 §4.31, §4.32; 2.1 §6.1.55,
// §6.1.56) and Derive Key (1.4 §4.6; 2.1 §6.1.12).
//
// Sign and Signature Verify are KMIP 1.2 operations; their multi-part fields
// (Correlation Value, Init and Final Indicator) are 1.3 and Digested Data is
// 1.4. The fields and their order are those of 1.4 Tables 233-236 and 2.1
// Tables 334-338, which agree.
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

// Tags that tags.h does not name (1.4 §9.1.3.1).
constexpr uint32_t kTagSignatureData = 0x4200C3;
constexpr uint32_t kTagDigestedData = 0x420107;
constexpr uint32_t kTagValidityIndicator = 0x42009B;
constexpr uint32_t kTagDerivationMethod = 0x420031;
constexpr uint32_t kTagDerivationParameters = 0x420032;

Status CheckSignFields(ProtocolVersion v, bool digested, bool correlation, bool init, bool final,
                       const char* op) {
  RETURN_IF_ERROR(Since(v, kKmip12, true, op));
  RETURN_IF_ERROR(Since(v, kKmip13, correlation, "Correlation Value"));
  RETURN_IF_ERROR(Since(v, kKmip13, init, "Init Indicator"));
  RETURN_IF_ERROR(Since(v, kKmip13, final, "Final Indicator"));
  return Since(v, kKmip14, digested, "Digested Data");
}

}  // namespace

// --- Sign (1.4 Tables 233-234; 2.1 Tables 334-335) -----------------------------------------------

Result<Item> SignRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckSignFields(v, digested_data.has_value(), correlation_value.has_value(),
                                  init_indicator.has_value(), final_indicator.has_value(), "Sign"));
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (cryptographic_parameters) {
    s.Add(cryptographic_parameters->WithTag(tag::kCryptographicParameters));
  }
  internal::AddBytes(s, tag::kData, data);
  internal::AddBytes(s, kTagDigestedData, digested_data);
  internal::AddBytes(s, tag::kCorrelationValue, correlation_value);
  internal::AddBool(s, tag::kInitIndicator, init_indicator);
  internal::AddBool(s, tag::kFinalIndicator, final_indicator);
  return s;
}

Result<SignRequest> SignRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  SignRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.cryptographic_parameters, f.OptStruct(tag::kCryptographicParameters));
  ASSIGN_OR_RETURN(r.data, f.OptBytes(tag::kData));
  ASSIGN_OR_RETURN(r.digested_data, f.OptBytes(kTagDigestedData));
  ASSIGN_OR_RETURN(r.correlation_value, f.OptBytes(tag::kCorrelationValue));
  ASSIGN_OR_RETURN(r.init_indicator, f.OptBool(tag::kInitIndicator));
  ASSIGN_OR_RETURN(r.final_indicator, f.OptBool(tag::kFinalIndicator));
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(CheckSignFields(v, r.digested_data.has_value(), r.correlation_value.has_value(),
                                  r.init_indicator.has_value(), r.final_indicator.has_value(),
                                  "Sign"));
  return r;
}

Result<Item> SignResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckSignFields(v, false, correlation_value.has_value(), false, false, "Sign"));
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  internal::AddBytes(s, kTagSignatureData, signature_data);
  internal::AddBytes(s, tag::kCorrelationValue, correlation_value);
  return s;
}

Result<SignResponse> SignResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  SignResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.signature_data, f.OptBytes(kTagSignatureData));
  ASSIGN_OR_RETURN(r.correlation_value, f.OptBytes(tag::kCorrelationValue));
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(CheckSignFields(v, false, r.correlation_value.has_value(), false, false, "Sign"));
  return r;
}

// --- Signature Verify (1.4 Tables 235-236; 2.1 Tables 337-338)
// ------------------------------------

Result<Item> SignatureVerifyRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckSignFields(v, digested_data.has_value(), correlation_value.has_value(),
                                  init_indicator.has_value(), final_indicator.has_value(),
                                  "Signature Verify"));
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (cryptographic_parameters) {
    s.Add(cryptographic_parameters->WithTag(tag::kCryptographicParameters));
  }
  internal::AddBytes(s, tag::kData, data);
  internal::AddBytes(s, kTagDigestedData, digested_data);
  internal::AddBytes(s, kTagSignatureData, signature_data);
  internal::AddBytes(s, tag::kCorrelationValue, correlation_value);
  internal::AddBool(s, tag::kInitIndicator, init_indicator);
  internal::AddBool(s, tag::kFinalIndicator, final_indicator);
  return s;
}

Result<SignatureVerifyRequest> SignatureVerifyRequest::Decode(const Item& payload,
                                                              ProtocolVersion v) {
  Fields f(payload);
  SignatureVerifyRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.cryptographic_parameters, f.OptStruct(tag::kCryptographicParameters));
  ASSIGN_OR_RETURN(r.data, f.OptBytes(tag::kData));
  ASSIGN_OR_RETURN(r.digested_data, f.OptBytes(kTagDigestedData));
  ASSIGN_OR_RETURN(r.signature_data, f.OptBytes(kTagSignatureData));
  ASSIGN_OR_RETURN(r.correlation_value, f.OptBytes(tag::kCorrelationValue));
  ASSIGN_OR_RETURN(r.init_indicator, f.OptBool(tag::kInitIndicator));
  ASSIGN_OR_RETURN(r.final_indicator, f.OptBool(tag::kFinalIndicator));
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(CheckSignFields(v, r.digested_data.has_value(), r.correlation_value.has_value(),
                                  r.init_indicator.has_value(), r.final_indicator.has_value(),
                                  "Signature Verify"));
  return r;
}

Result<Item> SignatureVerifyResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(
      CheckSignFields(v, false, correlation_value.has_value(), false, false, "Signature Verify"));
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  internal::AddEnum(s, kTagValidityIndicator, validity_indicator);
  internal::AddBytes(s, tag::kData, data);
  internal::AddBytes(s, tag::kCorrelationValue, correlation_value);
  return s;
}

Result<SignatureVerifyResponse> SignatureVerifyResponse::Decode(const Item& payload,
                                                                ProtocolVersion v) {
  Fields f(payload);
  SignatureVerifyResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.validity_indicator, f.OptEnum(kTagValidityIndicator));
  ASSIGN_OR_RETURN(r.data, f.OptBytes(tag::kData));
  ASSIGN_OR_RETURN(r.correlation_value, f.OptBytes(tag::kCorrelationValue));
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(
      CheckSignFields(v, false, r.correlation_value.has_value(), false, false, "Signature Verify"));
  return r;
}

// --- Derive Key (1.4 Table 180; 2.1 Table 205)
// ----------------------------------------------------

Result<Item> DeriveKeyRequest::Encode(ProtocolVersion v) const {
  if (uids.empty()) return InvalidArgumentError("Derive Key needs at least one Unique Identifier");
  if (!derivation_parameters.is_structure()) {
    return InvalidArgumentError("Derivation Parameters must be a structure");
  }
  Item s = internal::RequestPayload();
  s.Add(Item::Enumeration(tag::kObjectType, static_cast<uint32_t>(object_type)));
  for (const std::string& uid : uids) s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  s.Add(Item::Enumeration(kTagDerivationMethod, derivation_method));
  s.Add(derivation_parameters.WithTag(kTagDerivationParameters));
  RETURN_IF_ERROR(internal::AddAttributes(s, std::optional<AttributeList>(attributes), v,
                                          tag::kTemplateAttribute, tag::kAttributes));
  return s;
}

Result<DeriveKeyRequest> DeriveKeyRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  DeriveKeyRequest r;
  ASSIGN_OR_RETURN(uint32_t type, f.Enum(tag::kObjectType));
  r.object_type = static_cast<ObjectType>(type);
  ASSIGN_OR_RETURN(r.uids, f.AllTexts(tag::kUniqueIdentifier));
  if (r.uids.empty()) return f.Error("missing Unique Identifier");
  ASSIGN_OR_RETURN(r.derivation_method, f.Enum(kTagDerivationMethod));
  ASSIGN_OR_RETURN(r.derivation_parameters, f.Struct(kTagDerivationParameters));
  ASSIGN_OR_RETURN(std::optional<AttributeList> attrs,
                   internal::TakeAttributes(f, v, tag::kTemplateAttribute, tag::kAttributes));
  if (!attrs) return f.Error(v.is_v2() ? "missing Attributes" : "missing Template-Attribute");
  r.attributes = std::move(*attrs);
  RETURN_IF_ERROR(f.Done());
  return r;
}

}  // namespace vmcrypt::kmip
