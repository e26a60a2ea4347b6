// The object lifecycle (KMIP 1.4 §3.22 State and its transitions): Activate
// (§4.19), Revoke (§4.20), Destroy (§4.21). Destroyed objects keep their
// metadata; only the key material is removed.
#include "src/kms/ops.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::Attribute;
using kmip::ResultReason;
using kmip::State;

namespace {

// Wrong Key Lifecycle State (2.1 §11.27); enums.h has only the 1.x reasons.
constexpr auto kWrongKeyLifecycleState = static_cast<kmip::ResultReason>(0x43);

// Permission Denied in 1.x; 2.x has Wrong Key Lifecycle State (2.1 §11.27),
// which the OASIS 2.1 test cases (SKLC-M-2) expect.
Status WrongState(const Managed& m, const std::string& what, kmip::ProtocolVersion v) {
  return Fail(
      v.is_v2() ? kWrongKeyLifecycleState : ResultReason::kPermissionDenied,
      "object " + m.record.uid + " is " + std::string(kmip::StateName(m.state())) + "; " + what);
}

}  // namespace

Result<ttlv::Item> Ops::Activate(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::UidRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  ASSIGN_OR_RETURN(Managed m, Modify(*uid, [&](Managed& m) -> Status {
                     if (m.state() != State::kPreActive)
                       return WrongState(m, "only Pre-Active objects can be activated", v_);
                     m.set_state(State::kActive);
                     m.Set(Attribute::DateTime("Activation Date", clock_()));
                     return OkStatus();
                   }));
  (void)m;
  kmip::UidResponse resp;
  resp.uid = *uid;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Revoke(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::RevokeRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  const auto code = static_cast<kmip::RevocationReasonCode>(req.reason_code);
  const bool compromise = code == kmip::RevocationReasonCode::kKeyCompromise ||
                          code == kmip::RevocationReasonCode::kCaCompromise;
  ASSIGN_OR_RETURN(
      Managed m, Modify(*uid, [&](Managed& m) -> Status {
        const int64_t now = clock_();
        if (compromise) {
          // Any state goes to Compromised (Destroyed to Destroyed Compromised).
          if (m.state() == State::kCompromised || m.state() == State::kDestroyedCompromised) {
            return WrongState(m, "it is already compromised", v_);
          }
          m.set_state(m.state() == State::kDestroyed ? State::kDestroyedCompromised
                                                     : State::kCompromised);
          m.Set(Attribute::DateTime("Compromise Date", now));
          m.Set(Attribute::DateTime("Compromise Occurrence Date",
                                    req.compromise_occurrence_date.value_or(now)));
        } else {
          if (m.state() != State::kActive && m.state() != State::kPreActive) {
            return WrongState(m, "only Pre-Active or Active objects can be revoked for this reason",
                              v_);
          }
          m.set_state(State::kDeactivated);
          m.Set(Attribute::DateTime("Deactivation Date", now));
        }
        ttlv::Item reason = ttlv::Item::Structure(
            ttlv::tag::kAttributeValue,
            {ttlv::Item::Enumeration(ttlv::tag::kRevocationReasonCode, req.reason_code)});
        if (req.reason_message) {
          reason.Add(ttlv::Item::TextString(ttlv::tag::kRevocationMessage, *req.reason_message));
        }
        m.Set(Attribute{"Revocation Reason", std::nullopt, reason});
        return OkStatus();
      }));
  (void)m;
  kmip::UidResponse resp;
  resp.uid = *uid;
  return resp.Encode(v_);
}

Result<ttlv::Item> Ops::Destroy(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::UidRequest, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *uid));
    if (m.state() == State::kActive) {
      return WrongState(m, "revoke it before destroying it", v_);
    }
    if (m.state() == State::kDestroyed || m.state() == State::kDestroyedCompromised) {
      return WrongState(m, "it was destroyed already", v_);
    }
    m.set_state(m.state() == State::kCompromised ? State::kDestroyedCompromised
                                                 : State::kDestroyed);
    const int64_t now = clock_();
    m.Set(Attribute::DateTime("Destroy Date", now));
    m.Set(Attribute::DateTime("Last Change Date", now));
    Status s = Update(store_, root_key_, m, nullptr, /*clear_material=*/true);
    if (s.ok()) break;
    if (!store::IsConcurrentUpdate(s) || attempt >= 20) return s;
  }
  kmip::UidResponse resp;
  resp.uid = *uid;
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
