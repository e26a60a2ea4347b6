// Fuzz target: the KMIP XML reader.
#include <cstdint>
#include <string_view>

#include "fuzz/text_round_trip.h"
#include "vmcrypt/ttlv/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vmcrypt;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto items = ttlv::ParseXml(text);
  if (!items.ok()) return 0;
  fuzz::CheckRoundTrip(
      *items, [](const std::string& s) { return ttlv::ParseXml(s); },
      [](const ttlv::Item& i) { return ttlv::WriteXml(i); });
  return 0;
}
