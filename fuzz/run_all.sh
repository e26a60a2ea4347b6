#!/usr/bin/env bash
# `make fuzz`: runs every fuzz target for FUZZ_SECONDS (default 60) each.
set -euo pipefail
DIR=${1:-build-fuzz}
SRC="$(cd "$(dirname "$0")/.." && pwd)"
SHARED=${VMCRYPT_SHARED_DIR:-$SRC/../shared}
bash "$SRC/fuzz/build.sh" "$DIR"
[ -x "$SRC/build/vmcrypt" ] || make -C "$SRC" build
bash "$SRC/fuzz/make_seeds.sh" "$SRC/build/vmcrypt" "$SHARED/reference/kmip/testcases" "$DIR/seeds"
for name in ttlv_decode_fuzzer xml_fuzzer json_fuzzer disk_header_fuzzer nbd_server_fuzzer; do
  bash "$SRC/fuzz/run_fuzzer.sh" "$DIR" "$name" "$DIR/seeds" "${FUZZ_SECONDS:-60}"
done
