// Get Attributes (KMIP 1.4 §4.12), Get Attribute List (§4.13), Add / Modify /
// Delete Attribute (§4.14-§4.16), Set Attribute (2.1 §6.1.47) and Locate
// (1.4 §4.9).
#include "src/kms/attribute_rules.h"
#include "src/kms/ops.h"

namespace vmcrypt::kms::internal {

using kmip::Attribute;
using kmip::ResultReason;

namespace {

// Wrong Key Lifecycle State (2.1 §11.27); enums.h has only the 1.x reasons.
constexpr auto kWrongKeyLifecycleState = static_cast<kmip::ResultReason>(0x43);

// Whether an attribute exists in the request's protocol version
// (attribute_rules.h).
bool InVersion(const Attribute& a, kmip::ProtocolVersion v) {
  return AttributeInVersion(a.name, v);
}

// Attributes that may hold several instances (KMIP 1.4 §3, "Multiple
// instances permitted"); custom attributes too.
bool MultiInstance(const Attribute& a) {
  static const char* kMulti[] = {"Name",
                                 "Object Group",
                                 "Link",
                                 "Application Specific Information",
                                 "Alternative Name",
                                 "Key Value Location",
                                 "Custom Attribute"};
  for (const char* n : kMulti) {
    if (a.name == n) return true;
  }
  return a.is_custom();
}

// Sets Attribute Index on the instances of `name` (1.x), 0, 1, ...
kmip::AttributeList WithIndexes(const std::vector<const Attribute*>& attrs,
                                kmip::ProtocolVersion v) {
  kmip::AttributeList out;
  for (size_t i = 0; i < attrs.size(); ++i) {
    Attribute a = *attrs[i];
    a.index.reset();
    if (!v.is_v2() && attrs.size() > 1) a.index = static_cast<int32_t>(i);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

Result<ttlv::Item> Ops::GetAttributes(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::GetAttributesRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *uid));
  kmip::GetAttributesResponse resp;
  resp.uid = *uid;
  std::vector<std::string> names = req.names;
  if (names.empty()) {
    for (const Attribute& a : m.attributes()) {
      if (std::find(names.begin(), names.end(), a.name) == names.end()) names.push_back(a.name);
    }
    SortForListing(names);  // named ones keep the request's order
  }
  // An attribute the object lacks is left out: still Success (1.4 §4.12).
  for (const std::string& name : names) {
    std::vector<const Attribute*> found;
    for (const Attribute* a : m.FindAll(name)) {
      if (InVersion(*a, v_)) found.push_back(a);
    }
    for (Attribute& a : WithIndexes(found, v_)) resp.attributes.push_back(std::move(a));
  }
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::GetAttributeList(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::GetAttributeListRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *uid));
  kmip::GetAttributeListResponse resp;
  resp.uid = *uid;
  for (const Attribute& a : m.attributes()) {
    if (!InVersion(a, v_)) continue;
    if (std::find(resp.names.begin(), resp.names.end(), a.name) == resp.names.end()) {
      resp.names.push_back(a.name);
    }
  }
  SortForListing(resp.names);
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::AddAttribute(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::AddAttributeRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  RETURN_IF_ERROR(CheckClientSettable(req.attribute, false));
  Attribute stored;
  ASSIGN_OR_RETURN(Managed m, Modify(*uid, [&](Managed& m) -> Status {
                     std::vector<const Attribute*> existing = m.FindAll(req.attribute.name);
                     if (!existing.empty() && !MultiInstance(req.attribute)) {
                       return Fail(
                           ResultReason::kIllegalOperation,
                           "attribute '" + req.attribute.name +
                               "' already exists and has one instance only; use Modify Attribute");
                     }
                     stored = req.attribute;
                     stored.index.reset();
                     m.mutable_attributes().push_back(stored);
                     TrackSensitivity(m);
                     if (!v_.is_v2() && !existing.empty())
                       stored.index = static_cast<int32_t>(existing.size());
                     return OkStatus();
                   }));
  (void)m;
  kmip::AttributeChangeResponse resp;
  resp.uid = *uid;
  if (!v_.is_v2()) resp.attribute = stored;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::ModifyAttribute(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::ModifyAttributeRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  RETURN_IF_ERROR(CheckClientSettable(req.attribute, false));
  RETURN_IF_ERROR(CheckClientModifiable(req.attribute.name));
  Attribute stored;
  ASSIGN_OR_RETURN(
      Managed m, Modify(*uid, [&](Managed& m) -> Status {
        // The Activation Date changes only while Pre-Active (1.4
        // §3.24); 2.x says Wrong Key Lifecycle State.
        if (req.attribute.name == "Activation Date" && m.state() != kmip::State::kPreActive) {
          return Fail(v_.is_v2() ? kWrongKeyLifecycleState : ResultReason::kPermissionDenied,
                      "object " + *uid + " is not Pre-Active; its Activation Date cannot change");
        }
        // The instance to change: by Attribute Index (1.x), by Current
        // Attribute's value (2.x), else the first.
        size_t seen = 0;
        const int32_t want = req.attribute.index.value_or(0);
        for (Attribute& a : m.mutable_attributes()) {
          if (a.name != req.attribute.name) continue;
          const bool match = req.current_attribute.has_value()
                                 ? a.value.WithTag(0) == req.current_attribute->value.WithTag(0)
                                 : static_cast<int32_t>(seen) == want;
          ++seen;
          if (!match) continue;
          a.value = req.attribute.value;
          stored = req.attribute;
          TrackSensitivity(m);
          return OkStatus();
        }
        return Fail(
            ResultReason::kItemNotFound,
            "object " + *uid + " has no such instance of attribute '" + req.attribute.name + "'");
      }));
  (void)m;
  kmip::AttributeChangeResponse resp;
  resp.uid = *uid;
  if (!v_.is_v2()) resp.attribute = stored;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::DeleteAttribute(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::DeleteAttributeRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  const std::string name = req.current_attribute ? req.current_attribute->name : req.name;
  RETURN_IF_ERROR(CheckClientDeletable(name));
  RETURN_IF_ERROR(CheckClientSettable(Attribute{name, std::nullopt, {}}, false));
  Attribute removed;
  ASSIGN_OR_RETURN(
      Managed m, Modify(*uid, [&](Managed& m) -> Status {
        size_t seen = 0;
        const int32_t want = req.index.value_or(0);
        kmip::AttributeList& attrs = m.mutable_attributes();
        for (auto it = attrs.begin(); it != attrs.end(); ++it) {
          if (it->name != name) continue;
          const bool match = req.current_attribute.has_value()
                                 ? it->value.WithTag(0) == req.current_attribute->value.WithTag(0)
                                 : static_cast<int32_t>(seen) == want;
          ++seen;
          if (!match) continue;
          removed = *it;
          // "the Attribute Index MAY be omitted if the index ... is 0"
          // (1.4 §4.16); the OASIS cases (SKFF-M-9..12) omit it.
          removed.index.reset();
          if (!v_.is_v2() && want != 0) removed.index = want;
          attrs.erase(it);
          return OkStatus();
        }
        return Fail(ResultReason::kItemNotFound,
                    "object " + *uid + " has no such instance of attribute '" + name + "'");
      }));
  (void)m;
  kmip::AttributeChangeResponse resp;
  resp.uid = *uid;
  if (!v_.is_v2()) resp.attribute = removed;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::SetAttribute(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::SetAttributeRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  RETURN_IF_ERROR(CheckClientSettable(req.attribute, false));
  ASSIGN_OR_RETURN(Managed m, Modify(*uid, [&](Managed& m) -> Status {
                     // Replacing an existing value is a modification.
                     if (m.Find(req.attribute.name) != nullptr) {
                       RETURN_IF_ERROR(CheckClientModifiable(req.attribute.name));
                     }
                     m.Set(req.attribute);
                     TrackSensitivity(m);
                     return OkStatus();
                   }));
  (void)m;
  kmip::UidResponse resp;
  resp.uid = *uid;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Locate(const ttlv::Item& p) {
  VMCRYPT_DECODE(req, kmip::LocateRequest, p);
  store::Query q;
  q.tenant = client_.tenant;
  q.max_items = req.maximum_items;
  q.offset = req.offset_items.value_or(0);
  std::vector<std::string> seen_dates;
  for (const Attribute& a : req.attributes) {
    store::Condition c;
    c.name = a.name;
    c.value = IndexValueOf(a.value);
    // Two instances of a date attribute bound a range (1.4 §4.9).
    if (a.value.type() == ttlv::ItemType::kDateTime) {
      const bool second = std::count(seen_dates.begin(), seen_dates.end(), a.name) > 0;
      const bool paired = std::count_if(req.attributes.begin(), req.attributes.end(),
                                        [&](const Attribute& b) { return b.name == a.name; }) > 1;
      if (paired) c.op = second ? store::Condition::kAtMost : store::Condition::kAtLeast;
      seen_dates.push_back(a.name);
    }
    q.all_of.push_back(std::move(c));
  }
  // Destroyed objects keep their metadata but are found only when the
  // request asks for a State (the OASIS SKFF-M-5..8 cases: Locate after
  // Destroy finds nothing). Destroyed and Destroyed Compromised are the
  // States above Compromised (1.4 §9.1.3.2.17).
  if (!kmip::FindAttribute(req.attributes, "State")) {
    store::Condition live;
    live.name = "State";
    live.op = store::Condition::kAtMost;
    live.value.number = static_cast<int64_t>(kmip::State::kCompromised);
    q.all_of.push_back(std::move(live));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> uids, store_.Locate(q));
  kmip::LocateResponse resp;
  resp.uids = std::move(uids);
  if (!resp.uids.empty()) id_placeholder_ = resp.uids.front();
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
