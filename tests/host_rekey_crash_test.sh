#!/usr/bin/env bash
# Crash safety of a deep rekey under concurrent NBD writes: the host agent
# re-encrypts an open VM's disk while qemu-io writes into it, and is killed
# (kill -9) at a random point. After a restart (the KEK pushed again) the
# same request resumes the rekey from its checkpoint; then every byte of the
# disk is checked: acknowledged writes are there, untouched data is intact,
# and each 4 KiB sector of the write cut short holds its old or its new data.
# Several rounds. Needs curl, qemu-utils and python3.
# Usage: host_rekey_crash_test.sh VMCRYPT [ROUNDS]
set -uo pipefail
VMCRYPT=$1
. "$(dirname "$0")/lib.sh"
ROUNDS=${2:-3}
for tool in curl qemu-io qemu-img python3; do
  command -v $tool > /dev/null || {
    echo "missing $tool: apt-get install $(case $tool in qemu-*) echo qemu-utils ;; *) echo $tool ;; esac)"
    exit 1
  }
done
TMP=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2> /dev/null
  wait 2> /dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

D=$TMP/host
"$VMCRYPT" host init --dir "$D" > /dev/null || fail "host init"
LAST_PORT=""
start() {
  "$VMCRYPT" host serve --config "$D/host.toml" --listen 127.0.0.1:0 2>> "$TMP/serve.log" &
  PID=$!
  PORT=$(wait_for_port "$TMP/serve.log" "$LAST_PORT")
  LAST_PORT=$PORT
  api PUT /v1/keys/kms1/kek-a "{\"key\":\"$KEK\"}" > /dev/null || fail "push the KEK"
}
api() {
  curl -sS --fail-with-body --cacert "$D/ca.crt" --cert "$D/clients/admin.crt" \
    --key "$D/clients/admin.key" -X "$1" -H 'Content-Type: application/json' \
    --data "${3:-{\}}" "https://127.0.0.1:$PORT$2"
}
open_vm() {
  api POST /v1/vms/vm1/open > "$TMP/open.json" || fail "open: $(cat "$TMP/open.json")"
  URI=$(grep -o 'nbd+unix:///disk0?socket=[^"]*' "$TMP/open.json")
}

SIZE=$((256 * 1024 * 1024))
KEK=$(head -c 32 /dev/urandom | base64)
start
api POST /v1/vms "{\"name\":\"vm1\",\"disks\":[$SIZE],\"encrypted\":true,\"provider\":\"kms1\",\"key_id\":\"kek-a\"}" > /dev/null ||
  fail "create the VM"
open_vm
qemu-io -f raw "$URI" -c "write -P 0x11 0 $SIZE" > /dev/null || fail "fill the disk"
: > "$TMP/acked"  # offset pattern length, one line per acknowledged write
interrupted=0

for round in $(seq "$ROUNDS"); do
  # A stream of writes: 256 KiB at pseudo-random 4 KiB-aligned offsets, each
  # with its own pattern byte.
  cmds=()
  : > "$TMP/plan"
  for i in $(seq 0 199); do
    off=$(((RANDOM * 32768 + RANDOM) % (SIZE / 4096 - 64) * 4096))
    pat=$(((round * 37 + i) % 200 + 0x20))
    cmds+=(-c "write -P $pat $off 256k")
    echo "$off $pat 262144" >> "$TMP/plan"
  done
  qemu-io -f raw "$URI" "${cmds[@]}" > "$TMP/writes.out" 2>&1 &
  WRITER=$!
  api POST /v1/vms/vm1/rekey '{"mode":"deep"}' > "$TMP/rekey.out" 2>&1 &
  REKEY=$!
  sleep "0.$((RANDOM % 5 + 1))"
  kill -9 "$PID"
  wait "$PID" 2> /dev/null
  PID=""
  wait "$WRITER" 2> /dev/null
  wait "$REKEY" 2> /dev/null
  # qemu-io prints one "wrote" line per acknowledged write, in order.
  done_count=$(grep -c '^wrote 262144/262144' "$TMP/writes.out")
  head -n "$done_count" "$TMP/plan" >> "$TMP/acked"
  sed -n "$((done_count + 1))p" "$TMP/plan" > "$TMP/maybe"
  "$VMCRYPT" disk inspect "$D/data/vm1/disk0.img" > "$TMP/inspect.json" 2>&1
  state=$(sed -n 's/.*"operation": "\(.*\)".*/\1/p' "$TMP/inspect.json")
  [ "$state" = "deep rekey" ] && interrupted=$((interrupted + 1))
  echo "round $round: killed after $done_count acknowledged writes, disk operation: $state"

  # Restart: the KEK is pushed again, the rekey resumes and finishes.
  start
  open_vm
  api POST /v1/vms/vm1/rekey '{"mode":"deep"}' > "$TMP/rekey.out" || fail "resume: $(cat "$TMP/rekey.out")"
  rm -f "$TMP/image.raw"
  qemu-img convert -f raw "$URI" -O raw "$TMP/image.raw" || fail "read the disk back"
  python3 - "$TMP/image.raw" "$TMP/acked" "$TMP/maybe" "$SIZE" << 'PY' || fail "round $round: data check"
import sys
image, acked, maybe, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
expected = bytearray(b"\x11" * size)
for line in open(acked):
    off, pat, n = map(int, line.split())
    expected[off:off + n] = bytes([pat]) * n
alt = bytearray(expected)
for line in open(maybe):
    off, pat, n = map(int, line.split())
    alt[off:off + n] = bytes([pat]) * n
data = open(image, "rb").read()
assert len(data) == size, f"size {len(data)}"
bad = 0
for s in range(0, size, 4096):
    got = data[s:s + 4096]
    if got != expected[s:s + 4096] and got != alt[s:s + 4096]:
        bad += 1
        if bad <= 3:
            print(f"sector at {s}: neither the expected nor the in-flight data")
assert bad == 0, f"{bad} bad sectors"
PY
  # Treat the in-flight write as unknown from now on: rewrite its region.
  if [ -s "$TMP/maybe" ]; then
    read -r off pat n < "$TMP/maybe"
    qemu-io -f raw "$URI" -c "write -P $pat $off $n" > /dev/null || fail "settle the in-flight write"
    echo "$off $pat $n" >> "$TMP/acked"
  fi
done

[ "$interrupted" -gt 0 ] || fail "no kill landed during a deep rekey (the disk is too small?)"
api POST /v1/vms/vm1/close > /dev/null || fail "close"
"$VMCRYPT" disk inspect "$D/data/vm1/disk0.img" > "$TMP/inspect.json" || fail "inspect"
grep -q '"operation": "none"' "$TMP/inspect.json" || fail "the rekey did not finish: $(cat "$TMP/inspect.json")"
[ "$(grep -c '"role"' "$TMP/inspect.json")" = 1 ] || fail "more than one key left in the key safe"
grep -qF "$KEK" "$TMP/serve.log" && fail "the KEK reached the log"
echo "host rekey crash: $ROUNDS rounds passed, $interrupted killed during a deep rekey"
