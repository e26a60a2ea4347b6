#!/usr/bin/env bash
# `vmcrypt kms` end to end as an operator runs it: init, serve on loopback,
# clients (sign a CSR, trust a self-signed certificate, remove), SIGTERM, and
# kill -9 during a Create load with every acknowledged key still there after a
# restart. Usage: kms_cli_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
. "$(dirname "$0")/lib.sh"
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  [ -n "${SERVER2_PID:-}" ] && kill -9 "$SERVER2_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

D=$TMP/kms
"$VMCRYPT" kms init --dir "$D" --name kms-test --san kms.example.com > "$TMP/init.out" 2>&1
check "init succeeds" '[ $? -eq 0 ] && [ -f "$D/kms.toml" ] && [ -f "$D/clients/admin.key" ]'
check "keys are 0600" '[ "$(stat -c %a "$D/root.key") $(stat -c %a "$D/ca.key") $(stat -c %a "$D/server.key")" = "600 600 600" ]'
ROOT_B64=$(sed -n 's/^key=//p' "$D/root.key")
check "init never prints the root key" '! grep -qF "$ROOT_B64" "$TMP/init.out"'
check "server certificate has the SANs" \
  'openssl x509 -in "$D/server.crt" -noout -ext subjectAltName | grep -q "DNS:localhost, DNS:kms.example.com, IP Address:127.0.0.1"'
check "server certificate is for both TLS roles" \
  'openssl x509 -in "$D/server.crt" -noout -ext extendedKeyUsage | grep -q "TLS Web Server Authentication, TLS Web Client Authentication"'
check "second init refuses" '! "$VMCRYPT" kms init --dir "$D" > /dev/null 2>&1'

# serve LOG: starts a server on the store of $D, logging to LOG; sets
# STARTED_PID and STARTED_PORT.
serve() {
  "$VMCRYPT" kms serve --config "$D/kms.toml" --listen 127.0.0.1:0 2> "$1" &
  STARTED_PID=$!
  STARTED_PORT=$(wait_for_port "$1") && return 0
  echo "server did not start:"; cat "$1"; return 1
}
start_server() {
  serve "$TMP/serve.log" || return 1
  SERVER_PID=$STARTED_PID
  PORT=$STARTED_PORT
}
call() {  # call CERT KEY ARGS...
  local cert=$1 key=$2; shift 2
  "$VMCRYPT" kmip call --server "127.0.0.1:$PORT" --ca "$D/ca.crt" --cert "$cert" --key "$key" "$@"
}
admin() { call "$D/clients/admin.crt" "$D/clients/admin.key" "$@"; }
uid_of() { sed -n 's/.*<UniqueIdentifier type="TextString" value="\([^"]*\)".*/\1/p' | head -1; }

start_server || exit 1
check "the server's memory (root key, keys in flight) is locked in RAM and it can dump no core" \
  'grep -q "memory locked in RAM (mlockall)" "$TMP/serve.log" && [ "$(awk "/^VmLck:/ { print \$2 }" /proc/$SERVER_PID/status)" -gt 0 ] &&
   grep -Eq "^Max core file size +0 +0 " /proc/$SERVER_PID/limits'
check "writing requests get their own threads (server.write_threads, default 64)" \
  'grep -q "worker threads, 64 write threads)" "$TMP/serve.log"'
sed 's/^write_threads = 0$/write_threads = 2000/' "$D/kms.toml" > "$D/bad-threads.toml"
BAD_OUT=$(timeout 10 "$VMCRYPT" kms serve --config "$D/bad-threads.toml" --listen 127.0.0.1:0 2>&1)
BAD_RC=$?
check "an out-of-range server.write_threads is refused by name" \
  '[ $BAD_RC -ne 0 ] && [ $BAD_RC -ne 124 ] && echo "$BAD_OUT" | grep -q "server.write_threads must be 0 (automatic) - 1024"'
rm -f "$D/bad-threads.toml"
UID1=$(admin create --name first | uid_of)
check "create through the CLI" '[ -n "$UID1" ]'
check "locate finds it" 'admin locate --name first | grep -q "$UID1"'

# A vCenter-style CSR, signed by the KMS CA.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=vcenter.example.com \
  -keyout "$TMP/vc.key" -out "$TMP/vc.csr" 2>/dev/null
"$VMCRYPT" kms client add --config "$D/kms.toml" --name vcenter --csr "$TMP/vc.csr" --out "$TMP/vc.crt" > /dev/null
check "client add --csr signs and registers" 'call "$TMP/vc.crt" "$TMP/vc.key" discover-versions > /dev/null'
# A self-signed certificate, trusted as given (another tenant).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=self-signed -days 2 \
  -addext extendedKeyUsage=clientAuth -keyout "$TMP/ss.key" -out "$TMP/ss.crt" 2>/dev/null
"$VMCRYPT" kms client add --config "$D/kms.toml" --name selfsigned --tenant other --cert "$TMP/ss.crt" > /dev/null
check "client add --cert trusts a self-signed certificate" 'call "$TMP/ss.crt" "$TMP/ss.key" discover-versions > /dev/null'
check "another tenant's object is Item Not Found" \
  '[[ "$(call "$TMP/ss.crt" "$TMP/ss.key" get "$UID1" 2>&1)" == *"Item Not Found"* ]]'
check "client list shows all three" \
  '[ "$("$VMCRYPT" kms client list --config "$D/kms.toml" | tail -n +2 | wc -l)" -eq 3 ]'
"$VMCRYPT" kms client remove --config "$D/kms.toml" --name vcenter > /dev/null
check "a removed client is refused" '! call "$TMP/vc.crt" "$TMP/vc.key" discover-versions > /dev/null 2>&1'
check "the refusal is logged with subject and fingerprint" \
  'grep -q "unknown client certificate (subject \"CN=vcenter.example.com\", sha256 " "$TMP/serve.log"'

# SIGTERM drains and exits 0.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
status=$?
SERVER_PID=""
check "SIGTERM exits cleanly" '[ $status -eq 0 ] && grep -q "SIGTERM: finishing in-flight requests" "$TMP/serve.log"'

# kill -9 during a Create load: every acknowledged Create survives.
start_server || exit 1
: > "$TMP/acked"
( for i in $(seq 1 400); do
    u=$(admin create --name "load-$i" 2>/dev/null | uid_of)
    [ -n "$u" ] && echo "$u" >> "$TMP/acked"
  done ) &
LOAD=$!
sleep 3
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
wait "$LOAD" 2>/dev/null
start_server || exit 1
n=$(wc -l < "$TMP/acked")
missing=0
while read -r u; do
  admin get-attributes "$u" State > /dev/null 2>&1 || missing=$((missing + 1))
done < "$TMP/acked"
check "kill -9 lost no acknowledged Create ($n acknowledged)" '[ "$n" -gt 5 ] && [ "$missing" -eq 0 ]'
check "the store survived the crash" '[ "$(sqlite3 "$D/kms.db" "PRAGMA integrity_check")" = ok ]'
check "the audit log holds no key bytes and names the operations" \
  'grep -q "\"operation\":\"Create\"" "$D/audit.log" && ! grep -qF "$ROOT_B64" "$D/audit.log"'

# Two servers on one store (a second process, as in a two-node cluster
# sharing a database): each caches the rows it reads, and a change made
# through one is what the other answers next.
serve "$TMP/serve2.log"
SERVER2_PID=$STARTED_PID
PORT2=$STARTED_PORT
admin2() {
  "$VMCRYPT" kmip call --server "127.0.0.1:$PORT2" --ca "$D/ca.crt" --cert "$D/clients/admin.crt" \
    --key "$D/clients/admin.key" "$@"
}
SHARED=$(admin create --name shared | uid_of)
admin get "$SHARED" > /dev/null && admin get "$SHARED" > /dev/null  # read twice: cached
check "the second server sees the key the first made" '[ -n "$PORT2" ] && admin2 get "$SHARED" > /dev/null'
admin2 destroy "$SHARED" > /dev/null
check "destroyed through the second server, the key is gone on the first at once" \
  '! admin get "$SHARED" > "$TMP/after.xml" 2>&1 && admin get-attributes "$SHARED" State | grep -q "Destroyed"'
kill -TERM "$SERVER2_PID"; wait "$SERVER2_PID"
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
