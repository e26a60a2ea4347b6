// Check (KMIP 1.4 §4.10; 2.1 §6.1.7): whether the object may be used with a
// Usage Limits Count, a Cryptographic Usage Mask and a Lease Time. A refusal
// is Operation Failed naming the values that failed (1.4 §7.1: a failed
// batch item has no Response Payload), and empties the ID Placeholder.
#include "src/kms/ops.h"

#include <cstdio>

namespace vmcrypt::kms::internal {

using kmip::Attribute;
using kmip::ResultReason;

namespace {

// Usage Limits fields (1.4 §9.1.3.1) and the 2.x Result Reasons (2.1 §11.47).
constexpr uint32_t kTagUsageLimitsTotal = 0x420097;
constexpr uint32_t kTagUsageLimitsCount = 0x420096;
constexpr auto kIncompatibleUsageMask = static_cast<ResultReason>(0x29);
constexpr auto kUsageLimitExceeded = static_cast<ResultReason>(0x1A);

}  // namespace

Result<ttlv::Item> Ops::Check(const ttlv::Item& p, std::string* uid) {
  VMCRYPT_DECODE(req, kmip::CheckPayload, p);
  ASSIGN_OR_RETURN(*uid, Target(req.uid));
  ASSIGN_OR_RETURN(Managed m, Load(store_, client_.tenant, *uid));
  // Each value the request names is checked against the object (1.4 §4.10);
  // the first that fails decides the reason, all failing ones are named.
  std::string denied;
  std::optional<ResultReason> reason;
  auto deny = [&](ResultReason r2, const std::string& what) {
    if (!reason) reason = v_.is_v2() ? r2 : ResultReason::kPermissionDenied;
    denied += (denied.empty() ? "" : "; ") + what;
  };
  if (req.usage_limits_count) {
    if (*req.usage_limits_count <= 0) {
      return Fail(ResultReason::kInvalidField, "Usage Limits Count must be positive");
    }
    // Usage Limits (1.4 §3.21): the Count is what is left of the Total.
    const Attribute* limits = m.Find("Usage Limits");
    // Without a Count, nothing was used yet and the Total is left.
    const ttlv::Item* left = nullptr;
    if (limits != nullptr && limits->value.is_structure()) {
      left = limits->value.Find(kTagUsageLimitsCount);
      if (left == nullptr) left = limits->value.Find(kTagUsageLimitsTotal);
    }
    if (left != nullptr && *req.usage_limits_count > left->int_value()) {
      deny(kUsageLimitExceeded, "Usage Limits Count " + std::to_string(*req.usage_limits_count) +
                                    " exceeds the " + std::to_string(left->int_value()) + " left");
    }
  }
  if (req.cryptographic_usage_mask) {
    const Attribute* mask = m.Find("Cryptographic Usage Mask");
    const int64_t have = mask != nullptr && mask->value.type() == ttlv::ItemType::kInteger
                             ? mask->value.int_value()
                             : 0;
    const int64_t missing = *req.cryptographic_usage_mask & ~have;
    if (missing != 0) {
      deny(
          kIncompatibleUsageMask, "Cryptographic Usage Mask bits 0x" + [&] {
            char buf[20];
            std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(missing));
            return std::string(buf);
          }() + " are not allowed for this object");
    }
  }
  if (req.lease_time) {
    // Lease Time (1.4 §3.20) is the longest lease the server grants for the
    // object; without one, no limit applies.
    const Attribute* lease = m.Find("Lease Time");
    if (lease != nullptr && lease->value.type() == ttlv::ItemType::kInterval &&
        *req.lease_time > lease->value.int_value()) {
      deny(ResultReason::kPermissionDenied,
           "Lease Time " + std::to_string(*req.lease_time) + " s exceeds the " +
               std::to_string(lease->value.int_value()) + " s allowed");
    }
  }
  if (reason) {
    // A refused Check empties the ID Placeholder, so that a following Get in
    // the batch cannot use the object (1.4 §4.10).
    id_placeholder_.clear();
    return Fail(*reason, "Check refused object " + *uid + ": " + denied);
  }
  kmip::CheckPayload resp;
  resp.uid = *uid;
  return resp.Encode(v_);
}

}  // namespace vmcrypt::kms::internal
