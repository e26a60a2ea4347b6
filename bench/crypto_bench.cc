// Cost of one call of the crypto component's hot primitives, each call doing
// everything a caller pays for (algorithm fetch, context setup, keying,
// teardown): AES-256 key wrap with padding of a 32-byte key (RFC 5649), AES-256-GCM
// seal of 4 KiB, HKDF-SHA256 to 32 bytes. bench/run_all.sh prints these side
// by side with `openssl speed` as a reference. XTS-AES-256 is measured the way
// the disk uses it: one keyed XtsAes256 reused for runs of 4 KiB sectors.
#include <benchmark/benchmark.h>

#include <openssl/evp.h>

#include <array>
#include <cstdlib>
#include <vector>

#include "vmcrypt/base/secret_bytes.h"
#include "vmcrypt/crypto/aead.h"
#include "vmcrypt/crypto/kdf.h"
#include "vmcrypt/crypto/key_wrap.h"
#include "vmcrypt/crypto/openssl.h"
#include "vmcrypt/crypto/xts.h"

namespace {

using vmcrypt::SecretBytes;

SecretBytes Key(size_t n, uint8_t seed) {
  SecretBytes k(n);
  for (size_t i = 0; i < n; ++i) k.data()[i] = static_cast<uint8_t>(seed + i);
  return k;
}

void BM_AesKwpWrap32(benchmark::State& state) {
  const SecretBytes kek = Key(32, 1);
  const SecretBytes key = Key(32, 100);
  for (auto _ : state) {
    auto wrapped = vmcrypt::crypto::AesKeyWrapPad(kek, key.span());
    if (!wrapped.ok()) std::abort();
    benchmark::DoNotOptimize(wrapped->data());
  }
  state.SetBytesProcessed(state.iterations() * 32);
}
BENCHMARK(BM_AesKwpWrap32);

void BM_AesGcmSeal4K(benchmark::State& state) {
  const SecretBytes key = Key(32, 7);
  const std::vector<uint8_t> iv(vmcrypt::crypto::kGcmIvSize, 0x5c);
  const std::vector<uint8_t> plaintext(4096, 0xa5);
  for (auto _ : state) {
    auto sealed = vmcrypt::crypto::AesGcmSeal(key, iv, {}, plaintext);
    if (!sealed.ok()) std::abort();
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(state.iterations() * 4096);
}
BENCHMARK(BM_AesGcmSeal4K);

void BM_HkdfSha256_32(benchmark::State& state) {
  const SecretBytes ikm = Key(32, 3);
  const std::vector<uint8_t> salt(32, 0x11);
  const std::vector<uint8_t> info = {'v', 'm', 'c', 'r', 'y', 'p', 't'};
  for (auto _ : state) {
    auto okm = vmcrypt::crypto::HkdfSha256(ikm, salt, info, 32);
    if (!okm.ok()) std::abort();
    benchmark::DoNotOptimize(okm->data());
  }
}
BENCHMARK(BM_HkdfSha256_32);

// XTS-AES-256 encryption of state.range(0) bytes of 4 KiB sectors with one
// reused, keyed context (the disk's hot path; key setup is not in the loop,
// as it is not in `openssl speed`).
void BM_XtsAes256Encrypt(benchmark::State& state) {
  const SecretBytes key = Key(64, 9);
  auto xts = vmcrypt::crypto::XtsAes256::Create(key);
  if (!xts.ok()) std::abort();
  std::vector<uint8_t> buf(static_cast<size_t>(state.range(0)), 0xa5);
  uint64_t sector = 0;
  for (auto _ : state) {
    if (!xts->Encrypt(sector, buf, buf).ok()) std::abort();
    sector += buf.size() / vmcrypt::crypto::kXtsSectorSize;
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_XtsAes256Encrypt)->Arg(4096)->Arg(1 << 20);
// The same over 1 MiB runs on one and on two threads, each thread with its
// own XtsAes256 (objects are single-threaded): the two-core scaling that
// bench/disk/disk-bench.sh prints next to `openssl speed -multi 2`.
BENCHMARK(BM_XtsAes256Encrypt)->Arg(1 << 20)->UseRealTime()->Threads(1)->Threads(2);

// Reference for the one-core figure: OpenSSL's EVP interface used directly,
// one keyed context, 4 KiB sectors, with (range(0) = 1) or without (0) the
// per-sector tweak re-initialisation an XTS disk needs. Without it this is
// what `openssl speed -evp aes-256-xts -bytes 4096` measures; with it, the
// least any EVP-based XTS disk pays (our engine should match it).
void BM_OpensslXts4K(benchmark::State& state) {
  using vmcrypt::crypto::EvpCipherCtxPtr;
  using vmcrypt::crypto::EvpCipherPtr;
  const bool reset = state.range(0) != 0;
  const SecretBytes key = Key(64, 9);
  EvpCipherPtr cipher(EVP_CIPHER_fetch(nullptr, "AES-256-XTS", nullptr));
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::array<uint8_t, 16> tweak{};
  if (cipher == nullptr || ctx == nullptr ||
      EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), tweak.data(), 1, nullptr) != 1) {
    std::abort();
  }
  std::vector<uint8_t> buf(vmcrypt::crypto::kXtsSectorSize, 0xa5);
  uint64_t sector = 0;
  for (auto _ : state) {
    if (reset) {
      ++sector;
      for (size_t b = 0; b < 8; ++b) tweak[b] = static_cast<uint8_t>(sector >> (8 * b));
      if (EVP_CipherInit_ex2(ctx.get(), nullptr, nullptr, tweak.data(), 1, nullptr) != 1) {
        std::abort();
      }
    }
    int written = 0;
    if (EVP_CipherUpdate(ctx.get(), buf.data(), &written, buf.data(),
                         static_cast<int>(buf.size())) != 1) {
      std::abort();
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
}
BENCHMARK(BM_OpensslXts4K)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
