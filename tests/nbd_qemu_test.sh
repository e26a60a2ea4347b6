#!/usr/bin/env bash
# The NBD server against QEMU's own NBD client (Debian qemu-utils): qemu-io
# patterns, qemu-img convert -n / compare / info, discard, write-zeroes, FUA,
# two concurrent clients on one export, TCP on 127.0.0.1, and a restart that
# keeps the data.
#
# Usage: nbd_qemu_test.sh PATH/TO/nbd_test_server
set -euo pipefail

SERVER_BIN=${1:?usage: nbd_qemu_test.sh NBD_TEST_SERVER}
for tool in qemu-io qemu-img; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL: $tool not found: install the Debian package qemu-utils (scripts/install-deps.sh)" >&2
    exit 1
  fi
done

WORK=$(mktemp -d /tmp/nbd_qemu_test.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- server log ---" >&2
  cat "$WORK"/server*.log >&2 2>/dev/null || true
  exit 1
}
step() { echo "== $*"; }

SOCK=$WORK/nbd.sock
DISK=$WORK/disk.img
OTHER=$WORK/other.img
SIZE=$((32 * 1024 * 1024))
truncate -s $SIZE "$DISK"
truncate -s $((4 * 1024 * 1024)) "$OTHER"

# start_server LOG ARGS...: starts the server, waits for "ready port=N" and
# sets SERVER_PID and PORT.
start_server() {
  local log=$1
  shift
  "$SERVER_BIN" "$@" >"$WORK/ready.out" 2>"$log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if grep -q '^ready port=' "$WORK/ready.out" 2>/dev/null; then
      PORT=$(sed -n 's/^ready port=//p' "$WORK/ready.out")
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$log")"
    sleep 0.1
  done
  fail "server not ready after 10 s"
}

stop_server() {
  kill -TERM "$SERVER_PID"
  local rc=0
  wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [ "$rc" -eq 0 ] || fail "server exited with $rc on SIGTERM"
}

URL="nbd+unix:///disk?socket=$SOCK"
qio() { qemu-io -f raw "$URL" "$@"; }

start_server "$WORK/server1.log" --socket "$SOCK" "$DISK" "$OTHER"

step "qemu-img info sees the export and its size"
info=$(qemu-img info --output=json "$URL") || fail "qemu-img info failed"
grep -q "\"virtual-size\": $SIZE" <<<"$info" || fail "wrong size in: $info"

step "qemu-io writes patterns and reads them back"
qio -c 'write -P 0xab 0 1M' -c 'write -P 0x5c 5M 64k' -c 'write -P 0x17 -f 31M 1M' \
  -c 'write -P 0x99 3000001 1000' >/dev/null || fail "qemu-io write failed"
qio -c 'read -P 0xab 0 1M' -c 'read -P 0x5c 5M 64k' -c 'read -P 0x17 31M 1M' \
  -c 'read -P 0x99 3000001 1000' -c 'read -P 0 8M 1M' >"$WORK/read.out" ||
  fail "qemu-io read failed: $(cat "$WORK/read.out")"
grep -q 'Pattern verification failed' "$WORK/read.out" && fail "pattern mismatch: $(cat "$WORK/read.out")"

step "the bytes are in the raw file at the same offsets"
qemu-io -r -U -f raw "$DISK" -c 'read -P 0xab 0 1M' -c 'read -P 0x5c 5M 64k' \
  -c 'read -P 0x99 3000001 1000' >"$WORK/file.out" || fail "reading the file failed"
grep -q 'Pattern verification failed' "$WORK/file.out" && fail "file content differs"

step "discard, then the range reads as zeros"
qio -c 'discard 0 512k' -c 'read -P 0 0 512k' -c 'read -P 0xab 512k 512k' >"$WORK/discard.out" ||
  fail "discard failed"
grep -q 'Pattern verification failed' "$WORK/discard.out" && fail "discard: $(cat "$WORK/discard.out")"

step "write zeroes (with and without holes), then zeros"
qio -c 'write -z 5M 32k' -c 'write -z -u 5152k 32k' -c 'read -P 0 5M 64k' >"$WORK/wz.out" ||
  fail "write zeroes failed"
grep -q 'Pattern verification failed' "$WORK/wz.out" && fail "write zeroes: $(cat "$WORK/wz.out")"

step "qemu-img convert -n into the export, then qemu-img compare"
SRC=$WORK/src.img
head -c $SIZE /dev/urandom >"$SRC"
qemu-img convert -n -f raw "$SRC" -O raw "$URL" || fail "qemu-img convert failed"
qemu-img compare -f raw -F raw "$SRC" "$URL" || fail "qemu-img compare found a difference"
cmp "$SRC" "$DISK" || fail "the raw file differs from the source"
qemu-img convert -f raw -O raw "$URL" "$WORK/back.img" || fail "qemu-img convert out failed"
cmp "$SRC" "$WORK/back.img" || fail "converted copy differs"
# compare must notice a change made through the export
qio -c 'write -P 0x01 30000k 4k' >/dev/null
if qemu-img compare -q -f raw -F raw "$SRC" "$URL"; then fail "compare missed a difference"; fi

step "two concurrent qemu-io clients on one export"
pids=()
for i in 1 2; do
  cmds=()
  for j in 0 1 2 3 4 5 6 7; do
    off=$(((i - 1) * 8 + j))
    cmds+=(-c "write -P $((i * 16 + j)) ${off}M 1M" -c "read -P $((i * 16 + j)) ${off}M 1M")
  done
  qio "${cmds[@]}" >"$WORK/conc$i.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent client failed"; done
grep -q 'Pattern verification failed' "$WORK"/conc*.out && fail "concurrent clients: mismatch"
for i in 1 2; do
  for j in 0 1 2 3 4 5 6 7; do
    off=$(((i - 1) * 8 + j))
    qio -c "read -P $((i * 16 + j)) ${off}M 1M" >"$WORK/check.out" || fail "read failed"
    grep -q 'Pattern verification failed' "$WORK/check.out" && fail "client $i block $j lost"
  done
done

step "a second export, chosen by name; an unknown name fails cleanly"
qemu-io -f raw "nbd+unix:///other?socket=$SOCK" -c 'write -P 0x42 0 4M' -c 'read -P 0x42 0 4M' \
  >"$WORK/other.out" || fail "second export failed"
grep -q 'Pattern verification failed' "$WORK/other.out" && fail "second export mismatch"
if qemu-io -f raw "nbd+unix:///nosuch?socket=$SOCK" -c 'read 0 512' >/dev/null 2>&1; then
  fail "an unknown export opened"
fi
qio -c 'read -P 0x01 30000k 4k' >"$WORK/check.out" || fail "read failed"
grep -q 'Pattern verification failed' "$WORK/check.out" && fail "the second export changed the first"

step "graceful stop on SIGTERM removes the socket"
stop_server
[ ! -e "$SOCK" ] || fail "socket left behind"

step "restart on 127.0.0.1:0 (TCP): the data is still there"
start_server "$WORK/server2.log" --listen 127.0.0.1:0 "$DISK"
[ "$PORT" -gt 0 ] || fail "no port reported"
TCP_URL="nbd://127.0.0.1:$PORT/disk"
qemu-io -f raw "$TCP_URL" -c 'read -P 0x01 30000k 4k' >"$WORK/restart.out" || fail "TCP read failed"
grep -q 'Pattern verification failed' "$WORK/restart.out" && fail "data lost across restart"
qemu-img compare -q -f raw -F raw "$DISK" "$TCP_URL" || fail "export differs from its file"
stop_server

step "an export with 4 KiB minimum blocks: qemu aligns (read-modify-write) by itself"
ALIGNED=$WORK/aligned.img
truncate -s $((4 * 1024 * 1024)) "$ALIGNED"
start_server "$WORK/server3.log" --socket "$SOCK" --min-block 4096 "$ALIGNED"
AURL="nbd+unix:///aligned?socket=$SOCK"
qemu-io -f raw "$AURL" -c 'write -P 0x61 0 64k' -c 'write -P 0x62 1000 3000' \
  -c 'read -P 0x61 0 1000' -c 'read -P 0x62 1000 3000' -c 'read -P 0x61 4000 60k' \
  -c 'discard 64k 64k' -c 'read -P 0 64k 64k' >"$WORK/aligned.out" 2>&1 ||
  fail "aligned export: $(cat "$WORK/aligned.out")"
grep -q 'Pattern verification failed' "$WORK/aligned.out" && fail "aligned export mismatch"
stop_server

echo "PASS: nbd_qemu"
