#!/usr/bin/env bash
# The host agent on its own (issue 4): the main job with this script as the
# control plane. `make demo` (scripts/demo.sh) runs it through center.
#
# A KMIP key server (vmcrypt kms) and a host agent (vmcrypt host) start on
# 127.0.0.1. This script plays the control plane (vCenter's role; `vmcrypt
# center` will take it over): it makes a KEK on the key server the way vCenter
# does, pushes it to the host, and has the host create an encrypted VM with
# two disks. QEMU's qemu-io writes and reads through NBD; the files on disk
# are shown to be ciphertext and to hold no key. Then a shallow rekey (a new
# KEK), a deep rekey (new DEKs, data re-encrypted while the disks stay open),
# and a decryption back to plain disks.
set -euo pipefail
VMCRYPT=$(cd "$(dirname "${1:-build/vmcrypt}")" && pwd)/$(basename "${1:-build/vmcrypt}")
WORK=${DEMO_DIR:-$(mktemp -d /tmp/vmcrypt-demo.XXXXXX)}
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }
wait_port() {  # LOG: prints the port the server logged
  for _ in $(seq 100); do
    local p
    p=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$1" | tail -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  echo "server did not start: $(cat "$1")" >&2
  return 1
}

step "key server: vmcrypt kms init + serve (state in $WORK/kms)"
"$VMCRYPT" kms init --dir "$WORK/kms" > /dev/null
"$VMCRYPT" kms serve --config "$WORK/kms/kms.toml" --listen 127.0.0.1:0 2> "$WORK/kms.log" &
PIDS+=($!)
KMS_PORT=$(wait_port "$WORK/kms.log")
echo "   KMIP over TLS on 127.0.0.1:$KMS_PORT (client certificates required)"
kmip() {
  "$VMCRYPT" kmip call --server "127.0.0.1:$KMS_PORT" --ca "$WORK/kms/ca.crt" \
    --cert "$WORK/kms/clients/admin.crt" --key "$WORK/kms/clients/admin.key" "$@"
}
uid_of() { sed -n 's/.*UniqueIdentifier type="TextString" value="\([^"]*\)".*/\1/p' | head -1; }

step "host agent: vmcrypt host init + serve (state in $WORK/host)"
"$VMCRYPT" host init --dir "$WORK/host" --name esx-01 > /dev/null
"$VMCRYPT" host serve --config "$WORK/host/host.toml" --listen 127.0.0.1:0 2> "$WORK/host.log" &
PIDS+=($!)
HOST_PORT=$(wait_port "$WORK/host.log")
echo "   control-plane API (HTTPS, client certificates) on 127.0.0.1:$HOST_PORT"
host() {  # METHOD PATH [JSON]
  curl -sS --fail-with-body --cacert "$WORK/host/ca.crt" --cert "$WORK/host/clients/admin.crt" \
    --key "$WORK/host/clients/admin.key" -H 'Content-Type: application/json' \
    -X "$1" --data "${3:-{\}}" "https://127.0.0.1:$HOST_PORT$2"
}
show_vm() {
  python3 -c 'import json,sys
v=json.load(sys.stdin)
key=v["key"]
print("   VM %s: encrypted=%s key=%s open=%s" % (v["name"], v["encrypted"],
      (key["provider"]+"/"+key["key_id"]) if key else None, v["open"]))
for d in v["disks"]:
    k=d["key"]
    print("     %s %d MiB encrypted=%s key=%s %s" % (d["name"], d["size"] >> 20, d["encrypted"],
          (k["provider"]+"/"+k["key_id"]) if k else None, d.get("nbd_uri", "")))'
}
# The control plane's job (seed 000 step 2): a KEK from the key provider,
# activated, fetched once and pushed to the host, which keeps it in memory.
new_kek() {  # NAME: prints the KEK's unique identifier, having pushed it to the host
  local uid hex
  uid=$(kmip create --name "$1" --usage "Encrypt Decrypt" | uid_of)
  kmip activate "$uid" > /dev/null
  hex=$(kmip --show-secrets get "$uid" | sed -n 's/.*KeyMaterial type="ByteString" value="\([0-9a-f]*\)".*/\1/p')
  host PUT "/v1/keys/kms1/$uid" "{\"key\":\"$(echo "$hex" | xxd -r -p | base64)\"}" > /dev/null
  echo "$uid"
}

step "a KEK on the key server (Create AES-256, Activate, Get), pushed to the host"
KEK1=$(new_kek demo-kek-1)
echo "   KEK kms1/$KEK1; the host lists key ids only:"
host GET /v1/keys | sed 's/^/   /'
echo

step "create VM web01 with two disks (64 MiB, 32 MiB), encrypted with that KEK"
host POST /v1/vms "{\"name\":\"web01\",\"disks\":[67108864,33554432],\"encrypted\":true,\"provider\":\"kms1\",\"key_id\":\"$KEK1\"}" | show_vm

step "open it: the host exports its disks over NBD"
host POST /v1/vms/web01/open > "$WORK/open.json"
show_vm < "$WORK/open.json"
URI0=$(grep -o 'nbd+unix:///disk0?socket=[^"]*' "$WORK/open.json")
URI1=$(grep -o 'nbd+unix:///disk1?socket=[^"]*' "$WORK/open.json")

step "qemu-io writes through NBD, and reads it back"
qemu-io -f raw "$URI0" -c 'write -P 0xab 0 4M' | sed 's/^/   /'
qemu-io -f raw "$URI1" -c 'write -P 0xcd 1M 1M' | sed 's/^/   /'
qemu-io -f raw "$URI0" -c 'read -P 0xab 0 4M' | sed 's/^/   /'

step "the files on disk are ciphertext, and hold no key"
DISK0=$WORK/host/data/web01/disk0.img
ls -ls "$WORK/host/data/web01" | sed 's/^/   /'
if LC_ALL=C grep -qaF "$(head -c 4096 /dev/zero | tr '\0' '\253')" "$DISK0"; then
  echo "   the pattern 0xab is on disk in clear" >&2
  exit 1
fi
echo "   4 KiB of 0xab: not found in disk0.img (sparse: only written sectors take space)"
echo "   vm.json keeps the home key wrapped (RFC 5649) and its secrets sealed:"
python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); ks=v["key_safe"]; print("   key_safe:", ks["provider"], ks["key_id"], ks["wrap"], len(ks["wrapped_dek"]), "base64 chars")' \
  "$WORK/host/data/web01/vm.json"

step "shallow rekey: a new KEK wraps the same DEKs (VM closed; data untouched)"
host POST /v1/vms/web01/close > /dev/null
KEK2=$(new_kek demo-kek-2)
host POST /v1/vms/web01/rekey "{\"mode\":\"shallow\",\"provider\":\"kms1\",\"key_id\":\"$KEK2\"}" | show_vm
host DELETE "/v1/keys/kms1/$KEK1" > /dev/null
echo "   the old KEK is removed from the host; the VM still opens:"
host POST /v1/vms/web01/open > "$WORK/open.json"
qemu-io -f raw "$URI0" -c 'read -P 0xab 0 4M' | sed 's/^/   /'

step "deep rekey: new DEKs, every written sector re-encrypted while the disks stay open"
before=$(sha256sum "$DISK0" | cut -c1-16)
host POST /v1/vms/web01/rekey '{"mode":"deep"}' > /dev/null
after=$(sha256sum "$DISK0" | cut -c1-16)
echo "   disk0.img sha256 $before... -> $after..."
qemu-io -f raw "$URI0" -c 'read -P 0xab 0 4M' | sed 's/^/   /'
qemu-io -f raw "$URI1" -c 'read -P 0xcd 1M 1M' | sed 's/^/   /'

step "decrypt: disks first, then the home (both keys needed)"
host POST /v1/vms/web01/close > /dev/null
host POST /v1/vms/web01/decrypt | show_vm
if LC_ALL=C grep -qaF "$(head -c 4096 /dev/zero | tr '\0' '\253')" "$DISK0"; then
  echo "   disk0.img is a plain raw image again: 0xab is there in clear"
else
  echo "   decryption did not restore the plain data" >&2
  exit 1
fi

step "done: the key server's audit log recorded every KEK operation (no key bytes)"
grep -c '"operation"' "$WORK/kms/audit.log" | sed 's/^/   operations logged: /'
echo "   state left in $WORK"
