#!/usr/bin/env bash
# End-to-end checks of `vmcrypt kmip decode` and `vmcrypt kmip encode`.
# Usage: cli_kmip_tools_test.sh VMCRYPT SHARED_DIR
set -uo pipefail
VMCRYPT=$1
SHARED=$2
CASE="$SHARED/reference/kmip/testcases/v1.4/XML/mandatory/SKLC-M-1-14.xml"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
check() {  # check NAME COMMAND...: the command must succeed
  if (eval "$2") >"$TMP/out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $1"
    sed 's/^/    /' "$TMP/out" | head -20
  fi
}

[ -f "$CASE" ] || { echo "missing $CASE (the shared/ folder)"; exit 1; }

# encode: one hex line per message of an OASIS test-case file, in order.
"$VMCRYPT" kmip encode "$CASE" > "$TMP/case.hex"
msgs=$(grep -c '<RequestMessage>\|<ResponseMessage>' "$CASE")
check "encode gives one line per message" '[ "$(wc -l < "$TMP/case.hex")" -eq "$msgs" ]'
check "lines alternate request/response" \
  '[ "$(cut -c1-6 "$TMP/case.hex" | uniq | wc -l)" -eq "$msgs" ] && head -1 "$TMP/case.hex" | grep -q "^420078"'

# decode: several lines become one <KMIP> document (JSON array), same order.
"$VMCRYPT" kmip decode "$TMP/case.hex" > "$TMP/case.xml"
check "decode wraps messages in <KMIP>" 'head -1 "$TMP/case.xml" | grep -qx "<KMIP>"'
check "decode keeps every message in order" \
  '[ "$(grep -c "^<RequestMessage>\|^<ResponseMessage>" "$TMP/case.xml")" -eq "$msgs" ] && 
   [ "$(grep "^<RequestMessage>\|^<ResponseMessage>" "$TMP/case.xml" | head -2 | tr -d "\n")" = "<RequestMessage><ResponseMessage>" ]'
check "decode restores names, masks and placeholders" \
  'grep -q "<Operation type=\"Enumeration\" value=\"Create\"/>" "$TMP/case.xml" &&
   grep -q "value=\"Encrypt Decrypt\"" "$TMP/case.xml" &&
   grep -q "value=\"\$UNIQUE_IDENTIFIER_0\"" "$TMP/case.xml"'
"$VMCRYPT" kmip decode --to json "$TMP/case.hex" > "$TMP/case.json"
check "JSON output is an array of every message" \
  '[ "$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))))" "$TMP/case.json")" -eq "$msgs" ]'
check "XML round trip is byte-exact" '"$VMCRYPT" kmip encode "$TMP/case.xml" | cmp - "$TMP/case.hex"'
check "JSON round trip is byte-exact" '"$VMCRYPT" kmip encode --from json "$TMP/case.json" | cmp - "$TMP/case.hex"'
check "binary in and out" \
  '"$VMCRYPT" kmip encode --to bin "$CASE" > "$TMP/case.bin" &&
   "$VMCRYPT" kmip decode --from bin "$TMP/case.bin" | cmp - "$TMP/case.xml"'
check "stdin works" 'head -1 "$TMP/case.hex" | "$VMCRYPT" kmip decode - | head -1 | grep -qx "<RequestMessage>"'

# Malformed input: one line on stderr naming the line / offset, exit non-zero.
expect_error() {  # expect_error NAME EXPECTED_TEXT COMMAND
  if (eval "$3") >"$TMP/o" 2>"$TMP/e"; then
    failed=$((failed + 1)); echo "FAIL: $1: exited 0"; return
  fi
  if [ "$(wc -l < "$TMP/e")" -ne 1 ] || ! grep -qF -- "$2" "$TMP/e"; then
    failed=$((failed + 1)); echo "FAIL: $1: got: $(cat "$TMP/e")"; return
  fi
  passed=$((passed + 1))
}
head -1 "$TMP/case.hex" | cut -c1-100 > "$TMP/trunc.hex"
expect_error "truncated hex" "line 1: item length 360 exceeds the 42 byte(s) left at offset 4" \
  '"$VMCRYPT" kmip decode "$TMP/trunc.hex"'
{ head -1 "$TMP/case.hex"; echo "42007801zz"; } > "$TMP/badhex.hex"
expect_error "bad hex digit" "line 2: invalid hex digit at offset 8" \
  '"$VMCRYPT" kmip decode "$TMP/badhex.hex"'
printf '<RequestMessage>\n  <Nope type="Integer" value="1"/>\n</RequestMessage>\n' > "$TMP/bad.xml"
expect_error "unknown tag" "line 2: unknown tag name 'Nope'" '"$VMCRYPT" kmip encode "$TMP/bad.xml"'
printf '{"tag": "RequestMessage", "value": [\n' > "$TMP/bad.json"
expect_error "broken JSON" "line 2: JSON error" '"$VMCRYPT" kmip encode "$TMP/bad.json"'
expect_error "missing file" "cannot open $TMP/none" '"$VMCRYPT" kmip decode "$TMP/none"'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
