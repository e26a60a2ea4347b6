#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into DIR (default build-fuzz).
set -euo pipefail
DIR=${1:-build-fuzz}
SRC="$(cd "$(dirname "$0")/.." && pwd)"
command -v clang++ >/dev/null || { echo "clang++ is missing (Debian package clang)" >&2; exit 1; }
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || \
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 || \
  { echo "libFuzzer runtime is missing (Debian package libclang-rt-14-dev)" >&2; exit 1; }
if [ ! -f "$DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$SRC" -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVMCRYPT_FUZZ=ON -DVMCRYPT_TESTS=OFF -DVMCRYPT_BENCH=OFF >/dev/null
fi
cmake --build "$DIR" -j "$(nproc)" --target ttlv_decode_fuzzer xml_fuzzer json_fuzzer disk_header_fuzzer nbd_server_fuzzer
