// Shared check for the XML and JSON fuzz targets: every item a reader accepts
// must be written and read back to an equal item.
#ifndef VMCRYPT_FUZZ_TEXT_ROUND_TRIP_H_
#define VMCRYPT_FUZZ_TEXT_ROUND_TRIP_H_

#include <cstdlib>
#include <string>
#include <vector>

#include "vmcrypt/ttlv/codec.h"

namespace vmcrypt::fuzz {

template <typename Parse, typename Write>
void CheckRoundTrip(const std::vector<ttlv::Item>& items, Parse parse, Write write) {
  for (const ttlv::Item& item : items) {
    auto again = parse(write(item));
    if (!again.ok() || again->size() != 1 || !((*again)[0] == item)) std::abort();
    // The binary encoder must accept it too, or fail cleanly.
    ttlv::PlaceholderMap placeholders;
    auto wire = ttlv::Encode(item, &placeholders);
    if (wire.ok()) {
      auto back = ttlv::Decode({wire->data(), wire->size()});
      if (!back.ok()) std::abort();
    }
  }
}

}  // namespace vmcrypt::fuzz

#endif  // VMCRYPT_FUZZ_TEXT_ROUND_TRIP_H_
