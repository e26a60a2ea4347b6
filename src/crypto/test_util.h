// Test helpers for the crypto component: hex literals for known-answer
// vectors. Test-only.
#ifndef VMCRYPT_SRC_CRYPTO_TEST_UTIL_H_
#define VMCRYPT_SRC_CRYPTO_TEST_UTIL_H_

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/base/secret_bytes.h"

namespace vmcrypt::crypto::testing {

// Decodes hex written as in the RFCs (spaces allowed); aborts on a typo in a
// vector, which is a bug in the test.
inline std::vector<uint8_t> Hex(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ') compact += c;
  }
  auto bytes = HexDecode(compact);
  if (!bytes.ok()) std::abort();
  return *std::move(bytes);
}

inline SecretBytes SecretHex(std::string_view text) { return SecretBytes(Hex(text)); }

inline std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

inline std::vector<uint8_t> Repeat(uint8_t b, size_t n) { return std::vector<uint8_t>(n, b); }

inline std::vector<uint8_t> ToVector(const SecretBytes& s) {
  return {s.span().begin(), s.span().end()};
}

}  // namespace vmcrypt::crypto::testing

#endif  // VMCRYPT_SRC_CRYPTO_TEST_UTIL_H_
