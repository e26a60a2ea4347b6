#!/usr/bin/env bash
# `vmcrypt host init|serve` end to end over its HTTPS API (curl with the
# admin client certificate) and NBD (qemu-io): push a KEK, create an
# encrypted VM, write and read through NBD, restart the agent (the KEK is
# gone: "key not found" naming provider and key id), push it again, read the
# data back, SIGTERM. Needs curl and qemu-utils (scripts/install-deps.sh).
# Usage: host_cli_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
. "$(dirname "$0")/lib.sh"
for tool in curl qemu-io; do
  command -v $tool > /dev/null || { echo "missing $tool: apt-get install ${tool/qemu-io/qemu-utils}"; exit 1; }
done
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

D=$TMP/host
"$VMCRYPT" host init --dir "$D" --name esx-01 > "$TMP/init.out" 2>&1
check "init writes the folder" '[ -f "$D/host.toml" ] && [ -f "$D/clients/admin.key" ]'
check "init refuses to overwrite" '! "$VMCRYPT" host init --dir "$D" > /dev/null 2>&1'
check "keys are 0600" '[ "$(stat -c %a "$D/host.key")" = 600 ] && [ "$(stat -c %a "$D/ca.key")" = 600 ]'

start() {
  "$VMCRYPT" host serve --config "$D/host.toml" --listen 127.0.0.1:0 2>> "$TMP/serve.log" &
  PID=$!
  PORT=$(wait_for_port "$TMP/serve.log" "${LAST_PORT:-}")
  LAST_PORT=$PORT
}
api() {  # METHOD PATH [JSON]: prints the body; fails on HTTP >= 400
  curl -sS --fail-with-body --cacert "$D/ca.crt" --cert "$D/clients/admin.crt" \
    --key "$D/clients/admin.key" -X "$1" -H 'Content-Type: application/json' \
    --data "${3:-{\}}" "https://127.0.0.1:$PORT$2"
}
start
check "the agent answers" 'api GET /v1/status | grep -q "\"name\":\"esx-01\""'
check "the agent's memory is locked in RAM and it can dump no core" \
  'grep -q "memory locked in RAM (mlockall)" "$TMP/serve.log" && [ "$(awk "/^VmLck:/ { print \$2 }" /proc/$PID/status)" -gt 0 ] &&
   grep -Eq "^Max core file size +0 +0 " /proc/$PID/limits'
check "no client certificate: refused" \
  '! curl -sS --cacert "$D/ca.crt" "https://127.0.0.1:$PORT/v1/status" > /dev/null 2>&1'

KEK=$(head -c 32 /dev/urandom | base64)
check "push a KEK" 'api PUT /v1/keys/kms1/kek-a "{\"key\":\"$KEK\"}" > /dev/null'
check "keys are listed by id only" \
  'api GET /v1/keys | grep -q "\"key_id\":\"kek-a\"" && ! api GET /v1/keys | grep -qF "$KEK"'
check "create an encrypted VM with two disks" \
  'api POST /v1/vms "{\"name\":\"vm1\",\"disks\":[16777216,8388608],\"encrypted\":true,\"provider\":\"kms1\",\"key_id\":\"kek-a\"}" > "$TMP/vm.json"'
check "both disks are encrypted with the KEK" \
  '[ "$(grep -o "\"encrypted\":true" "$TMP/vm.json" | wc -l)" = 3 ]'
api POST /v1/vms/vm1/open > "$TMP/open.json"
URI0=$(grep -o 'nbd+unix:///disk0?socket=[^"]*' "$TMP/open.json")
check "open gives NBD URIs" '[ -n "$URI0" ]'
check "qemu-io writes through NBD" "qemu-io -f raw '$URI0' -c 'write -P 0x3c 0 4M' > /dev/null"
check "qemu-io reads it back" "qemu-io -f raw '$URI0' -c 'read -P 0x3c 0 4M' | grep -q 'read 4194304/4194304'"
check "close" 'api POST /v1/vms/vm1/close > /dev/null'
check "the pattern is not on disk" \
  '! LC_ALL=C grep -rqaF "$(head -c 4096 /dev/zero | tr "\0" "<")" "$D/data"'

# A restarted agent has no keys: opening names the missing one.
kill -TERM "$PID" && wait "$PID"
status=$?
PID=""
check "SIGTERM exits cleanly" '[ $status -eq 0 ] && grep -q "SIGTERM: stopping" "$TMP/serve.log"'
start
api POST /v1/vms/vm1/open > "$TMP/locked.json" 2>&1
check "without its KEK the VM does not open, and the error names the key" \
  'grep -q "key not found: provider kms1, key id kek-a" "$TMP/locked.json"'
check "push the KEK again" 'api PUT /v1/keys/kms1/kek-a "{\"key\":\"$KEK\"}" > /dev/null'
api POST /v1/vms/vm1/open > "$TMP/open.json"
URI0=$(grep -o 'nbd+unix:///disk0?socket=[^"]*' "$TMP/open.json")
check "the data survived the restart" \
  "qemu-io -f raw '$URI0' -c 'read -P 0x3c 0 4M' | grep -q 'read 4194304/4194304'"
check "the log never holds the KEK" '! grep -qF "$KEK" "$TMP/serve.log"'

echo "host_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
