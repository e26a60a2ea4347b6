#!/usr/bin/env bash
# `vmcrypt disk` with its KEK from a KMIP server (our own `vmcrypt kms serve`
# on 127.0.0.1, port 0, mutual TLS): create/write/cat, shallow rekey to a
# second KMIP key, serve over NBD (qemu-io), errors for a wrong key id, a
# 128-bit key and a dead server, and the same disk opened with --kek-file
# holding the bytes the server returns, the key states each use accepts
# (Pre-Active refused, Deactivated only for unwrapping). Also: a disk being served is locked
# against a deep rekey from another process. Usage: disk_kmip_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
. "$(dirname "$0")/lib.sh"
for tool in openssl qemu-io xxd; do
  command -v $tool > /dev/null || { echo "missing $tool (Debian: openssl, qemu-utils, xxd)"; exit 1; }
done
TMP=$(mktemp -d)
SERVER_PID=""
SERVE_PID=""
cleanup() {
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
cd "$TMP" || exit 1
# A private copy: the build tree's binary may be relinked while this runs.
cp "$VMCRYPT" "$TMP/vmcrypt-under-test" && VMCRYPT=$TMP/vmcrypt-under-test
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
MiB=1048576

D=$TMP/kms
"$VMCRYPT" kms init --dir "$D" --name kms-test > /dev/null 2>&1 || { echo "kms init failed"; exit 1; }
"$VMCRYPT" kms serve --config "$D/kms.toml" --listen 127.0.0.1:0 2> "$TMP/kms.log" &
SERVER_PID=$!
PORT=$(wait_for_port "$TMP/kms.log") || { echo "kms serve did not start:"; cat "$TMP/kms.log"; exit 1; }
SERVER=127.0.0.1:$PORT
TLS=(--ca "$D/ca.crt" --cert "$D/clients/admin.crt" --key "$D/clients/admin.key")
KMIP=(--kmip-server "$SERVER" "${TLS[@]}")
call() { "$VMCRYPT" kmip call --server "$SERVER" "${TLS[@]}" "$@"; }
uid_of() { sed -n 's/.*<UniqueIdentifier type="TextString" value="\([^"]*\)".*/\1/p' | head -1; }
V() { "$VMCRYPT" disk "$@"; }

K1=$(call create --name disk-kek-1 | uid_of)
K2=$(call create --name disk-kek-2 | uid_of)
K128=$(call create --name short --length 128 | uid_of)
check "three keys created" '[ -n "$K1" ] && [ -n "$K2" ] && [ -n "$K128" ]'
call activate "$K1" > /dev/null && call activate "$K2" > /dev/null && call activate "$K128" > /dev/null
check "keys activated" '[ $? -eq 0 ]'

# --- create / write / cat with the KMIP KEK -------------------------------------
V create d.img --size 16M "${KMIP[@]}" --key-id "$K1" > out.txt 2>&1
check "create with a KMIP KEK" '[ $? -eq 0 ] && grep -q "key id $K1" out.txt'
V inspect d.img > inspect.json
check "the key safe names the key id and the server as provider" \
  'grep -q "\"key_id\": \"$K1\"" inspect.json && grep -q "\"provider_id\": \"$SERVER\"" inspect.json'
V create p.img --size 1M "${KMIP[@]}" --key-id "$K1" --provider kms-a > /dev/null 2>&1
check "--provider overrides the default provider" 'V inspect p.img | grep -q "\"provider_id\": \"kms-a\""'
head -c 300000 /dev/urandom > pattern.bin
V write d.img "${KMIP[@]}" --key-id "$K1" --offset 4097 < pattern.bin 2>/dev/null
check "write then cat through the KMIP KEK" \
  'V cat d.img "${KMIP[@]}" --key-id "$K1" --offset 4097 --length 300000 | cmp -s - pattern.bin'

# --- encrypt a raw image in place and decrypt it to a file, KMIP KEK ----------------
head -c $((2 * MiB)) /dev/urandom > raw.img && cp raw.img raw.orig
V encrypt raw.img "${KMIP[@]}" --key-id "$K1" > /dev/null 2>&1
check "encrypt in place with a KMIP KEK" '[ $? -eq 0 ] && [ -e raw.img.hdr ] && ! cmp -s raw.img raw.orig'
V decrypt raw.img "${KMIP[@]}" --key-id "$K1" --out plain.img > /dev/null 2>&1
check "decrypt to a file with the KMIP KEK" '[ $? -eq 0 ] && cmp -s plain.img raw.orig'

# --- the same bytes in a key file open the disk too ------------------------------
call --show-secrets get "$K1" > get.xml
sed -n 's/.*<KeyMaterial type="ByteString" value="\([0-9a-fA-F]*\)".*/\1/p' get.xml | xxd -r -p > k1.bin
chmod 600 k1.bin
check "get --show-secrets returns 32 bytes" '[ "$(stat -c %s k1.bin)" -eq 32 ]'
check "the disk opens with --kek-file holding the same bytes" \
  'V cat d.img --kek-file k1.bin --offset 4097 --length 300000 | cmp -s - pattern.bin'
check "get without --show-secrets redacts" 'call get "$K1" | grep -q REDACTED_32_BYTES'

# --- clear errors -----------------------------------------------------------------
err=$(V cat d.img "${KMIP[@]}" --key-id no-such-key 2>&1 >/dev/null)
check "a wrong key id is named with the server ($err)" \
  '[[ "$err" == *"KMIP server $SERVER: "*"Item Not Found"*"for key id no-such-key"* ]]'
err=$(V cat d.img "${KMIP[@]}" --key-id "$K2" 2>&1 >/dev/null)
check "another KMIP key does not open the disk ($err)" '[ -n "$err" ] && ! V cat d.img "${KMIP[@]}" --key-id "$K2" > /dev/null 2>&1'
err=$(V create s.img --size 1M "${KMIP[@]}" --key-id "$K128" 2>&1)
check "a 128-bit key is refused ($err)" '[[ "$err" == *"key $K128 is 16 bytes, a KEK is 32"* ]] && [ ! -e s.img ]'
err=$(V cat d.img --kmip-server "$SERVER" --key-id "$K1" 2>&1 >/dev/null)
check "--kmip-server without TLS files is refused ($err)" '[[ "$err" == *"needs --ca, --cert and --key"* ]]'
err=$(V cat d.img --kek-file k1.bin "${KMIP[@]}" --key-id "$K1" 2>&1 >/dev/null)
check "--kek-file and --kmip-server together are refused ($err)" '[[ "$err" == *"--kek-file FILE or as --kmip-server"* ]]'
check "--help documents the KMIP source" 'V create --help | grep -q -- "--kmip-server" && V serve --help | grep -q -- "--kmip-server"'

# --- shallow rekey to a second KMIP key ---------------------------------------------
V rekey d.img "${KMIP[@]}" --key-id "$K1" --shallow --new-key-id "$K2" > out.txt 2>&1
check "shallow rekey to another KMIP key" '[ $? -eq 0 ] && V inspect d.img | grep -q "\"key_id\": \"$K2\""'
check "the old KMIP key no longer opens it" '! V cat d.img "${KMIP[@]}" --key-id "$K1" > /dev/null 2>&1'
check "the new one does, data intact" \
  'V cat d.img "${KMIP[@]}" --key-id "$K2" --offset 4097 --length 300000 | cmp -s - pattern.bin'

# --- serve over NBD with the KMIP KEK; the served disk is locked --------------------
SOCK=$TMP/nbd.sock
"$VMCRYPT" disk serve d.img "${KMIP[@]}" --key-id "$K2" --socket "$SOCK" 2> serve.log &
SERVE_PID=$!
for _ in $(seq 1 100); do grep -q "serving nbd" serve.log && break; sleep 0.1; done
check "serve with the KMIP KEK" 'grep -q "serving nbd+unix:///d.img" serve.log'
U="nbd+unix:///d.img?socket=$SOCK"
check "qemu-io writes and reads through it" \
  "qemu-io -f raw '$U' -c 'write -P 0x5a 8M 1M' > /dev/null 2>&1 && qemu-io -f raw '$U' -c 'read -P 0x5a 8M 1M' 2>&1 | grep -q 'read 1048576/1048576'"
err=$(V rekey d.img "${KMIP[@]}" --key-id "$K2" --deep 2>&1)
check "a deep rekey of the served disk is refused ($err)" \
  '[[ "$err" == *"disk $TMP/d.img is in use by another process"* || "$err" == *"disk d.img is in use by another process"* ]]'
check "the served disk still reads back after the refusal" \
  "qemu-io -f raw '$U' -c 'read -P 0x5a 8M 1M' 2>&1 | grep -q 'read 1048576/1048576'"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; SERVE_PID=""
check "data intact after serve stopped" \
  'V cat d.img "${KMIP[@]}" --key-id "$K2" --offset 4097 --length 300000 | cmp -s - pattern.bin &&
   [ "$(V cat d.img --kek-file k1.bin --offset $((8 * MiB)) --length $MiB 2>/dev/null | wc -c)" -eq 0 ] &&
   V cat d.img "${KMIP[@]}" --key-id "$K2" --offset $((8 * MiB)) --length $MiB | tr -d "\132" | wc -c | grep -qx 0'
V rekey d.img "${KMIP[@]}" --key-id "$K2" --deep > /dev/null 2>&1
check "a deep rekey runs once the disk is free" \
  '[ $? -eq 0 ] && V cat d.img "${KMIP[@]}" --key-id "$K2" --offset 4097 --length 300000 | cmp -s - pattern.bin'

# --- the key's state: wrapping needs Active, unwrapping also Deactivated ----------------
K3=$(call create --name never-activated | uid_of)
err=$(V create pre.img --size 1M "${KMIP[@]}" --key-id "$K3" 2>&1)
check "a Pre-Active key is refused for a new disk ($err)" \
  '[[ "$err" == *"KMIP server $SERVER: key $K3 is Pre-Active: activate it on the KMIP server first"* ]] && [ ! -e pre.img ]'
call revoke "$K2" --reason CessationOfOperation > /dev/null
check "K2 revoked (Deactivated)" 'call get-attributes "$K2" State | grep -q "Deactivated"'
check "a Deactivated KEK still unwraps: the disk reads" \
  'V cat d.img "${KMIP[@]}" --key-id "$K2" --offset 4097 --length 300000 | cmp -s - pattern.bin'
err=$(V rekey d.img "${KMIP[@]}" --key-id "$K2" --deep 2>&1)
check "a deep rekey (a new DEK wrapped by K2) is refused ($err)" \
  '[[ "$err" == *"key $K2 is Deactivated: it may still unwrap existing DEKs, but new ones need an Active key"* ]]'
err=$(V rekey d.img "${KMIP[@]}" --key-id "$K1" --shallow --new-key-id "$K2" 2>&1)
check "a Deactivated key is refused as the new KEK ($err)" '[[ "$err" == *"key $K2 is Deactivated"* ]]'
V rekey d.img "${KMIP[@]}" --key-id "$K2" --shallow --new-key-id "$K1" > /dev/null 2>&1
check "a shallow rekey moves the disk off the Deactivated key to an Active one" \
  '[ $? -eq 0 ] && V cat d.img "${KMIP[@]}" --key-id "$K1" --offset 4097 --length 300000 | cmp -s - pattern.bin'

# --- a dead server -------------------------------------------------------------------
kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; SERVER_PID=""
err=$(V cat d.img "${KMIP[@]}" --key-id "$K1" 2>&1 >/dev/null)
check "a dead server gives a clear error ($err)" '[[ "$err" == *"KMIP server $SERVER: "* ]]'
check "no file holds a KEK or the KMIP key bytes in clear (besides the test's k1.bin)" \
  '! grep -rqF "$(xxd -p -c 64 k1.bin)" <(find . -type f ! -name k1.bin ! -name get.xml ! -name "vmcrypt-under-test" -exec xxd -p -c 100000000 {} \;)'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
