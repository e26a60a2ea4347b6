#!/usr/bin/env bash
# Our NBD server (nbd_test_server over a raw file) against nbdkit's file
# plugin (Debian nbdkit), side by side on unix sockets, with QEMU's clients:
#   seq write   qemu-img convert -n (1 MiB requests) of SIZE random bytes
#   seq read    qemu-img bench -s 1M -d 8 over the whole export
#   4k read     qemu-img bench -s 4k -d 8, strided over the whole export
#   4k write    the same with -w
# Prints MB/s for both and the ratio ours/nbdkit (1.00 = as fast).
#
# Usage: bench/nbd_bench.sh [NBD_TEST_SERVER] (env SIZE_MB, default 512;
#        RUNS, default 3: the best of RUNS is kept)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SERVER_BIN=${1:-$HERE/../build/tests/nbd_test_server}
SIZE_MB=${SIZE_MB:-512}
RUNS=${RUNS:-3}
for tool in qemu-img nbdkit; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    pkg=qemu-utils
    [ "$tool" = nbdkit ] && pkg=nbdkit
    echo "nbd_bench: $tool not found: install the Debian package $pkg" >&2
    exit 1
  fi
done
[ -x "$SERVER_BIN" ] || { echo "nbd_bench: build nbd_test_server first ($SERVER_BIN)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/nbd_bench.XXXXXX)
OUR_PID=""
cleanup() {
  [ -n "$OUR_PID" ] && kill "$OUR_PID" 2>/dev/null && wait "$OUR_PID" 2>/dev/null
  [ -f "$WORK/nbdkit.pid" ] && kill "$(cat "$WORK/nbdkit.pid")" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

SIZE=$((SIZE_MB * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$WORK/src.img"
truncate -s "$SIZE" "$WORK/ours.img" "$WORK/theirs.img"

"$SERVER_BIN" --socket "$WORK/ours.sock" "$WORK/ours.img" >"$WORK/ours.out" 2>"$WORK/ours.log" &
OUR_PID=$!
nbdkit -U "$WORK/theirs.sock" -P "$WORK/nbdkit.pid" file "$WORK/theirs.img"
for _ in $(seq 1 100); do
  [ -S "$WORK/ours.sock" ] && [ -S "$WORK/theirs.sock" ] && break
  sleep 0.1
done

OURS="nbd+unix:///ours?socket=$WORK/ours.sock"
THEIRS="nbd+unix:///?socket=$WORK/theirs.sock"

# best_seconds CMD...: the fastest of RUNS runs, in seconds.
best_seconds() {
  local best=""
  for _ in $(seq 1 "$RUNS"); do
    sync
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    best=$(awk -v a="$t0" -v b="$t1" -v best="$best" \
      'BEGIN { d = b - a; if (best == "" || d < best) print d; else print best }')
  done
  echo "$best"
}

OPS_4K=$((SIZE / 65536))  # one 4 KiB request every 64 KiB
printf '%-10s %12s %12s %8s\n' test "ours MB/s" "nbdkit MB/s" ratio
run() {
  local name=$1 bytes=$2
  shift 2
  local ours theirs
  ours=$(best_seconds "${@//@URL@/$OURS}")
  theirs=$(best_seconds "${@//@URL@/$THEIRS}")
  awk -v n="$name" -v by="$bytes" -v o="$ours" -v t="$theirs" 'BEGIN {
    mo = by / 1048576 / o; mt = by / 1048576 / t
    printf "%-10s %12.1f %12.1f %8.2f\n", n, mo, mt, mo / mt }'
}

run "seq write" "$SIZE" qemu-img convert -n -f raw "$WORK/src.img" -O raw @URL@
run "seq read" "$SIZE" qemu-img bench -f raw -q -c "$SIZE_MB" -d 8 -s 1M @URL@
run "4k read" $((OPS_4K * 4096)) qemu-img bench -f raw -q -c "$OPS_4K" -d 8 -s 4k -S 64k @URL@
run "4k write" $((OPS_4K * 4096)) qemu-img bench -f raw -q -w -c "$OPS_4K" -d 8 -s 4k -S 64k @URL@
