#!/usr/bin/env bash
# `vmcrypt disk` end to end: create/write/cat, in-place and to-file encryption
# and decryption, shallow and deep rekey, sparseness, tampering with either
# header copy, the key safe and a wrapped DEK, wrong and badly protected KEKs,
# truncation; the format checked independently with openssl (the test unwraps
# the DEK itself with `openssl enc -id-aes256-wrap-pad` and decrypts a sector
# with `openssl enc -aes-256-xts`), and a scan of every file written for the
# DEK and KEK bytes. Usage: disk_cli_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
for tool in openssl /usr/bin/python3 xxd; do
  command -v $tool > /dev/null || { echo "missing $tool (Debian: openssl, python3, xxd)"; exit 1; }
done
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || { echo "missing python3 cryptography (Debian: python3-cryptography)"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
# A private copy: the build tree's binary may be relinked while this runs.
cp "$VMCRYPT" "$TMP/vmcrypt-under-test" && VMCRYPT=$TMP/vmcrypt-under-test
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }
V() { "$VMCRYPT" disk "$@"; }
MiB=1048576

head -c 32 /dev/urandom > kek && chmod 600 kek
head -c 32 /dev/urandom > kek2 && chmod 600 kek2
head -c 32 /dev/urandom > wrong && chmod 600 wrong

# --- create, write, cat, sparse ---------------------------------------------
V create big.img --size 100G --kek-file kek --key-id vm-1 --provider kms-a > out.txt 2>&1
check "create 100G" '[ $? -eq 0 ] && [ $(stat -c %s big.img) -eq $((100 * 1024 * MiB + 2 * MiB)) ]'
check "100G disk costs no space (st_blocks)" '[ $(( $(stat -c %b big.img) * $(stat -c %B big.img) )) -lt $MiB ]'
check "du agrees" '[ $(du -k big.img | cut -f1) -lt 1024 ]'
V inspect big.img > inspect.json
check "inspect is JSON with ids and no wrapped key bytes" \
  '/usr/bin/python3 -c "import json,sys; j=json.load(open(\"inspect.json\")); assert j[\"size\"]==100<<30 and j[\"key_safe\"][0][\"key_id\"]==\"vm-1\" and j[\"key_safe\"][0][\"provider_id\"]==\"kms-a\" and j[\"cipher\"]==\"XTS-AES-256\"; assert all(c[\"valid\"] for c in j[\"header_copies\"])"'
check "create refuses an existing file" '! V create big.img --size 1M --kek-file kek --key-id x 2>/dev/null'
check "create refuses a bad size" '! V create bad.img --size 12X --kek-file kek --key-id x 2>/dev/null && [ ! -e bad.img ]'

V create d.img --size 16M --kek-file kek --key-id vm-1 --provider kms-a > /dev/null
head -c 40000 /dev/urandom > pattern.bin
V write d.img --kek-file kek --offset 12345 < pattern.bin 2>/dev/null
check "write then cat returns the bytes" 'V cat d.img --kek-file kek --offset 12345 --length 40000 | cmp -s - pattern.bin'
check "unwritten bytes read as zeros" '[ "$(V cat d.img --kek-file kek --offset $((8 * MiB)) --length 4096 | tr -d "\0" | wc -c)" = 0 ]'
check "cat of the whole disk is 16 MiB" '[ $(V cat d.img --kek-file kek | wc -c) -eq $((16 * MiB)) ]'
check "the plaintext is not in the file" '! grep -qF "$(head -c 24 pattern.bin | xxd -p)" <(xxd -p -c 100000000 d.img)'

# --- the format, checked with openssl -----------------------------------------
# Key safe entry at offset 136: role, wrap, provider (u16 len), key id (u16
# len), wrapped DEK (u16 len) -- docs/disk-format.md.
wrapped_of() {
  /usr/bin/python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read(4096)
off = 136
plen = int.from_bytes(d[off + 2:off + 4], 'big'); off += 4 + plen
klen = int.from_bytes(d[off:off + 2], 'big'); off += 2 + klen
wlen = int.from_bytes(d[off:off + 2], 'big'); off += 2
sys.stdout.buffer.write(d[off:off + wlen])
PY
}
unwrap() {  # FILE KEKFILE -> DEK hex on stdout
  wrapped_of "$1" > w.bin
  openssl enc -d -id-aes256-wrap-pad -K "$(xxd -p -c 64 "$2")" -iv A65959A6 -in w.bin -out dek.bin 2>/dev/null &&
    xxd -p -c 64 dek.bin && rm -f dek.bin
}
DEK=$(unwrap d.img kek)
check "openssl unwraps the DEK (RFC 5649) with the KEK" '[ ${#DEK} -eq 128 ]'
head -c 4096 /dev/urandom > sector.bin
V write d.img --kek-file kek --offset $((100 * 4096)) < sector.bin 2>/dev/null
dd if=d.img of=ct.bin bs=4096 skip=$(( (2 * MiB) / 4096 + 100 )) count=1 status=none
# openssl enc has no XTS; python3-cryptography (OpenSSL underneath) does.
/usr/bin/python3 - "$DEK" <<'PY' > /dev/null
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
tweak = (100).to_bytes(16, "little")
d = Cipher(algorithms.AES(bytes.fromhex(sys.argv[1])), modes.XTS(tweak)).decryptor()
open("pt.bin", "wb").write(d.update(open("ct.bin", "rb").read()) + d.finalize())
PY
check "sector 100 decrypts independently (XTS-AES-256, tweak 100 little-endian)" 'cmp -s pt.bin sector.bin'

# --- wrong KEK, mode, truncation ----------------------------------------------
V cat d.img --kek-file wrong --length 1 > /dev/null 2> err.txt
check "wrong KEK fails naming provider and key id" 'grep -q "provider \"kms-a\", key id \"vm-1\"" err.txt'
chmod 644 kek2
check "a group-readable KEK file is refused" '! V cat d.img --kek-file kek2 --length 1 > /dev/null 2>&1'
chmod 600 kek2
head -c 31 /dev/urandom > short && chmod 600 short
check "a 31-byte KEK file is refused" '! V cat d.img --kek-file short --length 1 > /dev/null 2>&1'
cp d.img trunc.img && truncate -s $((10 * MiB)) trunc.img
V cat trunc.img --kek-file kek --length 1 > /dev/null 2> err.txt
check "a truncated disk is a clear error" 'grep -q "truncated" err.txt'
head -c 1000 d.img > tiny.img
V cat tiny.img --kek-file kek --length 1 > /dev/null 2> err.txt
check "a header cut short is a clear error" 'grep -q "no valid header" err.txt'

# --- tampering ------------------------------------------------------------------
flip() { /usr/bin/python3 -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1); f.seek(int(sys.argv[2]))
f.write(bytes([b[0] ^ 1]))" "$1" "$2"; }
# 0 magic, 44 size, 141 provider id, 150 key id, 180 wrapped DEK, 240 MAC.
for copy in 0 4096; do
  for off in 0 44 141 150 180 240; do
    cp d.img t.img
    flip t.img $((copy + off))
    check "flip at copy+$((off)) of copy $copy: the intact copy is used" \
      'V cat t.img --kek-file kek --offset 12345 --length 40000 | cmp -s - pattern.bin'
    # A read-write open repairs the damaged copy.
    printf x | V write t.img --kek-file kek --offset 0 2>/dev/null
    check "copy $copy repaired after flip at $off" 'cmp -s <(head -c 8192 t.img) <(head -c 8192 d.img)'
  done
done
cp d.img t.img && flip t.img 180 && flip t.img $((4096 + 180))
V cat t.img --kek-file kek --length 1 > /dev/null 2> err.txt
check "the same flip in both copies is a clear error" 'grep -q "no valid header" err.txt'
# A careful attacker: change the key id in both copies and fix the checksums.
/usr/bin/python3 - d.img t2.img <<'PY'
import hashlib, sys
d = bytearray(open(sys.argv[1], "rb").read())
for base in (0, 4096):
    c = d[base:base + 4096]
    i = c.find(b"vm-1"); c[i + 3] = ord("2")
    n = (c[10] << 8) | c[11]
    c[n - 32:n] = hashlib.sha256(bytes(c[:n - 32])).digest()
    d[base:base + 4096] = c
open(sys.argv[2], "wb").write(d)
PY
V cat t2.img --kek-file kek --length 1 > /dev/null 2> err.txt
check "a re-checksummed edit fails the header MAC" 'grep -q "header authentication failed" err.txt'
check "inspect still reads the edited header (no KEK, no MAC)" 'V inspect t2.img | grep -q "vm-2"'

# --- encrypt / decrypt round trips ---------------------------------------------
head -c $((6 * MiB)) /dev/urandom > raw.img
dd if=/dev/zero of=raw.img bs=$MiB seek=2 count=1 conv=notrunc status=none
cp raw.img orig.img
V encrypt raw.img --kek-file kek --key-id vm-2 > /dev/null
check "in-place encryption leaves a detached header" '[ -f raw.img.hdr ] && [ $(stat -c %s raw.img) -eq $((6 * MiB)) ]'
check "the raw image is now ciphertext" '! cmp -s raw.img orig.img'
check "cat of the in-place encrypted image is the original" 'V cat raw.img --kek-file kek | cmp -s - orig.img'
check "inspect says detached" 'V inspect raw.img | grep -q "\"variant\": \"detached\""'
check "encrypting twice is refused" '! V encrypt raw.img --kek-file kek --key-id vm-2 > /dev/null 2>&1'
V encrypt orig.img --kek-file kek --key-id vm-3 --out copy.img > /dev/null
check "encrypt --out leaves the source and makes an attached disk" \
  'V cat copy.img --kek-file kek | cmp -s - orig.img && V inspect copy.img | grep -q "\"variant\": \"attached\""'
V decrypt copy.img --kek-file kek --out plain.img > /dev/null
check "decrypt --out" 'cmp -s plain.img orig.img'
check "decrypt --out refuses an existing file" '! V decrypt copy.img --kek-file kek --out plain.img > /dev/null 2>&1'

# --- rekey ------------------------------------------------------------------------
DEK_BEFORE=$(unwrap raw.img.hdr kek)
V rekey raw.img --kek-file kek --deep > /dev/null
DEK_AFTER=$(unwrap raw.img.hdr kek)
check "deep rekey: new DEK, same data" '[ -n "$DEK_AFTER" ] && [ "$DEK_BEFORE" != "$DEK_AFTER" ] && V cat raw.img --kek-file kek | cmp -s - orig.img'
cp raw.img before_shallow.img
V rekey raw.img --kek-file kek --shallow --new-kek-file kek2 --new-key-id vm-2b > /dev/null
check "shallow rekey: data untouched, new key id, same DEK" \
  'cmp -s raw.img before_shallow.img && V inspect raw.img | grep -q "vm-2b" && [ "$(unwrap raw.img.hdr kek2)" = "$DEK_AFTER" ]'
check "shallow rekey: the old KEK no longer opens it" '! V cat raw.img --kek-file kek --length 1 > /dev/null 2>&1'
check "rekey needs exactly one mode" '! V rekey raw.img --kek-file kek2 > /dev/null 2>&1'
V decrypt raw.img --kek-file kek2 > /dev/null
check "in-place decryption restores the raw image and removes the header" 'cmp -s raw.img orig.img && [ ! -e raw.img.hdr ]'
V decrypt copy.img --kek-file kek > /dev/null
check "in-place decryption of an attached disk" 'cmp -s copy.img orig.img'

# --- no key bytes in any file written ----------------------------------------------
# control.img holds the DEK on purpose: the scan must find it there and only there.
echo "$DEK" | xxd -r -p > control.img
/usr/bin/python3 - "$DEK" "$DEK_BEFORE" "$DEK_AFTER" "$(xxd -p -c 64 kek)" "$(xxd -p -c 64 kek2)" \
  d.img big.img t.img t2.img <<'PY' > scan.txt
import sys, glob
keys = [bytes.fromhex(k) for k in sys.argv[1:6] if k]
needles = [k[i:i + 16] for k in keys for i in range(0, len(k) - 15, 8)]
found = []
import os
def segments(path):
    # Only the allocated parts: big.img is a 100 GiB sparse file.
    fd = os.open(path, os.O_RDONLY)
    size, pos = os.fstat(fd).st_size, 0
    try:
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            os.lseek(fd, start, os.SEEK_SET)
            yield os.read(fd, end - start)
            pos = end
    finally:
        os.close(fd)
for path in glob.glob("*.img") + glob.glob("*.hdr") + glob.glob("*.partial"):
    for data in segments(path):
        if any(n in data for n in needles):
            found.append(path)
print("files:", len(glob.glob("*.img")), "found:", found)
PY
check "no DEK or KEK bytes in any disk file (the control file is found)" \
  'grep -q "found: \[.control.img.\]$" scan.txt'

echo "disk_cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
