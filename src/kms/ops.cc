// Dispatch and the server-wide operations: Discover Versions (KMIP 1.4
// §4.26) and Query (§4.25).
#include "src/kms/ops.h"
#include "src/kms/attribute_rules.h"

#include <algorithm>
#include <set>

#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::Operation;
using kmip::ResultReason;

namespace {

// The operations this server answers (Query Operations lists them).
constexpr Operation kOperations[] = {
    Operation::kCreate,
    Operation::kRegister,
    Operation::kLocate,
    Operation::kGet,
    Operation::kGetAttributes,
    Operation::kGetAttributeList,
    Operation::kAddAttribute,
    Operation::kModifyAttribute,
    Operation::kDeleteAttribute,
    Operation::kActivate,
    Operation::kRevoke,
    Operation::kDestroy,
    Operation::kQuery,
    Operation::kDiscoverVersions,
    Operation::kSetAttribute,
    Operation::kEncrypt,
    Operation::kDecrypt,
    Operation::kMac,
    Operation::kRngRetrieve,
    Operation::kCreateKeyPair,
    Operation::kSign,
    Operation::kSignatureVerify,
    Operation::kDeriveKey,
    Operation::kCheck,
    Operation::kReKey,
};

constexpr kmip::ObjectType kObjectTypes[] = {
    kmip::ObjectType::kSymmetricKey, kmip::ObjectType::kSecretData, kmip::ObjectType::kOpaqueObject,
    kmip::ObjectType::kCertificate,  kmip::ObjectType::kPublicKey,  kmip::ObjectType::kPrivateKey,
};

// Attributes only the server sets (KMIP 1.4 §3, "Modifiable by client: No").
const std::set<std::string, std::less<>>& ServerOnly() {
  static const auto* s = new std::set<std::string, std::less<>>{
      "Unique Identifier", "Object Type", "State", "Initial Date", "Last Change Date",
      "Destroy Date", "Compromise Date", "Revocation Reason", "Compromise Occurrence Date",
      "Digest", "Fresh", "Key Value Present", "Always Sensitive", "Never Extractable", "Lease Time",
      // 2.1 §4.26, §4.44, §4.56
      "Key Format Type", "Protection Storage Mask", "Short Unique Identifier"};
  return *s;
}

// Attributes a client sets only when the object is made (§3.4-§3.6).
const std::set<std::string, std::less<>>& CreateOnly() {
  static const auto* s = new std::set<std::string, std::less<>>{
      "Cryptographic Algorithm", "Cryptographic Length", "Cryptographic Domain Parameters",
      "Certificate Type", "Certificate Length",
      // Set by the client only on creation here (1.4 §3.21 allows Total and
      // Unit changes until first use; this server does not).
      "Usage Limits"};
  return *s;
}

// Capability Information (1.4 §2.1.21, a 1.3 structure): streaming
// (multi-part Encrypt and Decrypt; the other cryptographic operations are
// single-part), synchronous answers, no attestation; batches continue but
// are not undone (1.4 fields); Destroy removes the key material and keeps
// the metadata (§9.1.3.2.44 Key Material Deleted).
ttlv::Item CapabilityInformation(kmip::ProtocolVersion v) {
  ttlv::Item c = ttlv::Item::Structure(ttlv::tag::kCapabilityInformation);
  c.Add(ttlv::Item::Boolean(0x4200EF, true));   // Streaming Capability
  c.Add(ttlv::Item::Boolean(0x4200F0, false));  // Asynchronous Capability
  c.Add(ttlv::Item::Boolean(0x4200F1, false));  // Attestation Capability
  if (v >= kmip::kKmip14) {
    c.Add(ttlv::Item::Boolean(0x4200F9, false));  // Batch Undo Capability
    c.Add(ttlv::Item::Boolean(0x4200FA, true));   // Batch Continue Capability
  }
  c.Add(ttlv::Item::Enumeration(0x4200F3, 0x02));  // Destroy Action: Key Material Deleted
  return c;
}

}  // namespace

Status Ops::CheckClientSettable(const kmip::Attribute& a, bool on_create) {
  if (ServerOnly().count(a.name) != 0) {
    return Fail(ResultReason::kPermissionDenied,
                "attribute '" + a.name + "' is set by the server only");
  }
  if (!on_create && CreateOnly().count(a.name) != 0) {
    return Fail(ResultReason::kPermissionDenied,
                "attribute '" + a.name + "' cannot be changed after the object is made");
  }
  RETURN_IF_ERROR(CheckFlagValue(a));  // Sensitive, Extractable: Booleans
  if (a.name.rfind("y-", 0) == 0) {
    return Fail(ResultReason::kPermissionDenied,
                "attribute '" + a.name + "' is server-defined (y-) and cannot be set by a client");
  }
  return OkStatus();
}

Result<std::string> Ops::Target(const std::optional<std::string>& uid) {
  if (uid.has_value()) return *uid;
  if (!id_placeholder_.empty()) return id_placeholder_;
  return Fail(ResultReason::kMissingData, "no Unique Identifier and no ID Placeholder");
}

Result<Managed> Ops::Modify(const std::string& uid, const std::function<Status(Managed&)>& change) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, uid));
    RETURN_IF_ERROR(change(m));
    m.Set(kmip::Attribute::DateTime("Last Change Date", clock_()));
    Status s = Update(store_, root_key_, m);
    if (s.ok()) return m;
    if (!store::IsConcurrentUpdate(s) || attempt >= 20) return s;
  }
}

Managed Ops::NewObject(kmip::ObjectType type, const kmip::AttributeList& client_attrs,
                       bool generated) {
  Managed m;
  const int64_t now = clock_();
  m.record.uid = NewUid();
  m.record.tenant = client_.tenant;
  m.record.object_type = static_cast<uint32_t>(type);
  m.record.created = now;
  m.set_attributes(client_attrs);
  m.Set(kmip::Attribute::Text("Unique Identifier", m.record.uid));
  m.Set(kmip::Attribute::Enum("Object Type", static_cast<uint32_t>(type)));
  m.Set(kmip::Attribute::DateTime("Initial Date", now));
  m.Set(kmip::Attribute::DateTime("Last Change Date", now));
  SetServerManagedAttributes(m, now, generated);  // attribute_rules.h
  // Pre-Active, or Active at once when an Activation Date has passed (1.4 §3.22).
  const kmip::Attribute* activation = m.Find("Activation Date");
  const bool active = activation != nullptr &&
                      activation->value.type() == ttlv::ItemType::kDateTime &&
                      activation->value.int_value() <= now;
  m.set_state(active ? kmip::State::kActive : kmip::State::kPreActive);
  return m;
}

Result<ttlv::Item> Ops::Run(Operation op, const ttlv::Item& p, std::string* uid) {
  Result<ttlv::Item> out = Fail(ResultReason::kOperationNotSupported, "");
  switch (op) {
    case Operation::kDiscoverVersions:
      return DiscoverVersions(p);
    case Operation::kQuery:
      return Query(p);
    case Operation::kCreate:
      out = Create(p, uid);
      break;
    case Operation::kRegister:
      out = Register(p, uid);
      break;
    case Operation::kCreateKeyPair:
      out = CreateKeyPair(p, uid);
      break;
    case Operation::kDeriveKey:
      out = DeriveKey(p, uid);
      break;
    case Operation::kSign:
      return Sign(p, uid);
    case Operation::kSignatureVerify:
      return SignatureVerify(p, uid);
    case Operation::kCheck:
      return Check(p, uid);
    case Operation::kGet:
      return Get(p, uid);
    case Operation::kGetAttributes:
      return GetAttributes(p, uid);
    case Operation::kGetAttributeList:
      return GetAttributeList(p, uid);
    case Operation::kAddAttribute:
      return AddAttribute(p, uid);
    case Operation::kModifyAttribute:
      return ModifyAttribute(p, uid);
    case Operation::kDeleteAttribute:
      return DeleteAttribute(p, uid);
    case Operation::kSetAttribute:
      return SetAttribute(p, uid);
    case Operation::kLocate:
      return Locate(p);
    case Operation::kActivate:
      return Activate(p, uid);
    case Operation::kRevoke:
      return Revoke(p, uid);
    case Operation::kDestroy:
      return Destroy(p, uid);
    case Operation::kReKey:
      return ReKey(p, uid);
    case Operation::kEncrypt:
      return AsymmetricFallback(Encrypt(p, uid), p, op, uid);
    case Operation::kDecrypt:
      return AsymmetricFallback(Decrypt(p, uid), p, op, uid);
    case Operation::kMac:
      return Mac(p, uid);
    case Operation::kRngRetrieve:
      return RngRetrieve(p);
    default: {
      std::string_view name = kmip::OperationName(op);
      return Fail(
          ResultReason::kOperationNotSupported,
          "operation " +
              (name.empty() ? std::to_string(static_cast<uint32_t>(op)) : std::string(name)) +
              " is not supported");
    }
  }
  // Create, Create Key Pair (the private key), Derive Key and Register set
  // the ID Placeholder for the rest of the batch.
  if (out.ok() && !uid->empty()) id_placeholder_ = *uid;
  return out;
}

Result<ttlv::Item> Ops::DiscoverVersions(const ttlv::Item& p) {
  VMCRYPT_DECODE(req, kmip::DiscoverVersionsRequest, p);
  kmip::DiscoverVersionsResponse resp;
  for (const kmip::ProtocolVersion& mine : kmip::SupportedVersions()) {
    if (mine > options_.max_version) continue;
    // With a client list: the versions both speak, in the client's order
    // (1.4 §4.26); without: all of ours, newest first.
    if (req.versions.empty()) resp.versions.push_back(mine);
  }
  for (const kmip::ProtocolVersion& theirs : req.versions) {
    const auto& all = kmip::SupportedVersions();
    if (theirs <= options_.max_version && std::find(all.begin(), all.end(), theirs) != all.end()) {
      resp.versions.push_back(theirs);
    }
  }
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Query(const ttlv::Item& p) {
  VMCRYPT_DECODE(req, kmip::QueryRequest, p);
  kmip::QueryResponse resp;
  for (uint32_t f : req.functions) {
    switch (static_cast<kmip::QueryFunction>(f)) {
      case kmip::QueryFunction::kQueryOperations:
        for (Operation op : kOperations) {
          if (op == Operation::kSetAttribute && !v_.is_v2()) continue;
          if (op == Operation::kDiscoverVersions && v_ < kmip::kKmip11) continue;
          // The cryptographic services arrived in KMIP 1.2 (1.2 §4.29-§4.35).
          if ((op == Operation::kEncrypt || op == Operation::kDecrypt || op == Operation::kMac ||
               op == Operation::kRngRetrieve || op == Operation::kSign ||
               op == Operation::kSignatureVerify) &&
              v_ < kmip::kKmip12) {
            continue;
          }
          resp.operations.push_back(static_cast<uint32_t>(op));
        }
        break;
      case kmip::QueryFunction::kQueryObjects:
        for (kmip::ObjectType t : kObjectTypes)
          resp.object_types.push_back(static_cast<uint32_t>(t));
        break;
      case kmip::QueryFunction::kQueryServerInformation:
        resp.vendor_identification = options_.vendor_identification;
        break;
      case kmip::QueryFunction::kQueryCapabilities:
        if (v_ >= kmip::kKmip13) resp.capability_information.push_back(CapabilityInformation(v_));
        break;
      default:
        break;  // other functions: nothing to report (1.4 §4.25 allows empty answers)
    }
  }
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
