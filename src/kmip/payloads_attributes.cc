// Payloads of the attribute operations and Locate: Get Attributes, Get
// Attribute List, Add / Modify / Delete / Set Attribute (KMIP 1.4 §4.9,
// §4.12-§4.16; 2.1 §6.1.2, §6.1.13, §6.1.20, §6.1.21, §6.1.28, §6.1.34,
// §6.1.51).
//
// KMIP 1.x names attributes by text (Attribute, Attribute Name); KMIP 2.x
// carries them under their own tags, wrapped in New Attribute / Current
// Attribute, and refers to them by Attribute Reference.
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

// Appends an attribute reference per name: Attribute Name (1.x) or Attribute
// Reference (2.x).
Status AddReferences(Item& s, const std::vector<std::string>& names, ProtocolVersion v) {
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(Item ref, EncodeAttributeReference(name, v));
    s.Add(std::move(ref));
  }
  return OkStatus();
}

Result<std::vector<std::string>> TakeReferences(Fields& f, ProtocolVersion v) {
  std::vector<std::string> names;
  for (const Item* p : f.All(v.is_v2() ? tag::kAttributeReference : tag::kAttributeName)) {
    ASSIGN_OR_RETURN(std::string name, DecodeAttributeReference(*p));
    names.push_back(std::move(name));
  }
  return names;
}

// The attribute being added, modified or set: 1.x Attribute, 2.x New
// Attribute.
Status AddNewAttribute(Item& s, const Attribute& attr, ProtocolVersion v) {
  if (!v.is_v2()) {
    s.Add(EncodeAttribute1(attr));
    return OkStatus();
  }
  ASSIGN_OR_RETURN(Item wrapped, internal::EncodeWrappedAttribute(tag::kNewAttribute, attr));
  s.Add(std::move(wrapped));
  return OkStatus();
}

Result<Attribute> TakeNewAttribute(Fields& f, ProtocolVersion v) {
  if (!v.is_v2()) {
    ASSIGN_OR_RETURN(const Item* p, f.Required(tag::kAttribute));
    return DecodeAttribute1(*p);
  }
  ASSIGN_OR_RETURN(const Item* p, f.Required(tag::kNewAttribute));
  return internal::DecodeWrappedAttribute(*p);
}

Result<std::optional<Attribute>> TakeCurrentAttribute(Fields& f) {
  ASSIGN_OR_RETURN(const Item* p, f.Optional(tag::kCurrentAttribute));
  if (p == nullptr) return std::optional<Attribute>();
  ASSIGN_OR_RETURN(Attribute a, internal::DecodeWrappedAttribute(*p));
  return std::optional<Attribute>(std::move(a));
}

Status CheckSetAttribute(ProtocolVersion v) { return Since(v, kKmip20, true, "Set Attribute"); }

// Locate's version rules (1.4 §4.9: Offset Items and Located Items are 1.3,
// Object Group Member is 1.1).
Status CheckLocateRequest(const LocateRequest& r, ProtocolVersion v) {
  RETURN_IF_ERROR(Since(v, kKmip13, r.offset_items.has_value(), "Offset Items"));
  return Since(v, kKmip11, r.object_group_member.has_value(), "Object Group Member");
}

}  // namespace

// --- Get Attributes (1.4 Tables 196-197; 2.1 Tables 223-224) ---------------------

Result<Item> GetAttributesRequest::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  RETURN_IF_ERROR(AddReferences(s, names, v));
  return s;
}

Result<GetAttributesRequest> GetAttributesRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  GetAttributesRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.names, TakeReferences(f, v));
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> GetAttributesResponse::Encode(ProtocolVersion v) const {
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  // 1.x: Attribute*, directly in the payload; 2.x: one Attributes structure.
  if (!v.is_v2()) {
    for (const Attribute& a : attributes) s.Add(EncodeAttribute1(a));
    return s;
  }
  ASSIGN_OR_RETURN(Item attrs,
                   EncodeAttributes(attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  s.Add(std::move(attrs));
  return s;
}

Result<GetAttributesResponse> GetAttributesResponse::Decode(const Item& payload,
                                                            ProtocolVersion v) {
  Fields f(payload);
  GetAttributesResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  if (!v.is_v2()) {
    for (const Item* p : f.All(tag::kAttribute)) {
      ASSIGN_OR_RETURN(Attribute a, DecodeAttribute1(*p));
      r.attributes.push_back(std::move(a));
    }
  } else {
    ASSIGN_OR_RETURN(Item attrs, f.Struct(tag::kAttributes));
    ASSIGN_OR_RETURN(r.attributes, DecodeAttributes(attrs));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Get Attribute List (1.4 Tables 198-199; 2.1 Tables 226-227) -----------------

Result<Item> GetAttributeListRequest::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  return s;
}

Result<GetAttributeListRequest> GetAttributeListRequest::Decode(const Item& payload,
                                                                ProtocolVersion v) {
  Fields f(payload);
  GetAttributeListRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> GetAttributeListResponse::Encode(ProtocolVersion v) const {
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  RETURN_IF_ERROR(AddReferences(s, names, v));
  return s;
}

Result<GetAttributeListResponse> GetAttributeListResponse::Decode(const Item& payload,
                                                                  ProtocolVersion v) {
  Fields f(payload);
  GetAttributeListResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.names, TakeReferences(f, v));
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Add Attribute (1.4 Tables 200-201; 2.1 Tables 167-168) ----------------------

Result<Item> AddAttributeRequest::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  RETURN_IF_ERROR(AddNewAttribute(s, attribute, v));
  return s;
}

Result<AddAttributeRequest> AddAttributeRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  AddAttributeRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.attribute, TakeNewAttribute(f, v));
  RETURN_IF_ERROR(f.Done());
  return r;
}

// The response of Add, Modify and Delete Attribute: in 1.x the uid and the
// attribute (1.4 Tables 201, 203, 205), in 2.x only the uid (2.1 Tables 168,
// 203, 266).
Result<Item> AttributeChangeResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(internal::UntilV2(v, attribute.has_value(), "Attribute in the response"));
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  if (attribute) s.Add(EncodeAttribute1(*attribute));
  return s;
}

Result<AttributeChangeResponse> AttributeChangeResponse::Decode(const Item& payload,
                                                                ProtocolVersion v) {
  Fields f(payload);
  AttributeChangeResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  if (!v.is_v2()) {
    ASSIGN_OR_RETURN(const Item* p, f.Optional(tag::kAttribute));
    if (p != nullptr) {
      ASSIGN_OR_RETURN(r.attribute, DecodeAttribute1(*p));
    }
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Modify Attribute (1.4 Table 202; 2.1 Table 265) -------------------------------

Result<Item> ModifyAttributeRequest::Encode(ProtocolVersion v) const {
  if (current_attribute && !v.is_v2()) return internal::NotInVersion("Current Attribute", "2.0");
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (current_attribute) {
    ASSIGN_OR_RETURN(Item cur,
                     internal::EncodeWrappedAttribute(tag::kCurrentAttribute, *current_attribute));
    s.Add(std::move(cur));
  }
  RETURN_IF_ERROR(AddNewAttribute(s, attribute, v));
  return s;
}

Result<ModifyAttributeRequest> ModifyAttributeRequest::Decode(const Item& payload,
                                                              ProtocolVersion v) {
  Fields f(payload);
  ModifyAttributeRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  if (v.is_v2()) {
    ASSIGN_OR_RETURN(r.current_attribute, TakeCurrentAttribute(f));
  }
  ASSIGN_OR_RETURN(r.attribute, TakeNewAttribute(f, v));
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Delete Attribute (1.4 Table 204; 2.1 Table 202) -------------------------------

Result<Item> DeleteAttributeRequest::Encode(ProtocolVersion v) const {
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  if (!v.is_v2()) {
    if (current_attribute) return internal::NotInVersion("Current Attribute", "2.0");
    s.Add(Item::TextString(tag::kAttributeName, name));
    internal::AddInt(s, tag::kAttributeIndex, index);
    return s;
  }
  if (index) return InvalidArgumentError("Attribute Index does not exist in KMIP 2.x");
  // 2.x: exactly one of Current Attribute (name and value) and Attribute
  // Reference (name only).
  if (current_attribute) {
    if (!name.empty() && name != current_attribute->name) {
      return InvalidArgumentError("Delete Attribute: name and Current Attribute differ");
    }
    ASSIGN_OR_RETURN(Item cur,
                     internal::EncodeWrappedAttribute(tag::kCurrentAttribute, *current_attribute));
    s.Add(std::move(cur));
    return s;
  }
  if (name.empty()) return InvalidArgumentError("Delete Attribute: no attribute named");
  ASSIGN_OR_RETURN(Item ref, EncodeAttributeReference(name, v));
  s.Add(std::move(ref));
  return s;
}

Result<DeleteAttributeRequest> DeleteAttributeRequest::Decode(const Item& payload,
                                                              ProtocolVersion v) {
  Fields f(payload);
  DeleteAttributeRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  if (!v.is_v2()) {
    ASSIGN_OR_RETURN(r.name, f.Text(tag::kAttributeName));
    ASSIGN_OR_RETURN(r.index, f.OptInt(tag::kAttributeIndex));
    RETURN_IF_ERROR(f.Done());
    return r;
  }
  ASSIGN_OR_RETURN(r.current_attribute, TakeCurrentAttribute(f));
  ASSIGN_OR_RETURN(const Item* ref, f.Optional(tag::kAttributeReference));
  RETURN_IF_ERROR(f.Done());
  if (r.current_attribute.has_value() == (ref != nullptr)) {
    return f.Error("needs exactly one of Current Attribute and Attribute Reference");
  }
  if (ref != nullptr) {
    ASSIGN_OR_RETURN(r.name, DecodeAttributeReference(*ref));
  } else {
    r.name = r.current_attribute->name;
  }
  return r;
}

// --- Set Attribute (2.1 Tables 322-323; no 1.x equivalent) --------------------------

Result<Item> SetAttributeRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckSetAttribute(v));
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  RETURN_IF_ERROR(AddNewAttribute(s, attribute, v));
  return s;
}

Result<SetAttributeRequest> SetAttributeRequest::Decode(const Item& payload, ProtocolVersion v) {
  RETURN_IF_ERROR(CheckSetAttribute(v));
  Fields f(payload);
  SetAttributeRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.attribute, TakeNewAttribute(f, v));
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Locate (1.4 Tables 190-191; 2.1 Tables 247-248) --------------------------------

Result<Item> LocateRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckLocateRequest(*this, v));
  Item s = internal::RequestPayload();
  internal::AddInt(s, tag::kMaximumItems, maximum_items);
  internal::AddInt(s, tag::kOffsetItems, offset_items);
  internal::AddInt(s, tag::kStorageStatusMask, storage_status_mask);
  internal::AddEnum(s, tag::kObjectGroupMember, object_group_member);
  // 1.x: Attribute*, directly in the payload; 2.x: a (required) Attributes
  // structure.
  if (!v.is_v2()) {
    for (const Attribute& a : attributes) s.Add(EncodeAttribute1(a));
    return s;
  }
  ASSIGN_OR_RETURN(Item attrs,
                   EncodeAttributes(attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  s.Add(std::move(attrs));
  return s;
}

Result<LocateRequest> LocateRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  LocateRequest r;
  ASSIGN_OR_RETURN(r.maximum_items, f.OptInt(tag::kMaximumItems));
  ASSIGN_OR_RETURN(r.offset_items, f.OptInt(tag::kOffsetItems));
  ASSIGN_OR_RETURN(r.storage_status_mask, f.OptInt(tag::kStorageStatusMask));
  ASSIGN_OR_RETURN(r.object_group_member, f.OptEnum(tag::kObjectGroupMember));
  if (!v.is_v2()) {
    for (const Item* p : f.All(tag::kAttribute)) {
      ASSIGN_OR_RETURN(Attribute a, DecodeAttribute1(*p));
      r.attributes.push_back(std::move(a));
    }
  } else {
    // Required by 2.1 Table 247, but some 2.x clients omit it when there is no
    // filter; read that as "no attributes".
    ASSIGN_OR_RETURN(std::optional<Item> attrs, f.OptStruct(tag::kAttributes));
    if (attrs) {
      ASSIGN_OR_RETURN(r.attributes, DecodeAttributes(*attrs));
    }
  }
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(CheckLocateRequest(r, v));
  return r;
}

Result<Item> LocateResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(Since(v, kKmip13, located_items.has_value(), "Located Items"));
  Item s = internal::ResponsePayload();
  internal::AddInt(s, tag::kLocatedItems, located_items);
  for (const std::string& uid : uids) s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  return s;
}

Result<LocateResponse> LocateResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  LocateResponse r;
  ASSIGN_OR_RETURN(r.located_items, f.OptInt(tag::kLocatedItems));
  ASSIGN_OR_RETURN(r.uids, f.AllTexts(tag::kUniqueIdentifier));
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(Since(v, kKmip13, r.located_items.has_value(), "Located Items"));
  return r;
}

}  // namespace vmcrypt::kmip
