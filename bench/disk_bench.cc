// Encrypted disk I/O through the library (EncryptedDisk: XTS-AES-256 per 4 KiB
// sector, region locks, pread/pwrite) against plain pread/pwrite of the same
// sizes on a plain file: sequential writes and reads of 1 MiB over a 256 MiB
// disk, page-cached (the cost of encryption, not of the device). The files
// live in $VMCRYPT_BENCH_DIR (default: the current folder).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_dir.h"
#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/disk/encrypted_disk.h"
#include "vmcrypt/disk/header_store.h"
#include "vmcrypt/disk/tools.h"

namespace {

constexpr uint64_t kDiskSize = uint64_t{256} << 20;
constexpr size_t kIo = size_t{1} << 20;

using vmcrypt::bench::BenchDir;

vmcrypt::SecretBytes Kek() {
  vmcrypt::SecretBytes k(32);
  for (size_t i = 0; i < 32; ++i) k.data()[i] = static_cast<uint8_t>(i * 13 + 5);
  return k;
}

std::vector<uint8_t> Data() {
  std::vector<uint8_t> d(kIo);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 31 + 7);
  return d;
}

void BM_EncryptedSeqWrite(benchmark::State& state) {
  BenchDir dir("disk_bench");
  const std::string path = dir.File("enc.img");
  if (!vmcrypt::disk::CreateDisk(path, kDiskSize, Kek(), {"", "bench"}).ok()) std::abort();
  auto disk = vmcrypt::disk::EncryptedDisk::Open(path, vmcrypt::disk::SingleKek(Kek()));
  if (!disk.ok()) std::abort();
  const auto data = Data();
  uint64_t off = 0;
  for (auto _ : state) {
    if (!(*disk)->Write(off, data, false).ok()) std::abort();
    off = (off + kIo) % kDiskSize;
  }
  state.SetBytesProcessed(state.iterations() * kIo);
}
BENCHMARK(BM_EncryptedSeqWrite)->UseRealTime();

void BM_EncryptedSeqRead(benchmark::State& state) {
  BenchDir dir("disk_bench");
  const std::string path = dir.File("enc.img");
  if (!vmcrypt::disk::CreateDisk(path, kDiskSize, Kek(), {"", "bench"}).ok()) std::abort();
  auto disk = vmcrypt::disk::EncryptedDisk::Open(path, vmcrypt::disk::SingleKek(Kek()));
  if (!disk.ok()) std::abort();
  const auto data = Data();
  for (uint64_t off = 0; off < kDiskSize; off += kIo) {
    if (!(*disk)->Write(off, data, false).ok()) std::abort();
  }
  std::vector<uint8_t> buf(kIo);
  uint64_t off = 0;
  for (auto _ : state) {
    if (!(*disk)->Read(off, buf).ok()) std::abort();
    off = (off + kIo) % kDiskSize;
  }
  state.SetBytesProcessed(state.iterations() * kIo);
}
BENCHMARK(BM_EncryptedSeqRead)->UseRealTime();

// The reference: the same I/O on a plain file.
void PlainIo(benchmark::State& state, bool write) {
  BenchDir dir("disk_bench");
  const std::string path = dir.File("plain.img");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  std::vector<uint8_t> buf = Data();
  for (uint64_t off = 0; off < kDiskSize; off += kIo) {
    if (pwrite(fd, buf.data(), kIo, static_cast<off_t>(off)) != static_cast<ssize_t>(kIo)) {
      std::abort();
    }
  }
  uint64_t off = 0;
  for (auto _ : state) {
    const ssize_t n = write ? pwrite(fd, buf.data(), kIo, static_cast<off_t>(off))
                            : pread(fd, buf.data(), kIo, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(kIo)) std::abort();
    off = (off + kIo) % kDiskSize;
  }
  close(fd);
  state.SetBytesProcessed(state.iterations() * kIo);
}
void BM_PlainSeqWrite(benchmark::State& state) { PlainIo(state, true); }
void BM_PlainSeqRead(benchmark::State& state) { PlainIo(state, false); }
BENCHMARK(BM_PlainSeqWrite)->UseRealTime();
BENCHMARK(BM_PlainSeqRead)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
