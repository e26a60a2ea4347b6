#!/usr/bin/env bash
# Crash safety of `vmcrypt disk`: kill -9 at random points during in-place
# encryption, deep rekey and in-place decryption; after every kill the same
# command is run again until it completes, and every byte is checked against
# the expected plaintext (after each kill of a deep rekey too, when the disk
# is readable). Usage: disk_crash_test.sh VMCRYPT [ITERATIONS]
set -uo pipefail
VMCRYPT=$1
ROUNDS=${2:-2}
command -v timeout > /dev/null || { echo "missing timeout (Debian: coreutils)"; exit 1; }
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

# Runs "$@" under kill -9 after a random delay (5 to 150 ms, so kills land in
# process start-up, header writes and chunk conversions alike) until it exits
# 0. After each kill, runs the optional VERIFY command. Sets KILLS.
KILLS=0
run_until_done() {
  local verify=$1
  shift
  KILLS=0
  for attempt in $(seq 1 400); do
    # The first kill lands early (5-60 ms: a whole run takes about 200 ms),
    # so that every run is killed at least once even on a fast disk.
    local ms=$((attempt == 1 ? RANDOM % 56 + 5 : RANDOM % 146 + 5))
    # (the subshell keeps bash's "Killed" notices out of the log)
    (timeout -s KILL "0.$(printf %03d $ms)" "$@" > /dev/null 2> last_err.txt; exit $?) 2> /dev/null
    local rc=$?
    if [ $rc -eq 0 ]; then return 0; fi
    # Killed after the work was complete but before exiting: the rerun
    # reports that there is nothing left to do.
    if [ $KILLS -gt 0 ] && grep -q "$DONE_MESSAGE" last_err.txt; then return 0; fi
    if [ $rc -ne 137 ]; then
      echo "command failed (rc $rc) after $KILLS kills: $(cat last_err.txt)"
      return 1
    fi
    KILLS=$((KILLS + 1))
    if [ -n "$verify" ] && ! eval "$verify"; then
      echo "verification failed after kill $KILLS"
      return 1
    fi
  done
  echo "did not finish in 400 attempts"
  return 1
}

for round in $(seq 1 "$ROUNDS"); do
  # 24 MiB of random data with a hole and a zero chunk in the middle.
  head -c $((24 * MiB)) /dev/urandom > raw.img
  dd if=/dev/zero of=raw.img bs=$MiB seek=9 count=2 conv=notrunc status=none
  fallocate -p -o $((15 * MiB)) -l $((3 * MiB)) raw.img 2>/dev/null || true
  cp raw.img expected.img

  DONE_MESSAGE="is already encrypted"
  run_until_done "" "$VMCRYPT" disk encrypt raw.img --kek-file kek --key-id vm-$round
  rc=$?
  echo "round $round: in-place encryption killed $KILLS times"
  check "round $round: in-place encryption completes across $KILLS kills" '[ $rc -eq 0 ]'
  check "round $round: ... and was killed at least once" '[ $KILLS -gt 0 ]'
  check "round $round: every byte decrypts to the original" 'V cat raw.img --kek-file kek | cmp -s - expected.img'
  check "round $round: the image is ciphertext" '! cmp -s raw.img expected.img'
  check "round $round: the journal was dropped (no plaintext left in the header file)" \
    '! grep -qF "$(dd if=expected.img bs=4096 skip=100 count=1 status=none | head -c 32 | xxd -p -c 64)" <(xxd -p -c 100000000 raw.img.hdr)'

  # Deep rekey: the disk must read back exactly after every kill.
  DONE_MESSAGE="no such message"
  run_until_done 'V cat raw.img --kek-file kek | cmp -s - expected.img' \
    "$VMCRYPT" disk rekey raw.img --kek-file kek --deep
  rc=$?
  echo "round $round: deep rekey killed $KILLS times"
  check "round $round: deep rekey completes across $KILLS kills, every byte intact after each" '[ $rc -eq 0 ]'
  check "round $round: ... killed at least once" '[ $KILLS -gt 0 ]'
  check "round $round: deep rekey finished (one key, no operation)" \
    'V inspect raw.img | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); assert j[\"operation\"]==\"none\" and len(j[\"key_safe\"])==1"'
  check "round $round: data intact after deep rekey" 'V cat raw.img --kek-file kek | cmp -s - expected.img'

  DONE_MESSAGE="is not a vmcrypt disk"
  # Shallow rekey is one atomic header update: whenever it is killed, exactly
  # one of the two KEKs opens the disk, and the data is intact.
  head -c 32 /dev/urandom > kek2 && chmod 600 kek2
  atomic_ok=1
  for i in $(seq 1 15); do
    ms=$((RANDOM % 30 + 1))
    (timeout -s KILL "0.$(printf %03d $ms)" "$VMCRYPT" disk rekey raw.img --kek-file kek --shallow \
      --new-kek-file kek2 --new-key-id vm-$round-$i > /dev/null 2>&1; exit $?) 2> /dev/null
    old_opens=0 new_opens=0
    V cat raw.img --kek-file kek --length 4096 > /dev/null 2>&1 && old_opens=1
    V cat raw.img --kek-file kek2 --length 4096 > /dev/null 2>&1 && new_opens=1
    if [ $((old_opens + new_opens)) -ne 1 ]; then atomic_ok=0; break; fi
    if [ $new_opens -eq 1 ]; then mv kek2 kek.tmp && mv kek kek2 && mv kek.tmp kek; fi
  done
  check "round $round: killed shallow rekeys leave exactly one KEK working" '[ $atomic_ok -eq 1 ]'
  check "round $round: data intact after killed shallow rekeys" 'V cat raw.img --kek-file kek | cmp -s - expected.img'

  run_until_done "" "$VMCRYPT" disk decrypt raw.img --kek-file kek
  rc=$?
  echo "round $round: in-place decryption killed $KILLS times"
  check "round $round: in-place decryption completes across $KILLS kills" '[ $rc -eq 0 ]'
  check "round $round: the raw image is restored byte for byte" 'cmp -s raw.img expected.img && [ ! -e raw.img.hdr ]'
done

echo "disk_crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
