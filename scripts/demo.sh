#!/usr/bin/env bash
# `make demo`: the main job on embedded defaults, step by step.
#
# `vmcrypt dev` starts every component in one process on 127.0.0.1: the
# built-in KMIP key server (the standard key provider "kms"), a native key
# provider, center (the control plane) and one cluster with two hosts that
# share a datastore. This script then drives center with the `vmcrypt`
# client commands, as an administrator would: it creates an encrypted VM
# with two disks, writes and reads through NBD with qemu-io, shows that the
# disk files are ciphertext and that center's store holds key ids only,
# rekeys (shallow, then deep), moves the VM to the other host, and decrypts.
# (scripts/demo-host.sh shows the host agent alone, with this script playing
# the control plane.)
set -euo pipefail
VMCRYPT=$(cd "$(dirname "${1:-build/vmcrypt}")" && pwd)/$(basename "${1:-build/vmcrypt}")
WORK=${DEMO_DIR:-$(mktemp -d /tmp/vmcrypt-demo.XXXXXX)}
mkdir -p "$WORK"
DEV_PID=""
cleanup() {
  [ -n "$DEV_PID" ] && kill "$DEV_PID" 2> /dev/null && wait "$DEV_PID" 2> /dev/null
  true
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# open_vm NAME: opens the VM; sets D0 and D1 to its disks' NBD URIs.
open_vm() {
  vmcrypt vm open "$1" --json > "$WORK/open.json"
  D0=$(json '[x["nbd_uri"] for x in d["disks"] if x["name"]=="disk0"][0]' < "$WORK/open.json")
  D1=$(json '[x["nbd_uri"] for x in d["disks"] if x["name"]=="disk1"][0]' < "$WORK/open.json")
}

step "vmcrypt dev: key server, center, native provider, cluster1 with host1 and host2 (state in $WORK/dev)"
"$VMCRYPT" dev --dir "$WORK/dev" > "$WORK/dev.out" 2> "$WORK/dev.log" &
DEV_PID=$!
for _ in $(seq 200); do
  [ -s "$WORK/dev/env" ] && grep -q "vmcrypt dev is running" "$WORK/dev.out" 2> /dev/null && break
  kill -0 "$DEV_PID" 2> /dev/null || { cat "$WORK/dev.log"; exit 1; }
  sleep 0.1
done
cat "$WORK/dev.out"
set -a
. "$WORK/dev/env"
set +a
export PATH="$(dirname "$VMCRYPT"):$PATH"

step "the inventory center manages"
run vmcrypt provider list
run vmcrypt host list

step "create an encrypted VM with two disks (storage policy 'encrypted', KEK from the default provider)"
run vmcrypt vm create web01 --disk 64M --disk 16M --host host1 --policy encrypted
run vmcrypt vm show web01
KEY=$(vmcrypt vm show web01 --json | json 'd["key"]["key_id"]')

step "open it on host1: its disks are served over NBD; write and read with qemu-io"
open_vm web01
echo "   disk0: $D0"
run qemu-io -f raw -c "write -P 0x41 0 4M" -c "write -P 0x42 32M 1M" "$D0"
run qemu-io -f raw -c "write -P 0x43 0 1M" "$D1"
run qemu-io -f raw -c "read -P 0x41 0 4M" -c "read -P 0x42 32M 1M" "$D0"

step "the disk file is ciphertext: no run of the written byte 'A' (0x41) in it"
FILE="$WORK/dev/datastore/web01/disk0.img"
if grep -q "AAAAAAAAAAAAAAAA" "$FILE"; then echo "   PLAINTEXT FOUND in $FILE"; exit 1; fi
echo "   $FILE: $(stat -c %s "$FILE") bytes, first bytes:"
head -c 64 "$FILE" | od -A d -t x1 | head -4

step "center's store holds the key id, never key bytes"
echo "   documents in center.db that name key id $KEY:"
sqlite3 "file:$WORK/dev/center/state/center.db?mode=ro" \
  "SELECT '     ' || collection || ' ' || id FROM documents WHERE body LIKE '%$KEY%'"
run vmcrypt keys status

step "shallow rekey (a new KEK wraps the same DEKs; the VM must be closed)"
run vmcrypt vm close web01
run vmcrypt vm rekey web01 --shallow
echo "   KEK was $KEY, now $(vmcrypt vm show web01 --json | json 'd["key"]["key_id"]')"

step "deep rekey (new DEKs, every sector re-encrypted) while the VM is open and serving"
open_vm web01
run vmcrypt vm rekey web01 --deep
run qemu-io -f raw -c "read -P 0x41 0 4M" -c "read -P 0x42 32M 1M" "$D0"
run vmcrypt vm close web01

step "move the VM to host2 (center pushes its KEK there) and read the same data"
run vmcrypt vm move web01 --host host2
open_vm web01
echo "   disk0 now: $D0"
run qemu-io -f raw -c "read -P 0x41 0 4M" -c "read -P 0x42 32M 1M" "$D0"
run qemu-io -f raw -c "read -P 0x43 0 1M" "$D1"
run vmcrypt vm close web01

step "decrypt: disks first, then the VM home; the files are plain again"
run vmcrypt vm decrypt web01
run vmcrypt vm show web01
if grep -q "AAAAAAAAAAAAAAAA" "$FILE"; then echo "   the data is in clear in $FILE again"; else echo "   DATA NOT FOUND in clear"; exit 1; fi

step "tasks and events center recorded"
run vmcrypt tasks
run vmcrypt events --limit 12

step "done: the demo's state is in $WORK (remove it when finished)"
