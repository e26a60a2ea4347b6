// Typed request and response payloads of the KMIP operations (KMIP 1.4 §4,
// 2.1 §6).
//
// Each payload type has
//   Result<ttlv::Item> Encode(ProtocolVersion v) const;   // a Request/Response Payload
//   static Result<T> Decode(const ttlv::Item& payload, ProtocolVersion v);
// Encoding is strict per version: a field the version lacks is an error, and
// attributes take the version's form (Template-Attribute vs Attributes).
// Decoding rejects fields the payload does not define. Fields are declared in
// wire order. "uid" is the Unique Identifier; it is optional in requests
// (the ID Placeholder is used when absent, KMIP 1.4 §3.1).
#ifndef VMCRYPT_KMIP_PAYLOADS_H_
#define VMCRYPT_KMIP_PAYLOADS_H_

#include <optional>
#include <string>
#include <vector>

#include "vmcrypt/base/status.h"
#include "vmcrypt/kmip/attribute.h"
#include "vmcrypt/kmip/enums.h"
#include "vmcrypt/kmip/object.h"
#include "vmcrypt/kmip/version.h"
#include "vmcrypt/ttlv/item.h"

namespace vmcrypt::kmip {

#define VMCRYPT_PAYLOAD_CODEC(T)                      \
  Result<ttlv::Item> Encode(ProtocolVersion v) const; \
  static Result<T> Decode(const ttlv::Item& payload, ProtocolVersion v)

// --- Discover Versions (1.4 §4.26) ------------------------------------------
struct DiscoverVersionsRequest {
  std::vector<ProtocolVersion> versions;
  VMCRYPT_PAYLOAD_CODEC(DiscoverVersionsRequest);
};
struct DiscoverVersionsResponse {
  std::vector<ProtocolVersion> versions;
  VMCRYPT_PAYLOAD_CODEC(DiscoverVersionsResponse);
};

// --- Query (1.4 §4.25) --------------------------------------------------------
struct QueryRequest {
  std::vector<uint32_t> functions;          // QueryFunction values
  std::optional<ttlv::Item> object_groups;  // 2.x (2.1 §7.23)
  VMCRYPT_PAYLOAD_CODEC(QueryRequest);
};
struct QueryResponse {
  std::vector<uint32_t> operations;
  std::vector<uint32_t> object_types;
  std::optional<std::string> vendor_identification;
  std::optional<ttlv::Item> server_information;
  std::vector<std::string> application_namespaces;
  std::vector<ttlv::Item> extension_information;
  std::vector<uint32_t> attestation_types;
  std::vector<ttlv::Item> rng_parameters;
  std::vector<ttlv::Item> profile_information;
  std::vector<ttlv::Item> validation_information;
  std::vector<ttlv::Item> capability_information;
  std::vector<uint32_t> client_registration_methods;
  std::optional<ttlv::Item> defaults_information;
  std::vector<int32_t> protection_storage_masks;
  VMCRYPT_PAYLOAD_CODEC(QueryResponse);
};

// --- Create (1.4 §4.1) --------------------------------------------------------
struct CreateRequest {
  ObjectType object_type = ObjectType::kSymmetricKey;
  AttributeList attributes;
  std::optional<ttlv::Item> protection_storage_masks;  // 2.x
  VMCRYPT_PAYLOAD_CODEC(CreateRequest);
};
struct CreateResponse {
  ObjectType object_type = ObjectType::kSymmetricKey;
  std::string uid;
  std::optional<AttributeList> attributes;  // 1.x: attributes the server set
  VMCRYPT_PAYLOAD_CODEC(CreateResponse);
};

// --- Create Key Pair (1.4 §4.2) -------------------------------------------------
struct CreateKeyPairRequest {
  std::optional<AttributeList> common_attributes;
  std::optional<AttributeList> private_key_attributes;
  std::optional<AttributeList> public_key_attributes;
  std::optional<ttlv::Item> common_protection_storage_masks;   // 2.x
  std::optional<ttlv::Item> private_protection_storage_masks;  // 2.x
  std::optional<ttlv::Item> public_protection_storage_masks;   // 2.x
  VMCRYPT_PAYLOAD_CODEC(CreateKeyPairRequest);
};
struct CreateKeyPairResponse {
  std::string private_key_uid;
  std::string public_key_uid;
  std::optional<AttributeList> private_key_attributes;  // 1.x
  std::optional<AttributeList> public_key_attributes;   // 1.x
  VMCRYPT_PAYLOAD_CODEC(CreateKeyPairResponse);
};

// --- Register (1.4 §4.3) --------------------------------------------------------
struct RegisterRequest {
  ObjectType object_type = ObjectType::kSymmetricKey;
  AttributeList attributes;
  ManagedObject object;
  std::optional<ttlv::Item> protection_storage_masks;  // 2.x
  VMCRYPT_PAYLOAD_CODEC(RegisterRequest);
};
struct RegisterResponse {
  std::string uid;
  std::optional<AttributeList> attributes;  // 1.x
  VMCRYPT_PAYLOAD_CODEC(RegisterResponse);
};

// --- Get (1.4 §4.11) ------------------------------------------------------------
struct GetRequest {
  std::optional<std::string> uid;
  std::optional<uint32_t> key_format_type;
  std::optional<uint32_t> key_wrap_type;  // 1.4
  std::optional<uint32_t> key_compression_type;
  std::optional<ttlv::Item> key_wrapping_specification;
  VMCRYPT_PAYLOAD_CODEC(GetRequest);
};
struct GetResponse {
  ObjectType object_type = ObjectType::kSymmetricKey;
  std::string uid;
  ManagedObject object;
  VMCRYPT_PAYLOAD_CODEC(GetResponse);
};

// --- Get Attributes (1.4 §4.12) ---------------------------------------------------
struct GetAttributesRequest {
  std::optional<std::string> uid;
  std::vector<std::string> names;  // none: all attributes
  VMCRYPT_PAYLOAD_CODEC(GetAttributesRequest);
};
struct GetAttributesResponse {
  std::string uid;
  AttributeList attributes;
  VMCRYPT_PAYLOAD_CODEC(GetAttributesResponse);
};

// --- Get Attribute List (1.4 §4.13) ------------------------------------------------
struct GetAttributeListRequest {
  std::optional<std::string> uid;
  VMCRYPT_PAYLOAD_CODEC(GetAttributeListRequest);
};
struct GetAttributeListResponse {
  std::string uid;
  std::vector<std::string> names;
  VMCRYPT_PAYLOAD_CODEC(GetAttributeListResponse);
};

// --- Add / Modify / Delete / Set Attribute (1.4 §4.14-4.16; 2.1 §6.1.47) -----------
struct AddAttributeRequest {
  std::optional<std::string> uid;
  Attribute attribute;  // 1.x Attribute; 2.x New Attribute
  VMCRYPT_PAYLOAD_CODEC(AddAttributeRequest);
};
// The response of Add, Modify and Delete Attribute: the uid and, in 1.x, the
// attribute as stored.
struct AttributeChangeResponse {
  std::string uid;
  std::optional<Attribute> attribute;  // 1.x only
  VMCRYPT_PAYLOAD_CODEC(AttributeChangeResponse);
};
struct ModifyAttributeRequest {
  std::optional<std::string> uid;
  std::optional<Attribute> current_attribute;  // 2.x only
  Attribute attribute;                         // 1.x Attribute; 2.x New Attribute
  VMCRYPT_PAYLOAD_CODEC(ModifyAttributeRequest);
};
struct DeleteAttributeRequest {
  std::optional<std::string> uid;
  // 1.x: Attribute Name (+ Index); 2.x: Current Attribute (name + value) or
  // Attribute Reference (name only).
  std::string name;
  std::optional<int32_t> index;                // 1.x
  std::optional<Attribute> current_attribute;  // 2.x
  VMCRYPT_PAYLOAD_CODEC(DeleteAttributeRequest);
};
struct SetAttributeRequest {  // 2.x only
  std::optional<std::string> uid;
  Attribute attribute;  // New Attribute
  VMCRYPT_PAYLOAD_CODEC(SetAttributeRequest);
};

// --- Locate (1.4 §4.9) --------------------------------------------------------------
struct LocateRequest {
  std::optional<int32_t> maximum_items;
  std::optional<int32_t> offset_items;  // 1.3
  std::optional<int32_t> storage_status_mask;
  std::optional<uint32_t> object_group_member;  // 1.1
  AttributeList attributes;
  VMCRYPT_PAYLOAD_CODEC(LocateRequest);
};
struct LocateResponse {
  std::optional<int32_t> located_items;  // 1.3
  std::vector<std::string> uids;
  VMCRYPT_PAYLOAD_CODEC(LocateResponse);
};

// --- Operations on one object, answered with its uid: Activate (§4.19),
// Destroy (§4.21), Get Usage Allocation's and Archive's shapes ------------------------
struct UidRequest {
  std::optional<std::string> uid;
  VMCRYPT_PAYLOAD_CODEC(UidRequest);
};
struct UidResponse {
  std::string uid;
  VMCRYPT_PAYLOAD_CODEC(UidResponse);
};

// --- Revoke (1.4 §4.20) ---------------------------------------------------------------
struct RevokeRequest {
  std::optional<std::string> uid;
  uint32_t reason_code = static_cast<uint32_t>(RevocationReasonCode::kUnspecified);
  std::optional<std::string> reason_message;
  std::optional<int64_t> compromise_occurrence_date;
  VMCRYPT_PAYLOAD_CODEC(RevokeRequest);
};

// --- Check (1.4 §4.10) -------------------------------------------------------------------
struct CheckPayload {  // request and response have the same fields
  std::optional<std::string> uid;
  std::optional<int64_t> usage_limits_count;
  std::optional<int32_t> cryptographic_usage_mask;
  std::optional<uint32_t> lease_time;
  VMCRYPT_PAYLOAD_CODEC(CheckPayload);
};

// --- Re-key (1.4 §4.4) ---------------------------------------------------------------------
struct ReKeyRequest {
  std::optional<std::string> uid;
  std::optional<uint32_t> offset;  // Interval
  std::optional<AttributeList> attributes;
  std::optional<ttlv::Item> protection_storage_masks;  // 2.x
  VMCRYPT_PAYLOAD_CODEC(ReKeyRequest);
};
// Re-key answers with Register's shape: Unique Identifier and, in 1.x, the
// Template-Attribute the server set (1.4 Tables 175 and 170).
using ReKeyResponse = RegisterResponse;

// --- Encrypt / Decrypt / MAC (1.4 §4.29-4.33) ------------------------------------------------
struct CryptoRequest {
  Operation operation = Operation::kEncrypt;  // which of the three (not encoded)
  std::optional<std::string> uid;
  std::optional<ttlv::Item> cryptographic_parameters;
  // Always sent in a single-part call; in a multi-part call (Correlation
  // Value, Init or Final Indicator set) only when not empty.
  ttlv::Bytes data;
  std::optional<ttlv::Bytes> iv_counter_nonce;                          // Encrypt, Decrypt
  std::optional<ttlv::Bytes> correlation_value;                         // 1.3
  std::optional<bool> init_indicator;                                   // 1.3
  std::optional<bool> final_indicator;                                  // 1.3
  std::optional<ttlv::Bytes> authenticated_encryption_additional_data;  // 1.4; Enc/Dec
  std::optional<ttlv::Bytes> authenticated_encryption_tag;              // 1.4; Decrypt
  VMCRYPT_PAYLOAD_CODEC(CryptoRequest);
  // Decode() without the operation reads the fields of all three and infers
  // `operation` (Decrypt when there is an Authenticated Encryption Tag, else
  // Encrypt); this overload checks the fields against `op` and sets it.
  static Result<CryptoRequest> Decode(const ttlv::Item& payload, ProtocolVersion v, Operation op);
};
struct CryptoResponse {
  Operation operation = Operation::kEncrypt;  // which of the three (not encoded)
  std::string uid;
  // Data, or MAC Data for MAC; sent when not empty or when the answer is
  // single-part (no Correlation Value).
  ttlv::Bytes data;
  std::optional<ttlv::Bytes> iv_counter_nonce;              // Encrypt
  std::optional<ttlv::Bytes> correlation_value;             // 1.3
  std::optional<ttlv::Bytes> authenticated_encryption_tag;  // Encrypt, 1.4
  VMCRYPT_PAYLOAD_CODEC(CryptoResponse);
  // As for CryptoRequest: Decode() without the operation infers it (MAC when
  // there is MAC Data, else Encrypt); this overload checks against `op`.
  static Result<CryptoResponse> Decode(const ttlv::Item& payload, ProtocolVersion v, Operation op);
};

// --- RNG Retrieve (1.4 §4.35) ------------------------------------------------------------------
struct RngRetrieveRequest {
  int32_t data_length = 0;
  VMCRYPT_PAYLOAD_CODEC(RngRetrieveRequest);
};
struct RngRetrieveResponse {
  ttlv::Bytes data;
  VMCRYPT_PAYLOAD_CODEC(RngRetrieveResponse);
};

// --- Sign / Signature Verify (1.4 §4.31-4.32; 2.1 §6.1.55-6.1.56), 1.2 operations ----------------
// Single-part calls send Data (or, from 1.4, Digested Data); the multi-part
// fields (Correlation Value, Init / Final Indicator) are 1.3.
struct SignRequest {
  std::optional<std::string> uid;
  std::optional<ttlv::Item> cryptographic_parameters;
  std::optional<ttlv::Bytes> data;
  std::optional<ttlv::Bytes> digested_data;  // 1.4
  std::optional<ttlv::Bytes> correlation_value;
  std::optional<bool> init_indicator;
  std::optional<bool> final_indicator;
  VMCRYPT_PAYLOAD_CODEC(SignRequest);
};
struct SignResponse {
  std::string uid;
  std::optional<ttlv::Bytes> signature_data;  // single-part: always
  std::optional<ttlv::Bytes> correlation_value;
  VMCRYPT_PAYLOAD_CODEC(SignResponse);
};
struct SignatureVerifyRequest {
  std::optional<std::string> uid;
  std::optional<ttlv::Item> cryptographic_parameters;
  std::optional<ttlv::Bytes> data;
  std::optional<ttlv::Bytes> digested_data;  // 1.4
  std::optional<ttlv::Bytes> signature_data;
  std::optional<ttlv::Bytes> correlation_value;
  std::optional<bool> init_indicator;
  std::optional<bool> final_indicator;
  VMCRYPT_PAYLOAD_CODEC(SignatureVerifyRequest);
};
// Validity Indicator values (1.4 §9.1.3.2.23).
enum class ValidityIndicator : uint32_t { kValid = 0x01, kInvalid = 0x02, kUnknown = 0x03 };
struct SignatureVerifyResponse {
  std::string uid;
  std::optional<uint32_t> validity_indicator;  // single-part and final parts
  std::optional<ttlv::Bytes> data;             // recovered data
  std::optional<ttlv::Bytes> correlation_value;
  VMCRYPT_PAYLOAD_CODEC(SignatureVerifyResponse);
};

// --- Derive Key (1.4 §4.6; 2.1 §6.1.12) ---------------------------------------------------------
struct DeriveKeyRequest {
  ObjectType object_type = ObjectType::kSymmetricKey;
  std::vector<std::string> uids;  // one or more; the ID Placeholder is not used
  uint32_t derivation_method = 0;
  ttlv::Item derivation_parameters;  // the Derivation Parameters structure (1.4 Tables 182-183)
  AttributeList attributes;          // 1.x Template-Attribute, 2.x Attributes
  VMCRYPT_PAYLOAD_CODEC(DeriveKeyRequest);
};
// Derive Key answers with Register's shape: Unique Identifier and, in 1.x,
// the Template-Attribute the server set (1.4 Table 181, 2.1 Table 206).
using DeriveKeyResponse = RegisterResponse;

#undef VMCRYPT_PAYLOAD_CODEC

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_PAYLOADS_H_
