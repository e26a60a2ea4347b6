// Payloads of the life-cycle operations: the uid-only shapes (Activate,
// Destroy, ...), Revoke, Check and Re-key (KMIP 1.4 §4.4, §4.10, §4.19-§4.21;
// 2.1 §6.1.1, §6.1.7, §6.1.15, §6.1.44, §6.1.46).
#include "src/kmip/fields.h"
#include "src/kmip/payload_util.h"
#include "vmcrypt/kmip/payloads.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kmip {

using internal::Fields;
using ttlv::Item;
namespace tag = ttlv::tag;

// --- Unique Identifier only (e.g. 1.4 Tables 210-211, 214-215) ---------------------

Result<Item> UidRequest::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  return s;
}

Result<UidRequest> UidRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  UidRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> UidResponse::Encode(ProtocolVersion v) const {
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  return s;
}

Result<UidResponse> UidResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  UidResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Revoke (1.4 Table 212, Revocation Reason §3.31; 2.1 Table 295) -----------------

Result<Item> RevokeRequest::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  Item reason = Item::Structure(tag::kRevocationReason,
                                {Item::Enumeration(tag::kRevocationReasonCode, reason_code)});
  internal::AddText(reason, tag::kRevocationMessage, reason_message);
  s.Add(std::move(reason));
  internal::AddDateTime(s, tag::kCompromiseOccurrenceDate, compromise_occurrence_date);
  return s;
}

Result<RevokeRequest> RevokeRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  RevokeRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(Item reason, f.Struct(tag::kRevocationReason));
  ASSIGN_OR_RETURN(r.compromise_occurrence_date, f.OptDateTime(tag::kCompromiseOccurrenceDate));
  RETURN_IF_ERROR(f.Done());
  Fields rf(reason);
  ASSIGN_OR_RETURN(r.reason_code, rf.Enum(tag::kRevocationReasonCode));
  ASSIGN_OR_RETURN(r.reason_message, rf.OptText(tag::kRevocationMessage));
  RETURN_IF_ERROR(rf.Done());
  return r;
}

// --- Check (1.4 Tables 192-193; 2.1 Tables 183-184): the same fields both ways -----

Result<Item> CheckPayload::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (usage_limits_count) s.Add(Item::LongInteger(tag::kUsageLimitsCount, *usage_limits_count));
  internal::AddInt(s, tag::kCryptographicUsageMask, cryptographic_usage_mask);
  if (lease_time) s.Add(Item::Interval(tag::kLeaseTime, *lease_time));
  return s;
}

Result<CheckPayload> CheckPayload::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  CheckPayload r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.usage_limits_count, f.OptLong(tag::kUsageLimitsCount));
  ASSIGN_OR_RETURN(r.cryptographic_usage_mask, f.OptInt(tag::kCryptographicUsageMask));
  ASSIGN_OR_RETURN(r.lease_time, f.OptInterval(tag::kLeaseTime));
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Re-key (1.4 Tables 174-175; 2.1 Tables 305-306) --------------------------------

Result<Item> ReKeyRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(internal::Since(v, kKmip20, protection_storage_masks.has_value(),
                                  "Protection Storage Masks"));
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (offset) s.Add(Item::Interval(tag::kOffset, *offset));
  RETURN_IF_ERROR(
      internal::AddAttributes(s, attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  if (protection_storage_masks) {
    s.Add(protection_storage_masks->WithTag(tag::kProtectionStorageMasks));
  }
  return s;
}

Result<ReKeyRequest> ReKeyRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  ReKeyRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.offset, f.OptInterval(tag::kOffset));
  ASSIGN_OR_RETURN(r.attributes,
                   internal::TakeAttributes(f, v, tag::kTemplateAttribute, tag::kAttributes));
  if (v.is_v2()) {
    ASSIGN_OR_RETURN(r.protection_storage_masks, f.OptStruct(tag::kProtectionStorageMasks));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

}  // namespace vmcrypt::kmip
