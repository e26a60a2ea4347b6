// Helpers shared by the crypto component's .cc files. Not installed, not for
// other components.
#ifndef VMCRYPT_SRC_CRYPTO_INTERNAL_H_
#define VMCRYPT_SRC_CRYPTO_INTERNAL_H_

#include <climits>
#include <cstddef>
#include <string_view>

#include "vmcrypt/base/status.h"
#include "vmcrypt/crypto/kdf.h"

namespace vmcrypt::crypto::internal {

// Largest length handed to one OpenSSL call that takes an `int` length;
// longer inputs are fed in chunks of this size.
inline constexpr size_t kMaxOpenSslChunk = size_t{1} << 30;
static_assert(kMaxOpenSslChunk <= INT_MAX);

// Internal error "<what>: <OpenSSL error queue>" (drains the queue). For
// failures that are not the caller's fault: a missing provider, allocation
// failure, a library bug.
Status OpenSslFailure(std::string_view what);

// Empties the thread's OpenSSL error queue. Used where a library failure is
// an expected outcome (a failed integrity check) whose details we do not
// report, so that they do not leak into a later, unrelated error.
void ClearOpenSslErrors();

// The OpenSSL digest name ("SHA256", ...) for `hash`.
// Errors: InvalidArgument for a value outside the enum.
Result<const char*> DigestName(HashAlgorithm hash);

}  // namespace vmcrypt::crypto::internal

#endif  // VMCRYPT_SRC_CRYPTO_INTERNAL_H_
