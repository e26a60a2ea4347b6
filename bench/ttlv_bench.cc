// TTLV codec throughput: decode and encode of typical KMIP messages (a
// vCenter Create request; a Get response carrying a 256-bit key; a 50-item
// Locate response). bench/run_all.sh prints these side by side with PyKMIP's
// codec on the same bytes (bench/pykmip_codec_bench.py).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "vmcrypt/base/encoding.h"
#include "vmcrypt/ttlv/codec.h"
#include "vmcrypt/ttlv/xml.h"

namespace {

using vmcrypt::ttlv::Bytes;
using vmcrypt::ttlv::Item;

// The messages, as hex lines in bench/messages.hex (one per line).
std::vector<std::vector<uint8_t>> LoadMessages() {
  std::vector<std::vector<uint8_t>> out;
  std::ifstream in(std::string(VMCRYPT_SOURCE_DIR) + "/bench/messages.hex");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto bytes = vmcrypt::HexDecode(line);
    if (!bytes.ok()) std::abort();
    out.push_back(*bytes);
  }
  return out;
}

const std::vector<std::vector<uint8_t>>& Messages() {
  static const auto* m = new std::vector<std::vector<uint8_t>>(LoadMessages());
  return *m;
}

void BM_Decode(benchmark::State& state) {
  const auto& msg = Messages().at(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    auto item = vmcrypt::ttlv::Decode(msg);
    benchmark::DoNotOptimize(item);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
}

void BM_Encode(benchmark::State& state) {
  const auto& msg = Messages().at(static_cast<size_t>(state.range(0)));
  Item item = *vmcrypt::ttlv::Decode(msg);
  for (auto _ : state) {
    auto wire = vmcrypt::ttlv::Encode(item);
    benchmark::DoNotOptimize(wire);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * msg.size()));
}

void BM_XmlWrite(benchmark::State& state) {
  const auto& msg = Messages().at(static_cast<size_t>(state.range(0)));
  Item item = *vmcrypt::ttlv::Decode(msg);
  for (auto _ : state) {
    std::string xml = vmcrypt::ttlv::WriteXml(item);
    benchmark::DoNotOptimize(xml);
  }
}

// 0: Create request (vCenter), 1: Get response (AES-256), 2: Locate response.
BENCHMARK(BM_Decode)->DenseRange(0, 2);
BENCHMARK(BM_Encode)->DenseRange(0, 2);
BENCHMARK(BM_XmlWrite)->DenseRange(0, 2);

}  // namespace

BENCHMARK_MAIN();
