#!/usr/bin/env bash
# Makes the seed corpora from the OASIS KMIP test cases:
#   OUT/ttlv_decode_fuzzer/  one binary TTLV message per file
#   OUT/xml_fuzzer/          the test-case files themselves (<KMIP> documents)
#   OUT/json_fuzzer/         each test case as a JSON array of its messages
# Usage: make_seeds.sh VMCRYPT_BINARY TESTCASE_DIR OUT
set -euo pipefail
VMCRYPT=$1
CASES=$2
OUT=$3
[ -d "$CASES" ] || { echo "no test cases at $CASES" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT/ttlv_decode_fuzzer" "$OUT/xml_fuzzer" "$OUT/json_fuzzer"
n=0
while IFS= read -r -d '' f; do
  base=$(basename "$f" .xml)
  "$VMCRYPT" kmip encode "$f" > "$OUT/$base.hex"
  i=0
  while IFS= read -r hex; do
    i=$((i + 1))
    printf '%s' "$hex" | xxd -r -p > "$OUT/ttlv_decode_fuzzer/$base-$i.bin"
  done < "$OUT/$base.hex"
  n=$((n + i))
  cp "$f" "$OUT/xml_fuzzer/$base.xml"
  "$VMCRYPT" kmip decode --to json "$OUT/$base.hex" > "$OUT/json_fuzzer/$base.json"
  rm "$OUT/$base.hex"
done < <(find "$CASES" -name '*.xml' -print0 | sort -z)
echo "seed corpora: $n messages from $CASES"
