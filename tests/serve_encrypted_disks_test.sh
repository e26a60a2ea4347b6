#!/usr/bin/env bash
# `vmcrypt disk serve` with QEMU's own NBD clients (Debian qemu-utils):
# qemu-io writes patterns into two encrypted disks over a unix socket and
# over TCP on 127.0.0.1, reads them back, qemu-img copies an image in and
# compares it; no pattern is found in the files; everything reads back after
# a restart; a wrong KEK is refused with a clear error.
# Usage: serve_encrypted_disks_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
command -v qemu-io > /dev/null || { echo "missing qemu-io: apt-get install qemu-utils"; exit 1; }
TMP=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi; }

(umask 077 && head -c 32 /dev/urandom > "$TMP/kek" && head -c 32 /dev/urandom > "$TMP/wrong")
"$VMCRYPT" disk create "$TMP/sys.vmd" --size 64M --kek-file "$TMP/kek" --key-id kek-1 > /dev/null
"$VMCRYPT" disk create "$TMP/data.vmd" --size 32M --kek-file "$TMP/kek" --key-id kek-1 > /dev/null
SOCK=$TMP/nbd.sock

serve() {  # extra args: --socket PATH | --listen ADDR
  : > "$TMP/serve.log"
  "$VMCRYPT" disk serve "$TMP/sys.vmd" "$TMP/data.vmd" --kek-file "$TMP/kek" "$@" 2> "$TMP/serve.log" &
  PID=$!
  for _ in $(seq 100); do
    [ "$(grep -c 'serving nbd' "$TMP/serve.log")" = 2 ] && return 0
    sleep 0.1
  done
  cat "$TMP/serve.log"
  return 1
}
stop() {
  kill -TERM "$PID" && wait "$PID"
  local rc=$?
  PID=""
  return $rc
}
io() { qemu-io -f raw "$1" -c "$2" 2>&1; }

check "serve on a unix socket" 'serve --socket "$SOCK"'
U1="nbd+unix:///sys.vmd?socket=$SOCK"
U2="nbd+unix:///data.vmd?socket=$SOCK"
check "exports are named after the files" 'grep -q "serving nbd+unix:///sys.vmd?socket=" "$TMP/serve.log"'
# The DEKs' key schedules live in this process: locked in RAM, no core dump.
check "the server's memory is locked in RAM" \
  'grep -q "memory locked in RAM (mlockall)" "$TMP/serve.log" && [ "$(awk "/^VmLck:/ { print \$2 }" /proc/$PID/status)" -gt 0 ]'
check "and it can dump no core" 'grep -Eq "^Max core file size +0 +0 " /proc/$PID/limits'
check "write a pattern (sys)" "io '$U1' 'write -P 0xa5 1M 3M' | grep -q 'wrote 3145728/3145728'"
check "write a pattern (data)" "io '$U2' 'write -P 0x5a 0 512k' | grep -q 'wrote 524288/524288'"
check "unaligned write" "io '$U1' 'write -P 0x33 12345 1000' | grep -q 'wrote 1000/1000'"
check "read it back" "io '$U1' 'read -P 0xa5 1M 3M' | grep -q 'read 3145728/3145728'"
check "unwritten sectors read as zeros" "io '$U1' 'read -P 0 8M 1M' | grep -q 'read 1048576/1048576'"
head -c 8M /dev/urandom > "$TMP/image.raw"
check "qemu-img copies an image in" "qemu-img convert -n -f raw '$TMP/image.raw' -O raw '$U2'"
check "qemu-img compares it equal" \
  "qemu-img compare -f raw -F raw '$TMP/image.raw' '$U2' 2>&1 | grep -q 'Images are identical'"
check "discard reads back zeros" \
  "io '$U1' 'discard 2M 1M' > /dev/null && io '$U1' 'read -P 0 2M 1M' | grep -q 'read 1048576/1048576'"
check "SIGTERM stops it cleanly" 'stop'

check "the patterns are not in the files" \
  '! LC_ALL=C grep -qaF "$(head -c 4096 /dev/zero | tr "\0" "\245")" "$TMP/sys.vmd" &&
   ! LC_ALL=C grep -qaF "$(head -c 4096 /dev/zero | tr "\0" "Z")" "$TMP/data.vmd"'
check "nor are the image's bytes" \
  '! LC_ALL=C grep -qaF "$(head -c 64 "$TMP/image.raw" | tr -d "\0\n")" "$TMP/data.vmd"'
check "nor the KEK" '! LC_ALL=C grep -qaF "$(tr -d "\0\n" < "$TMP/kek" | head -c 16)" "$TMP/sys.vmd" "$TMP/data.vmd" "$TMP/serve.log"'

check "serve again, on TCP 127.0.0.1:0" 'serve --listen 127.0.0.1:0'
PORT=$(sed -n 's|.*serving nbd://127.0.0.1:\([0-9]*\)/sys.vmd.*|\1|p' "$TMP/serve.log")
check "the data survived the restart" \
  "io 'nbd://127.0.0.1:$PORT/sys.vmd' 'read -P 0xa5 3M 1M' | grep -q 'read 1048576/1048576' &&
   io 'nbd://127.0.0.1:$PORT/sys.vmd' 'read -P 0x33 12345 1000' | grep -q 'read 1000/1000'"
check "the copied image too" \
  "qemu-img compare -f raw -F raw '$TMP/image.raw' 'nbd://127.0.0.1:$PORT/data.vmd' 2>&1 | grep -q 'Images are identical'"
stop > /dev/null

check "a wrong KEK is refused, naming the disk" \
  '! "$VMCRYPT" disk serve "$TMP/sys.vmd" --kek-file "$TMP/wrong" --socket "$SOCK" 2> "$TMP/err" &&
   grep -q "sys.vmd" "$TMP/err"'
check "no --socket/--listen is refused" \
  '! "$VMCRYPT" disk serve "$TMP/sys.vmd" --kek-file "$TMP/kek" 2> /dev/null'

echo "disk serve: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
