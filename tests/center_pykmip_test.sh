#!/usr/bin/env bash
# Center with a third-party key server: the standard key provider is the
# PyKMIP server (Debian python3-pykmip), started on 127.0.0.1 by
# tests/pykmip/pykmip_server.py with its own test CA. Trust is set up the
# vCenter way (trust the KMS's CA; import a client certificate and key the
# KMS issued), then the same flow as with our KMS: create an encrypted VM,
# write and read through NBD, restart the host (its KEK is pushed again from
# PyKMIP), shallow rekey, decrypt; the data stays identical.
# Usage: center_pykmip_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in qemu-io openssl; do
  command -v $tool > /dev/null || { echo "missing $tool: apt-get install ${tool/qemu-io/qemu-utils}"; exit 1; }
done
[ -x /usr/bin/pykmip-server ] || { echo "missing pykmip-server: apt-get install python3-pykmip"; exit 1; }
TMP=$(mktemp -d)
declare -A PIDS=()
cleanup() {
  /usr/bin/python3 "$HERE/pykmip/pykmip_server.py" stop --dir "$TMP/pykmip" > /dev/null 2>&1
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
  wait 2> /dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
. "$(dirname "$0")/center_lib.sh"

/usr/bin/python3 "$HERE/pykmip/pykmip_server.py" start --dir "$TMP/pykmip" > "$TMP/pykmip.json" 2> "$TMP/pykmip.err" ||
  { echo "FAIL: the PyKMIP server did not start (python3-pykmip): $(cat "$TMP/pykmip.err")"; exit 1; }
PYK_PORT=$(json 'd["port"]' < "$TMP/pykmip.json")

"$VMCRYPT" center init --dir "$TMP/center" > "$TMP/init.out" 2>&1 || { cat "$TMP/init.out"; exit 1; }
TOKEN=$(grep -o 'vmc_[A-Za-z0-9_-]*' "$TMP/init.out" | head -1)
FP=$(grep -o -- '--trust-fingerprint [0-9A-F:]*' "$TMP/init.out" | awk '{print $2}')
"$VMCRYPT" host init --dir "$TMP/h1" --name host1 --trust-fingerprint "$FP" > /dev/null 2>&1
start host1 "$TMP/host1.log" 'listening on 127.0.0.1:' "$VMCRYPT" host serve --config "$TMP/h1/host.toml" --listen 127.0.0.1:0
H1=$PORT
start center "$TMP/center.log" 'listening on https://127.0.0.1:' "$VMCRYPT" center serve --config "$TMP/center/center.toml" --listen 127.0.0.1:0
export VMCRYPT_CENTER=https://127.0.0.1:$PORT VMCRYPT_TOKEN=$TOKEN VMCRYPT_CA=$TMP/center/ca.crt
V() { "$VMCRYPT" "$@"; }

V cluster add c1 > /dev/null
HFP=$(openssl x509 -in "$TMP/h1/host.crt" -noout -fingerprint -sha256 | cut -d= -f2)
check "add host1" 'V host add host1 --address 127.0.0.1:$H1 --fingerprint $HFP --cluster c1 > /dev/null'
check "add PyKMIP as a standard provider" 'V provider add pykmip --server 127.0.0.1:$PYK_PORT > /dev/null'
check "trust the PyKMIP server's CA" 'V provider trust pykmip --server-ca "$TMP/pykmip/ca.crt" > /dev/null'
check "import the client certificate and key PyKMIP's CA issued" \
  'V provider trust pykmip --import-cert "$TMP/pykmip/client.crt" --import-key "$TMP/pykmip/client.key" > /dev/null'
check "the provider is usable" 'V provider show pykmip --json | json "d[\"usable\"]" | grep -q True'

check "create an encrypted VM with a KEK from PyKMIP" 'V vm create vm1 --disk 8M --disk 4M --policy encrypted --provider pykmip > /dev/null'
KEY=$(V vm show vm1 --json | json 'd["key"]["key_id"]')
check "the VM's key is a PyKMIP object" '[ "$(V vm show vm1 --json | json "d[\"key\"][\"provider\"]")" = pykmip ] && [ -n "$KEY" ]'
uri() { json "[x['nbd_uri'] for x in d['disks'] if x['name']=='$2'][0]" < "$1"; }
V vm open vm1 --json > "$TMP/o1.json"
check "write through NBD" 'qemu-io -f raw -c "write -P 0x6b 0 1M" "$(uri "$TMP/o1.json" disk0)" > /dev/null && qemu-io -f raw -c "write -P 0x6c 0 64k" "$(uri "$TMP/o1.json" disk1)" > /dev/null'
readback() {
  qemu-io -f raw -c "read -P 0x6b 0 1M" "$(uri "$1" disk0)" | grep -q "read 1048576" &&
    qemu-io -f raw -c "read -P 0x6c 0 64k" "$(uri "$1" disk1)" | grep -q "read 65536"
}
check "read back" 'readback "$TMP/o1.json"'
V vm close vm1 > /dev/null
stop host1
start host1 "$TMP/host1b.log" 'listening on 127.0.0.1:' "$VMCRYPT" host serve --config "$TMP/h1/host.toml" --listen 127.0.0.1:$H1
check "after a host restart, opening fetches the KEK from PyKMIP again" 'V vm open vm1 --json > "$TMP/o2.json" && readback "$TMP/o2.json"'
V vm close vm1 > /dev/null
check "shallow rekey with a new PyKMIP key" 'V vm rekey vm1 --shallow > /dev/null && [ "$(V vm show vm1 --json | json "d[\"key\"][\"key_id\"]")" != "$KEY" ]'
check "data intact after the rekey" 'V vm open vm1 --json > "$TMP/o3.json" && readback "$TMP/o3.json"'
V vm close vm1 > /dev/null
check "keys status: available on PyKMIP" 'V keys status --json | json "all(k[\"state\"]==\"available\" for k in d[\"keys\"]) and len(d[\"keys\"])>0" | grep -q True'
check "decrypt" 'V vm decrypt vm1 > /dev/null && [ "$(V vm show vm1 --json | json "d[\"encrypted\"]")" = False ]'
check "data intact after decrypt" 'V vm open vm1 --json > "$TMP/o4.json" && readback "$TMP/o4.json"'
V vm close vm1 > /dev/null

echo "center_pykmip: $passed passed, $failed failed"
[ "$failed" = 0 ]
