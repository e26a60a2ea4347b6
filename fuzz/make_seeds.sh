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

# Disk header copies (disk_header_fuzzer): an attached disk, the same after a
# shallow rekey to a long key id, and a detached header of a raw image.
mkdir -p "$OUT/disk_header_fuzzer"
DISKS=$(mktemp -d)
trap 'rm -rf "$DISKS"' EXIT
(umask 077; printf '0123456789abcdef0123456789abcdef' > "$DISKS/kek"; printf 'fedcba9876543210fedcba9876543210' > "$DISKS/kek2")
"$VMCRYPT" disk create "$DISKS/a.vmd" --size 64M --kek-file "$DISKS/kek" --key-id seed-key \
  --provider seed-kms > /dev/null
dd if="$DISKS/a.vmd" of="$OUT/disk_header_fuzzer/attached.bin" bs=4096 count=1 status=none
"$VMCRYPT" disk rekey "$DISKS/a.vmd" --kek-file "$DISKS/kek" --shallow --new-kek-file "$DISKS/kek2" \
  --new-key-id "$(printf 'k%.0s' $(seq 1 300))" --new-provider "kmip.example.com:5696" > /dev/null
dd if="$DISKS/a.vmd" of="$OUT/disk_header_fuzzer/rekeyed.bin" bs=4096 skip=1 count=1 status=none
head -c 8M /dev/zero > "$DISKS/raw.img"
"$VMCRYPT" disk encrypt "$DISKS/raw.img" --kek-file "$DISKS/kek" --key-id seed-key > /dev/null
dd if="$DISKS/raw.img.hdr" of="$OUT/disk_header_fuzzer/detached.bin" bs=4096 count=1 status=none
echo "seed corpora: $(ls "$OUT/disk_header_fuzzer" | wc -l) disk header copies"

# NBD client sessions (nbd_server_fuzzer).
mkdir -p "$OUT/nbd_server_fuzzer"
/usr/bin/python3 "$(dirname "$0")/nbd_seeds.py" "$OUT/nbd_server_fuzzer"
echo "seed corpora: $(ls "$OUT/nbd_server_fuzzer" | wc -l) NBD sessions"
