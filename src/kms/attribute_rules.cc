#include "src/kms/attribute_rules.h"

#include <openssl/evp.h>

#include <algorithm>
#include <tuple>

#include "vmcrypt/ttlv/dictionary.h"
#include "vmcrypt/ttlv/tags.h"

namespace vmcrypt::kms::internal {

using kmip::Attribute;
using kmip::ResultReason;

namespace {

constexpr uint32_t kProtectionStorageSoftware = 0x01;  // 2.1 §12.2

bool BoolAttr(const Managed& m, std::string_view name, bool fallback) {
  const Attribute* a = m.Find(name);
  if (a == nullptr || a->value.type() != ttlv::ItemType::kBoolean) return fallback;
  return a->value.int_value() != 0;
}

Attribute Interval(std::string_view name, uint32_t seconds) {
  return {std::string(name), std::nullopt,
          ttlv::Item::Interval(ttlv::tag::kAttributeValue, seconds)};
}

// The Short Unique Identifier: "SHOULD be generated as a SHA-256 hash of the
// Unique Identifier and SHALL be a 32 byte byte string" (2.1 §4.56).
std::optional<Attribute> ShortUniqueIdentifier(std::string_view uid) {
  uint8_t md[EVP_MAX_MD_SIZE];
  size_t md_len = 0;
  if (EVP_Q_digest(nullptr, "SHA256", nullptr, uid.data(), uid.size(), md, &md_len) != 1) {
    return std::nullopt;
  }
  return Attribute{
      "Short Unique Identifier", std::nullopt,
      ttlv::Item::ByteString(ttlv::tag::kAttributeValue, std::span<const uint8_t>(md, md_len))};
}

// The first 1.x minor version with attribute `name`, for those added after
// 1.0 (KMIP 1.1-1.4 specifications, §3).
std::optional<int32_t> FirstMinor(std::string_view name) {
  struct Entry {
    const char* name;
    int32_t minor;
  };
  static constexpr Entry kAdded[] = {
      {"Fresh", 1},
      {"Certificate Length", 1},
      {"X.509 Certificate Identifier", 1},
      {"X.509 Certificate Subject", 1},
      {"X.509 Certificate Issuer", 1},
      {"Digital Signature Algorithm", 1},
      {"Alternative Name", 2},
      {"Key Value Present", 2},
      {"Key Value Location", 2},
      {"Original Creation Date", 2},
      {"Random Number Generator", 3},
      {"PKCS#12 Friendly Name", 4},
      {"Description", 4},
      {"Comment", 4},
      {"Sensitive", 4},
      {"Always Sensitive", 4},
      {"Extractable", 4},
      {"Never Extractable", 4},
  };
  for (const Entry& e : kAdded) {
    if (name == e.name) return e.minor;
  }
  return std::nullopt;
}

}  // namespace

void SetServerManagedAttributes(Managed& m, int64_t now, bool generated) {
  const bool sensitive = BoolAttr(m, "Sensitive", false);
  const bool extractable = BoolAttr(m, "Extractable", true);
  m.Set(Attribute::Boolean("Sensitive", sensitive));
  m.Set(Attribute::Boolean("Extractable", extractable));
  m.Set(Attribute::Boolean("Always Sensitive", sensitive));
  m.Set(Attribute::Boolean("Never Extractable", !extractable));
  if (std::optional<Attribute> s = ShortUniqueIdentifier(m.record.uid)) m.Set(std::move(*s));
  m.Set(Attribute::Integer("Protection Storage Mask", kProtectionStorageSoftware));
  // Fresh and Lease Time apply to "All Cryptographic Objects" (1.4 §3.34,
  // §3.20): those holding cryptographic material, which Opaque Data is not.
  if (static_cast<kmip::ObjectType>(m.record.object_type) != kmip::ObjectType::kOpaqueObject) {
    m.Set(Attribute::Boolean("Fresh", true));
    m.Set(Interval("Lease Time", kLeaseTimeSeconds));
  }
  // "SHALL be the same as the Initial Date attribute" for generated objects
  // (1.4 §3.43). No Re-key here: it would copy the original's.
  if (generated) m.Set(Attribute::DateTime("Original Creation Date", now));
}

void TrackSensitivity(Managed& m) {
  if (!BoolAttr(m, "Sensitive", false)) m.Set(Attribute::Boolean("Always Sensitive", false));
  if (BoolAttr(m, "Extractable", true)) m.Set(Attribute::Boolean("Never Extractable", false));
}

Status CheckFlagValue(const Attribute& a) {
  if ((a.name == "Sensitive" || a.name == "Extractable") &&
      a.value.type() != ttlv::ItemType::kBoolean) {
    return Fail(ResultReason::kInvalidField, "attribute '" + a.name + "' must be a Boolean");
  }
  return OkStatus();
}

Status CheckClientDeletable(std::string_view name) {
  if (name == "Sensitive" || name == "Extractable" || name == "Original Creation Date") {
    return Fail(ResultReason::kPermissionDenied,
                "attribute '" + std::string(name) + "' cannot be deleted");
  }
  return OkStatus();
}

Status CheckClientModifiable(std::string_view name) {
  if (name == "Original Creation Date") {
    return Fail(ResultReason::kPermissionDenied,
                "attribute 'Original Creation Date' cannot change once set");
  }
  return OkStatus();
}

Status CheckGettable(const Managed& m, kmip::ProtocolVersion v, bool wrapped) {
  const bool has_reasons = v >= kmip::kKmip14;
  if (!BoolAttr(m, "Extractable", true)) {
    return Fail(has_reasons ? ResultReason::kNotExtractable : ResultReason::kPermissionDenied,
                "object " + m.record.uid + " is not Extractable; its key material cannot be got");
  }
  if (!wrapped && BoolAttr(m, "Sensitive", false)) {
    return Fail(has_reasons ? ResultReason::kSensitive : ResultReason::kPermissionDenied,
                "object " + m.record.uid +
                    " is Sensitive: its key material leaves only wrapped (give a Key Wrapping "
                    "Specification)");
  }
  return OkStatus();
}

bool AttributeInVersion(std::string_view name, kmip::ProtocolVersion v) {
  if (!v.is_v2()) {
    if (name == "Key Format Type") return false;
    if (std::optional<int32_t> minor = FirstMinor(name); minor && v.minor < *minor) return false;
  }
  const ttlv::dict::TagInfo* t = ttlv::dict::FindTagBySpecName(name);
  if (t == nullptr) return true;  // custom: x- names in 1.x, Vendor Attributes in 2.x
  return (t->versions & (v.is_v2() ? ttlv::dict::kInV2 : ttlv::dict::kInV1)) != 0;
}

void SortForListing(std::vector<std::string>& names) {
  static const char* kIdentity[] = {"Unique Identifier", "Short Unique Identifier", "Object Type",
                                    "Cryptographic Algorithm", "Cryptographic Length"};
  auto key = [](const std::string& n) {
    for (size_t i = 0; i < std::size(kIdentity); ++i) {
      if (n == kIdentity[i]) return std::make_tuple(0, static_cast<int>(i), std::string());
    }
    if (ttlv::dict::FindTagBySpecName(n) == nullptr) return std::make_tuple(2, 0, n);
    // "Digest" < "Digest\x01" < "Digesu...": right after Digest.
    return std::make_tuple(1, 0, n == "Key Format Type" ? std::string("Digest\x01") : n);
  };
  std::stable_sort(names.begin(), names.end(),
                   [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
}

}  // namespace vmcrypt::kms::internal
