// KMIP protocol versions (KMIP 1.4 §6.1; 2.1 §8.1 Protocol Version).
#ifndef VMCRYPT_KMIP_VERSION_H_
#define VMCRYPT_KMIP_VERSION_H_

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

namespace vmcrypt::kmip {

struct ProtocolVersion {
  int32_t major = 1;
  int32_t minor = 4;

  auto operator<=>(const ProtocolVersion&) const = default;
  // True for 2.0 and later: attributes by tag, no Template-Attribute.
  bool is_v2() const { return major >= 2; }
  // "1.4"
  std::string ToString() const { return std::to_string(major) + "." + std::to_string(minor); }
};

inline constexpr ProtocolVersion kKmip10{1, 0};
inline constexpr ProtocolVersion kKmip11{1, 1};
inline constexpr ProtocolVersion kKmip12{1, 2};
inline constexpr ProtocolVersion kKmip13{1, 3};
inline constexpr ProtocolVersion kKmip14{1, 4};
inline constexpr ProtocolVersion kKmip20{2, 0};
inline constexpr ProtocolVersion kKmip21{2, 1};

// Every version this library speaks, newest first (the order a Discover
// Versions answer lists them in, KMIP 1.4 §4.26).
inline const std::vector<ProtocolVersion>& SupportedVersions() {
  static const std::vector<ProtocolVersion> kAll = {kKmip21, kKmip20, kKmip14, kKmip13,
                                                    kKmip12, kKmip11, kKmip10};
  return kAll;
}

// Parses "1.4"; false when malformed.
bool ParseProtocolVersion(const std::string& text, ProtocolVersion* out);

}  // namespace vmcrypt::kmip

#endif  // VMCRYPT_KMIP_VERSION_H_
