// Fuzz target: the disk header decoder (disk::DecodeHeader, untrusted bytes
// read from a disk file; docs/disk-format.md "Header copy").
//
// Each input is decoded twice: as given (magic, version, length and checksum
// checks), and with magic and version forced and the SHA-256 checksum
// recomputed, so that the fuzzer reaches the field and key safe parsing
// behind the checksum. Whatever decodes must re-encode to the same bytes
// (the decoder rejects non-zero reserved bytes and trailing data, so there
// is one encoding per header), and the re-encoding must decode again.
#include <openssl/sha.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/disk/header.h"

namespace {

using vmcrypt::SecretBytes;
using namespace vmcrypt::disk;

void CheckRoundTrip(const DecodedHeader& d) {
  static const uint8_t kKey[32] = {0x5a};
  const SecretBytes mac_key(std::span<const uint8_t>(kKey, sizeof(kKey)));
  auto encoded = EncodeHeader(d.header, mac_key);
  if (!encoded.ok()) std::abort();  // a decoded header always validates
  const size_t covered = d.mac_input.size();
  if (encoded->size() != kHeaderCopySize ||
      std::memcmp(encoded->data(), d.mac_input.data(), covered) != 0) {
    std::abort();
  }
  auto again = DecodeHeader(*encoded);
  if (!again.ok() || again->mac_input != d.mac_input) std::abort();
  if (!VerifyHeaderMac(*again, mac_key).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto raw = DecodeHeader({data, size});
  if (raw.ok()) CheckRoundTrip(*raw);

  std::vector<uint8_t> copy(kHeaderCopySize, 0);
  std::copy_n(data, std::min(size, kHeaderCopySize), copy.begin());
  std::memcpy(copy.data(), kMagic, 8);
  copy[8] = 0;
  copy[9] = 1;  // version 1
  const size_t length = static_cast<size_t>((copy[10] << 8) | copy[11]);
  if (length >= 32 && length <= kHeaderCopySize) {
    SHA256(copy.data(), length - 32, copy.data() + length - 32);
  }
  auto fixed = DecodeHeader(copy);
  if (fixed.ok()) CheckRoundTrip(*fixed);
  return 0;
}
