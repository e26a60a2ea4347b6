// Fuzz target: the TTLV binary decoder (untrusted bytes from the network).
// Whatever decodes must re-encode to exactly the input bytes (the decoder is
// strict, so there is one encoding per tree).
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "vmcrypt/ttlv/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmcrypt::ttlv;
  Limits limits;
  limits.max_message_size = 1 << 20;
  auto item = Decode({data, size}, limits);
  if (!item.ok()) return 0;
  auto wire = Encode(*item);
  if (!wire.ok() || wire->size() != size || std::memcmp(wire->data(), data, size) != 0) {
    std::abort();
  }
  return 0;
}
