// Re-key (KMIP 1.4 §4.4; 2.1 §6.1.42): a replacement for an existing
// symmetric key. Its attributes are copied from the existing key, except
// those of Table 173; the dates move by the Offset (Table 172); the names
// move to the replacement; the two keys are linked both ways.
#include <algorithm>

#include "src/kms/ops.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::Attribute;
using kmip::ObjectType;
using kmip::ResultReason;

namespace {

// Not copied to the replacement (Table 173, and what the server sets anew).
bool NotCopied(std::string_view name) {
  static constexpr std::string_view kNames[] = {"Unique Identifier",
                                                "Initial Date",
                                                "Destroy Date",
                                                "Compromise Occurrence Date",
                                                "Compromise Date",
                                                "Revocation Reason",
                                                "State",
                                                "Digest",
                                                "Link",
                                                "Last Change Date",
                                                "Random Number Generator",
                                                "Activation Date",
                                                "Process Start Date",
                                                "Protect Stop Date",
                                                "Deactivation Date",
                                                "Fresh",
                                                "Usage Limits",
                                                "Short Unique Identifier",
                                                "Key Format Type",
                                                "Original Creation Date",
                                                "Always Sensitive",
                                                "Never Extractable",
                                                "Lease Time",
                                                "Object Type"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

std::optional<int64_t> DateOf(const Managed& m, std::string_view name) {
  const Attribute* a = m.Find(name);
  if (a == nullptr || a->value.type() != ttlv::ItemType::kDateTime) return std::nullopt;
  return a->value.int_value();
}

}  // namespace

Result<Managed> Ops::ReKeyReplacement(const Managed& old, const kmip::ReKeyRequest& req,
                                      kmip::ManagedObject* material) {
  const std::string& old_uid = old.record.uid;
  if (old.record.object_type != static_cast<uint32_t>(ObjectType::kSymmetricKey)) {
    return Fail(ResultReason::kIllegalOperation,
                "object " + old_uid + " is not a symmetric key; Re-key replaces symmetric keys");
  }
  if (old.state() == kmip::State::kDestroyed || old.state() == kmip::State::kDestroyedCompromised) {
    return Fail(ResultReason::kKeyValueNotPresent,
                "object " + old_uid + " was destroyed; it cannot be re-keyed");
  }
  const Attribute* algorithm = old.Find("Cryptographic Algorithm");
  const Attribute* length = old.Find("Cryptographic Length");
  if (algorithm == nullptr || length == nullptr) {
    return Fail(ResultReason::kIllegalOperation,
                "object " + old_uid + " has no Cryptographic Algorithm and Length to re-key with");
  }
  ASSIGN_OR_RETURN(*material,
                   GenerateSymmetricKey(static_cast<uint32_t>(algorithm->value.int_value()),
                                        length->value.int_value()));

  // The replacement's attributes: the existing key's, less Table 173's,
  // then the request's.
  kmip::AttributeList attrs;
  for (const Attribute& a : old.attributes()) {
    if (!NotCopied(a.name)) attrs.push_back(a);
  }
  const int64_t now = clock_();
  const std::optional<int64_t> at1 = DateOf(old, "Activation Date");
  if (req.offset.has_value()) {
    // Table 172: AT2 = IT2 + Offset; the other dates keep their distance.
    const int64_t at2 = now + static_cast<int64_t>(*req.offset);
    attrs.push_back(Attribute::DateTime("Activation Date", at2));
    for (const char* name : {"Process Start Date", "Protect Stop Date", "Deactivation Date"}) {
      if (auto d = DateOf(old, name); d && at1) {
        attrs.push_back(Attribute::DateTime(name, *d + (at2 - *at1)));
      }
    }
  } else {
    for (const char* name :
         {"Activation Date", "Process Start Date", "Protect Stop Date", "Deactivation Date"}) {
      if (auto d = DateOf(old, name)) attrs.push_back(Attribute::DateTime(name, *d));
    }
  }
  const kmip::AttributeList client_attrs = req.attributes.value_or(kmip::AttributeList{});
  for (const Attribute& a : client_attrs) {
    attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                               [&](const Attribute& b) { return b.name == a.name; }),
                attrs.end());
  }
  attrs.insert(attrs.end(), client_attrs.begin(), client_attrs.end());

  Managed m = NewObject(ObjectType::kSymmetricKey, attrs, /*generated=*/true);
  if (std::optional<Attribute> digest = DigestOf(*material)) m.Set(std::move(*digest));
  m.Set(RandomNumberGeneratorAttribute());
  if (const Attribute* original = old.Find("Original Creation Date")) {
    m.Set(*original);
  } else {
    m.Set(Attribute::DateTime("Original Creation Date", old.record.created));
  }
  m.mutable_attributes().push_back(LinkAttribute(kReplacedObjectLink, old_uid));
  return m;
}

Result<ttlv::Item> Ops::ReKey(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::ReKeyRequest, p);
  ASSIGN_OR_RETURN(const std::string old_uid, Target(req.uid));
  for (const Attribute& a : req.attributes.value_or(kmip::AttributeList{})) {
    RETURN_IF_ERROR(CheckClientSettable(a, true));
  }
  // The replacement and the existing key's link to it (its names handed
  // over) are stored in one transaction; when the existing key changed since
  // it was loaded, all of it is done again from its new state.
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Managed old, Load(store_, client_.tenant, old_uid));
    kmip::ManagedObject material;
    ASSIGN_OR_RETURN(Managed m, ReKeyReplacement(old, req, &material));
    old.Remove("Name");
    old.mutable_attributes().push_back(LinkAttribute(kReplacementObjectLink, m.record.uid));
    old.Set(Attribute::DateTime("Last Change Date", clock_()));
    Status stored = InsertAndUpdate(store_, root_key_, m, &material, old);
    if (store::IsConcurrentUpdate(stored) && attempt < 20) continue;
    RETURN_IF_ERROR(stored);
    *uid = m.record.uid;
    kmip::ReKeyResponse resp;
    resp.uid = m.record.uid;
    return resp.Encode(v_);
  }
}

}  // namespace vmcrypt::kms::internal
