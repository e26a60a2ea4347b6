// Payloads of Discover Versions, Query, Create, Create Key Pair, Register and
// Get (KMIP 1.4 §4.1-§4.3, §4.11, §4.25-§4.26; 2.1 §6.1.8, §6.1.9, §6.1.16,
// §6.1.19, §6.1.40, §6.1.43).
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

Item EncodeVersions(Item s, const std::vector<ProtocolVersion>& versions) {
  for (const ProtocolVersion& pv : versions) s.Add(internal::EncodeProtocolVersion(pv));
  return s;
}

Result<std::vector<ProtocolVersion>> DecodeVersions(const Item& payload) {
  Fields f(payload);
  std::vector<ProtocolVersion> out;
  for (const Item* p : f.All(tag::kProtocolVersion)) {
    ASSIGN_OR_RETURN(ProtocolVersion pv, internal::DecodeProtocolVersion(*p));
    out.push_back(pv);
  }
  RETURN_IF_ERROR(f.Done());
  return out;
}

// Discover Versions is 1.1 (1.4 §4.26).
Status CheckDiscoverVersions(ProtocolVersion v) {
  return Since(v, kKmip11, true, "Discover Versions");
}

void AddEnums(Item& s, uint32_t t, const std::vector<uint32_t>& values) {
  for (uint32_t e : values) s.Add(Item::Enumeration(t, e));
}

void AddItems(Item& s, uint32_t t, const std::vector<Item>& items) {
  for (const Item& i : items) s.Add(i.WithTag(t));
}

std::vector<Item> TakeItems(Fields& f, uint32_t t) {
  std::vector<Item> out;
  for (const Item* p : f.All(t)) out.push_back(*p);
  return out;
}

// Which version introduced each Query response field (1.4 §4.25 and the 1.1-1.3
// change logs; Defaults Information and Protection Storage Masks are 2.0).
Status CheckQueryResponse(const QueryResponse& r, ProtocolVersion v) {
  RETURN_IF_ERROR(Since(v, kKmip11, !r.extension_information.empty(), "Extension Information"));
  RETURN_IF_ERROR(Since(v, kKmip12, !r.attestation_types.empty(), "Attestation Type"));
  RETURN_IF_ERROR(Since(v, kKmip13, !r.rng_parameters.empty(), "RNG Parameters"));
  RETURN_IF_ERROR(Since(v, kKmip13, !r.profile_information.empty(), "Profile Information"));
  RETURN_IF_ERROR(Since(v, kKmip13, !r.validation_information.empty(), "Validation Information"));
  RETURN_IF_ERROR(Since(v, kKmip13, !r.capability_information.empty(), "Capability Information"));
  RETURN_IF_ERROR(
      Since(v, kKmip13, !r.client_registration_methods.empty(), "Client Registration Method"));
  RETURN_IF_ERROR(Since(v, kKmip20, r.defaults_information.has_value(), "Defaults Information"));
  return Since(v, kKmip20, !r.protection_storage_masks.empty(), "Protection Storage Masks");
}

// The object of Register and Get must be of the payload's Object Type.
Status CheckObjectType(ObjectType payload_type, const ManagedObject& object) {
  if (payload_type == object.type) return OkStatus();
  return InvalidArgumentError("Object Type " + std::string(ObjectTypeName(payload_type)) +
                              " but the object is a " + std::string(ObjectTypeName(object.type)));
}

Result<ManagedObject> TakeObject(Fields& f, ObjectType type) {
  const uint32_t object_tag = ObjectTag(type);
  if (object_tag == 0) return f.Error("unknown Object Type");
  ASSIGN_OR_RETURN(const Item* p, f.Required(object_tag));
  return DecodeObject(*p);
}

}  // namespace

// --- Discover Versions: Protocol Version* (1.4 Tables 224-225; 2.1 Tables 211-212).

Result<Item> DiscoverVersionsRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckDiscoverVersions(v));
  return EncodeVersions(internal::RequestPayload(), versions);
}

Result<DiscoverVersionsRequest> DiscoverVersionsRequest::Decode(const Item& payload,
                                                                ProtocolVersion v) {
  RETURN_IF_ERROR(CheckDiscoverVersions(v));
  DiscoverVersionsRequest r;
  ASSIGN_OR_RETURN(r.versions, DecodeVersions(payload));
  return r;
}

Result<Item> DiscoverVersionsResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckDiscoverVersions(v));
  return EncodeVersions(internal::ResponsePayload(), versions);
}

Result<DiscoverVersionsResponse> DiscoverVersionsResponse::Decode(const Item& payload,
                                                                  ProtocolVersion v) {
  RETURN_IF_ERROR(CheckDiscoverVersions(v));
  DiscoverVersionsResponse r;
  ASSIGN_OR_RETURN(r.versions, DecodeVersions(payload));
  return r;
}

// --- Query (1.4 Tables 222-223; 2.1 Tables 282-283) ---------------------------

Result<Item> QueryRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(Since(v, kKmip20, object_groups.has_value(), "Object Groups"));
  Item s = internal::RequestPayload();
  AddEnums(s, tag::kQueryFunction, functions);
  if (object_groups) s.Add(object_groups->WithTag(tag::kObjectGroups));
  return s;
}

Result<QueryRequest> QueryRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  QueryRequest r;
  ASSIGN_OR_RETURN(r.functions, f.AllEnums(tag::kQueryFunction));
  if (v.is_v2()) {
    ASSIGN_OR_RETURN(r.object_groups, f.OptStruct(tag::kObjectGroups));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> QueryResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckQueryResponse(*this, v));
  Item s = internal::ResponsePayload();
  AddEnums(s, tag::kOperation, operations);
  AddEnums(s, tag::kObjectType, object_types);
  internal::AddText(s, tag::kVendorIdentification, vendor_identification);
  if (server_information) s.Add(server_information->WithTag(tag::kServerInformation));
  for (const std::string& ns : application_namespaces) {
    s.Add(Item::TextString(tag::kApplicationNamespace, ns));
  }
  AddItems(s, tag::kExtensionInformation, extension_information);
  AddEnums(s, tag::kAttestationType, attestation_types);
  AddItems(s, tag::kRngParameters, rng_parameters);
  AddItems(s, tag::kProfileInformation, profile_information);
  AddItems(s, tag::kValidationInformation, validation_information);
  AddItems(s, tag::kCapabilityInformation, capability_information);
  AddEnums(s, tag::kClientRegistrationMethod, client_registration_methods);
  if (defaults_information) s.Add(defaults_information->WithTag(tag::kDefaultsInformation));
  // 2.1 §7.33: a structure of Protection Storage Mask integers.
  if (!protection_storage_masks.empty()) {
    Item masks = Item::Structure(tag::kProtectionStorageMasks);
    for (int32_t m : protection_storage_masks) {
      masks.Add(Item::Integer(tag::kProtectionStorageMask, m));
    }
    s.Add(std::move(masks));
  }
  return s;
}

Result<QueryResponse> QueryResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  QueryResponse r;
  ASSIGN_OR_RETURN(r.operations, f.AllEnums(tag::kOperation));
  ASSIGN_OR_RETURN(r.object_types, f.AllEnums(tag::kObjectType));
  ASSIGN_OR_RETURN(r.vendor_identification, f.OptText(tag::kVendorIdentification));
  ASSIGN_OR_RETURN(r.server_information, f.OptStruct(tag::kServerInformation));
  ASSIGN_OR_RETURN(r.application_namespaces, f.AllTexts(tag::kApplicationNamespace));
  r.extension_information = TakeItems(f, tag::kExtensionInformation);
  ASSIGN_OR_RETURN(r.attestation_types, f.AllEnums(tag::kAttestationType));
  r.rng_parameters = TakeItems(f, tag::kRngParameters);
  r.profile_information = TakeItems(f, tag::kProfileInformation);
  r.validation_information = TakeItems(f, tag::kValidationInformation);
  r.capability_information = TakeItems(f, tag::kCapabilityInformation);
  ASSIGN_OR_RETURN(r.client_registration_methods, f.AllEnums(tag::kClientRegistrationMethod));
  ASSIGN_OR_RETURN(r.defaults_information, f.OptStruct(tag::kDefaultsInformation));
  ASSIGN_OR_RETURN(std::optional<Item> masks, f.OptStruct(tag::kProtectionStorageMasks));
  RETURN_IF_ERROR(f.Done());
  if (masks) {
    Fields m(*masks);
    for (const Item* p : m.All(tag::kProtectionStorageMask)) {
      if (p->type() != ttlv::ItemType::kInteger) return m.Error("Protection Storage Mask type");
      r.protection_storage_masks.push_back(static_cast<int32_t>(p->int_value()));
    }
    RETURN_IF_ERROR(m.Done());
  }
  RETURN_IF_ERROR(CheckQueryResponse(r, v));
  return r;
}

// --- Create (1.4 Tables 163-164; 2.1 Tables 186-187) ---------------------------

Result<Item> CreateRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(
      Since(v, kKmip20, protection_storage_masks.has_value(), "Protection Storage Masks"));
  Item s = internal::RequestPayload();
  s.Add(Item::Enumeration(tag::kObjectType, static_cast<uint32_t>(object_type)));
  RETURN_IF_ERROR(
      internal::AddAttributes(s, attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  if (protection_storage_masks) {
    s.Add(protection_storage_masks->WithTag(tag::kProtectionStorageMasks));
  }
  return s;
}

Result<CreateRequest> CreateRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  CreateRequest r;
  ASSIGN_OR_RETURN(uint32_t type, f.Enum(tag::kObjectType));
  r.object_type = static_cast<ObjectType>(type);
  ASSIGN_OR_RETURN(std::optional<AttributeList> attrs,
                   internal::TakeAttributes(f, v, tag::kTemplateAttribute, tag::kAttributes));
  if (!attrs) return f.Error(v.is_v2() ? "missing Attributes" : "missing Template-Attribute");
  r.attributes = std::move(*attrs);
  if (v.is_v2()) {
    ASSIGN_OR_RETURN(r.protection_storage_masks, f.OptStruct(tag::kProtectionStorageMasks));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> CreateResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(internal::UntilV2(v, attributes.has_value(), "Template-Attribute"));
  Item s = internal::ResponsePayload();
  s.Add(Item::Enumeration(tag::kObjectType, static_cast<uint32_t>(object_type)));
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  RETURN_IF_ERROR(
      internal::AddAttributes(s, attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  return s;
}

Result<CreateResponse> CreateResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  CreateResponse r;
  ASSIGN_OR_RETURN(uint32_t type, f.Enum(tag::kObjectType));
  r.object_type = static_cast<ObjectType>(type);
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  if (!v.is_v2()) {
    ASSIGN_OR_RETURN(r.attributes,
                     internal::TakeAttributes(f, v, tag::kTemplateAttribute, tag::kAttributes));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Create Key Pair (1.4 Tables 166-167; 2.1 Tables 189-190) -------------------

Result<Item> CreateKeyPairRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(Since(v, kKmip20,
                        common_protection_storage_masks || private_protection_storage_masks ||
                            public_protection_storage_masks,
                        "Protection Storage Masks"));
  Item s = internal::RequestPayload();
  RETURN_IF_ERROR(internal::AddAttributes(s, common_attributes, v, tag::kCommonTemplateAttribute,
                                          tag::kCommonAttributes));
  RETURN_IF_ERROR(internal::AddAttributes(
      s, private_key_attributes, v, tag::kPrivateKeyTemplateAttribute, tag::kPrivateKeyAttributes));
  RETURN_IF_ERROR(internal::AddAttributes(
      s, public_key_attributes, v, tag::kPublicKeyTemplateAttribute, tag::kPublicKeyAttributes));
  if (common_protection_storage_masks) {
    s.Add(common_protection_storage_masks->WithTag(tag::kCommonProtectionStorageMasks));
  }
  if (private_protection_storage_masks) {
    s.Add(private_protection_storage_masks->WithTag(tag::kPrivateProtectionStorageMasks));
  }
  if (public_protection_storage_masks) {
    s.Add(public_protection_storage_masks->WithTag(tag::kPublicProtectionStorageMasks));
  }
  return s;
}

Result<CreateKeyPairRequest> CreateKeyPairRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  CreateKeyPairRequest r;
  ASSIGN_OR_RETURN(
      r.common_attributes,
      internal::TakeAttributes(f, v, tag::kCommonTemplateAttribute, tag::kCommonAttributes));
  ASSIGN_OR_RETURN(r.private_key_attributes,
                   internal::TakeAttributes(f, v, tag::kPrivateKeyTemplateAttribute,
                                            tag::kPrivateKeyAttributes));
  ASSIGN_OR_RETURN(
      r.public_key_attributes,
      internal::TakeAttributes(f, v, tag::kPublicKeyTemplateAttribute, tag::kPublicKeyAttributes));
  if (v.is_v2()) {
    ASSIGN_OR_RETURN(r.common_protection_storage_masks,
                     f.OptStruct(tag::kCommonProtectionStorageMasks));
    ASSIGN_OR_RETURN(r.private_protection_storage_masks,
                     f.OptStruct(tag::kPrivateProtectionStorageMasks));
    ASSIGN_OR_RETURN(r.public_protection_storage_masks,
                     f.OptStruct(tag::kPublicProtectionStorageMasks));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> CreateKeyPairResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(internal::UntilV2(v, private_key_attributes || public_key_attributes,
                                    "Private/Public Key Template-Attribute"));
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kPrivateKeyUniqueIdentifier, private_key_uid));
  s.Add(Item::TextString(tag::kPublicKeyUniqueIdentifier, public_key_uid));
  RETURN_IF_ERROR(internal::AddAttributes(
      s, private_key_attributes, v, tag::kPrivateKeyTemplateAttribute, tag::kPrivateKeyAttributes));
  RETURN_IF_ERROR(internal::AddAttributes(
      s, public_key_attributes, v, tag::kPublicKeyTemplateAttribute, tag::kPublicKeyAttributes));
  return s;
}

Result<CreateKeyPairResponse> CreateKeyPairResponse::Decode(const Item& payload,
                                                            ProtocolVersion v) {
  Fields f(payload);
  CreateKeyPairResponse r;
  ASSIGN_OR_RETURN(r.private_key_uid, f.Text(tag::kPrivateKeyUniqueIdentifier));
  ASSIGN_OR_RETURN(r.public_key_uid, f.Text(tag::kPublicKeyUniqueIdentifier));
  if (!v.is_v2()) {
    ASSIGN_OR_RETURN(r.private_key_attributes,
                     internal::TakeAttributes(f, v, tag::kPrivateKeyTemplateAttribute,
                                              tag::kPrivateKeyAttributes));
    ASSIGN_OR_RETURN(r.public_key_attributes,
                     internal::TakeAttributes(f, v, tag::kPublicKeyTemplateAttribute,
                                              tag::kPublicKeyAttributes));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Register (1.4 Tables 169-170; 2.1 Tables 291-292) --------------------------

Result<Item> RegisterRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(
      Since(v, kKmip20, protection_storage_masks.has_value(), "Protection Storage Masks"));
  RETURN_IF_ERROR(CheckObjectType(object_type, object));
  Item s = internal::RequestPayload();
  s.Add(Item::Enumeration(tag::kObjectType, static_cast<uint32_t>(object_type)));
  RETURN_IF_ERROR(
      internal::AddAttributes(s, attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  ASSIGN_OR_RETURN(Item obj, EncodeObject(object, v));
  s.Add(std::move(obj));
  if (protection_storage_masks) {
    s.Add(protection_storage_masks->WithTag(tag::kProtectionStorageMasks));
  }
  return s;
}

Result<RegisterRequest> RegisterRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  RegisterRequest r;
  ASSIGN_OR_RETURN(uint32_t type, f.Enum(tag::kObjectType));
  r.object_type = static_cast<ObjectType>(type);
  ASSIGN_OR_RETURN(std::optional<AttributeList> attrs,
                   internal::TakeAttributes(f, v, tag::kTemplateAttribute, tag::kAttributes));
  if (!attrs) return f.Error(v.is_v2() ? "missing Attributes" : "missing Template-Attribute");
  r.attributes = std::move(*attrs);
  ASSIGN_OR_RETURN(r.object, TakeObject(f, r.object_type));
  if (v.is_v2()) {
    ASSIGN_OR_RETURN(r.protection_storage_masks, f.OptStruct(tag::kProtectionStorageMasks));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

Result<Item> RegisterResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(internal::UntilV2(v, attributes.has_value(), "Template-Attribute"));
  Item s = internal::ResponsePayload();
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  RETURN_IF_ERROR(
      internal::AddAttributes(s, attributes, v, tag::kTemplateAttribute, tag::kAttributes));
  return s;
}

Result<RegisterResponse> RegisterResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  RegisterResponse r;
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  if (!v.is_v2()) {
    ASSIGN_OR_RETURN(r.attributes,
                     internal::TakeAttributes(f, v, tag::kTemplateAttribute, tag::kAttributes));
  }
  RETURN_IF_ERROR(f.Done());
  return r;
}

// --- Get (1.4 Tables 194-195; 2.1 Tables 220-221) -------------------------------

Result<Item> GetRequest::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(Since(v, kKmip14, key_wrap_type.has_value(), "Key Wrap Type"));
  Item s = internal::RequestPayload();
  internal::AddText(s, tag::kUniqueIdentifier, uid);
  internal::AddEnum(s, tag::kKeyFormatType, key_format_type);
  internal::AddEnum(s, tag::kKeyWrapType, key_wrap_type);
  internal::AddEnum(s, tag::kKeyCompressionType, key_compression_type);
  if (key_wrapping_specification) {
    s.Add(key_wrapping_specification->WithTag(tag::kKeyWrappingSpecification));
  }
  return s;
}

Result<GetRequest> GetRequest::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  GetRequest r;
  ASSIGN_OR_RETURN(r.uid, f.OptText(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.key_format_type, f.OptEnum(tag::kKeyFormatType));
  ASSIGN_OR_RETURN(r.key_wrap_type, f.OptEnum(tag::kKeyWrapType));
  ASSIGN_OR_RETURN(r.key_compression_type, f.OptEnum(tag::kKeyCompressionType));
  ASSIGN_OR_RETURN(r.key_wrapping_specification, f.OptStruct(tag::kKeyWrappingSpecification));
  RETURN_IF_ERROR(f.Done());
  RETURN_IF_ERROR(Since(v, kKmip14, r.key_wrap_type.has_value(), "Key Wrap Type"));
  return r;
}

Result<Item> GetResponse::Encode(ProtocolVersion v) const {
  RETURN_IF_ERROR(CheckObjectType(object_type, object));
  Item s = internal::ResponsePayload();
  s.Add(Item::Enumeration(tag::kObjectType, static_cast<uint32_t>(object_type)));
  s.Add(Item::TextString(tag::kUniqueIdentifier, uid));
  ASSIGN_OR_RETURN(Item obj, EncodeObject(object, v));
  s.Add(std::move(obj));
  return s;
}

Result<GetResponse> GetResponse::Decode(const Item& payload, ProtocolVersion v) {
  Fields f(payload);
  GetResponse r;
  ASSIGN_OR_RETURN(uint32_t type, f.Enum(tag::kObjectType));
  r.object_type = static_cast<ObjectType>(type);
  ASSIGN_OR_RETURN(r.uid, f.Text(tag::kUniqueIdentifier));
  ASSIGN_OR_RETURN(r.object, TakeObject(f, r.object_type));
  RETURN_IF_ERROR(f.Done());
  return r;
}

}  // namespace vmcrypt::kmip
