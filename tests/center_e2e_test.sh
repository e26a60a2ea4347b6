#!/usr/bin/env bash
# Center end to end with real processes on 127.0.0.1: two KMS processes of
# one cluster (sharing a store), `vmcrypt center serve`, two host agents
# sharing a datastore, and the `vmcrypt` client commands. Shows (issue 5):
# encrypt on host 1, write through NBD, open on host 2 and read the same
# data; a restarted host gets its KEK pushed again; with the key servers
# down the VM is locked and the events say why; a second KMS takes over;
# shallow and deep rekey and decrypt keep the data; privileges; center's
# files hold no key bytes.
# Usage: center_e2e_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
for tool in qemu-io openssl python3 sqlite3; do
  command -v $tool > /dev/null || { echo "missing $tool: apt-get install ${tool/qemu-io/qemu-utils}"; exit 1; }
done
TMP=$(mktemp -d)
declare -A PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
  wait 2> /dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
. "$(dirname "$0")/center_lib.sh"

# --- set-up: center, two KMS processes on one store, two hosts ---------------
"$VMCRYPT" center init --dir "$TMP/center" > "$TMP/center-init.out" 2>&1 || { cat "$TMP/center-init.out"; exit 1; }
TOKEN=$(grep -o 'vmc_[A-Za-z0-9_-]*' "$TMP/center-init.out" | head -1)
FP=$(grep -o -- '--trust-fingerprint [0-9A-F:]*' "$TMP/center-init.out" | awk '{print $2}')
check "center init prints a token and its client fingerprint" '[ -n "$TOKEN" ] && [ -n "$FP" ]'
check "center's keys are 0600" '[ "$(stat -c %a "$TMP/center/root.key")" = 600 ] && [ "$(stat -c %a "$TMP/center/client.key")" = 600 ]'

"$VMCRYPT" kms init --dir "$TMP/kms" > /dev/null 2>&1
start kms1 "$TMP/kms1.log" 'listening on 127.0.0.1:' "$VMCRYPT" kms serve --config "$TMP/kms/kms.toml" --listen 127.0.0.1:0
KMS1=$PORT
start kms2 "$TMP/kms2.log" 'listening on 127.0.0.1:' "$VMCRYPT" kms serve --config "$TMP/kms/kms.toml" --listen 127.0.0.1:0
KMS2=$PORT

mkdir -p "$TMP/datastore"
for h in 1 2; do
  "$VMCRYPT" host init --dir "$TMP/h$h" --name host$h --trust-fingerprint "$FP" > /dev/null 2>&1
  sed -i "s|^data_dir = .*|data_dir = \"$TMP/datastore\"|" "$TMP/h$h/host.toml"
done
start_host() {
  start host$1 "$TMP/host$1.log" 'listening on 127.0.0.1:' "$VMCRYPT" host serve --config "$TMP/h$1/host.toml" --listen "127.0.0.1:${2:-0}"
}
start_host 1; H1=$PORT
start_host 2; H2=$PORT
start center "$TMP/center.log" 'listening on https://127.0.0.1:' "$VMCRYPT" center serve --config "$TMP/center/center.toml" --listen 127.0.0.1:0
export VMCRYPT_CENTER=https://127.0.0.1:$PORT VMCRYPT_TOKEN=$TOKEN VMCRYPT_CA=$TMP/center/ca.crt
V() { "$VMCRYPT" "$@"; }

check "about answers with the token" 'V about --json | grep -q "\"user\": *\"admin\""'
check "a wrong token is refused" '! VMCRYPT_TOKEN=vmc_wrong V about > /dev/null 2>&1'
# A body field of the wrong JSON type is the client's mistake: 400, saying so.
api_post() {  # PATH BODY: prints the HTTP status, then the body
  curl -sS -o - -w '\n%{http_code}' --cacert "$VMCRYPT_CA" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -X POST --data "$2" "$VMCRYPT_CENTER$1"
}
check "a body field of the wrong type gets 400 naming the type" \
  'out=$(api_post /api/v1/vms "{\"name\": \"typed\", \"vtpm\": \"yes\"}"); [ "$(echo "$out" | tail -1)" = 400 ] && echo "$out" | grep -q "wrong type: type must be boolean, but is string"'

V cluster add c1 > /dev/null
for h in 1 2; do
  port_var=H$h
  hfp=$(openssl x509 -in "$TMP/h$h/host.crt" -noout -fingerprint -sha256 | cut -d= -f2)
  check "add host$h by address and fingerprint" 'V host add host$h --address 127.0.0.1:${!port_var} --fingerprint $hfp --cluster c1 > /dev/null'
done
check "a host with the wrong fingerprint is refused" \
  '! V host add bad --address 127.0.0.1:$H1 --fingerprint $(openssl x509 -in "$TMP/center/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2) --cluster c1 > "$TMP/bad.out" 2>&1 && grep -qi "fingerprint" "$TMP/bad.out"'

# The standard provider: both KMS processes, trust set-up as vCenter does it.
check "add the standard provider" 'V provider add kms --server 127.0.0.1:$KMS1 --server 127.0.0.1:$KMS2 > /dev/null'
check "pin the key servers' certificate" 'V provider trust kms --fetch > /dev/null'
check "make a self-signed client certificate" 'V provider trust kms --self-signed --out "$TMP/center-kms.crt" > /dev/null && [ -s "$TMP/center-kms.crt" ]'
"$VMCRYPT" kms client add --config "$TMP/kms/kms.toml" --name center --cert "$TMP/center-kms.crt" > /dev/null
check "the provider is the default" 'V provider list --json | grep -q "\"default\": *true"'
stop kms2   # KMS 2 stays down until the failover step

# --- encrypt on host 1, write, open on host 2, read -------------------------
check "create an encrypted VM with two disks on host1" 'V vm create vm1 --disk 16M --disk 8M --host host1 --policy encrypted > "$TMP/create.out" 2>&1'
V vm show vm1 --json > "$TMP/vm1.json"
check "the VM and both disks are encrypted" '[ "$(json "d[\"encrypted\"] and all(x[\"encrypted\"] for x in d[\"disks\"])" < "$TMP/vm1.json")" = True ]'
KEY_ID=$(json 'd["key"]["key_id"]' < "$TMP/vm1.json")
check "the VM's key comes from provider kms" '[ "$(json "d[\"key\"][\"provider\"]" < "$TMP/vm1.json")" = kms ] && [ -n "$KEY_ID" ]'

uri() { json "[x['nbd_uri'] for x in d['disks'] if x['name']=='$2'][0]" < "$1"; }
V vm open vm1 --json > "$TMP/open1.json"
U0=$(uri "$TMP/open1.json" disk0); U1=$(uri "$TMP/open1.json" disk1)
check "write through NBD on host1" 'qemu-io -f raw -c "write -P 0x5a 0 1M" -c "write -P 0x17 3M 64k" "$U0" > /dev/null && qemu-io -f raw -c "write -P 0x33 0 512k" "$U1" > /dev/null'
readback() {  # checks the patterns through the VM's current NBD URIs
  local u0 u1
  u0=$(uri "$1" disk0); u1=$(uri "$1" disk1)
  qemu-io -f raw -c "read -P 0x5a 0 1M" -c "read -P 0x17 3M 64k" "$u0" | grep -q "read 65536" &&
    qemu-io -f raw -c "read -P 0x33 0 512k" "$u1" | grep -q "read 524288"
}
check "read back on host1" 'readback "$TMP/open1.json"'
check "the disk files hold ciphertext" '! grep -q "ZZZZZZZZZZZZZZZZ" "$TMP/datastore/vm1/disk0.img"'
V vm close vm1 > /dev/null
check "open the VM on host2 and read the same data" 'V vm open vm1 --host host2 --json > "$TMP/open2.json" && readback "$TMP/open2.json"'
check "the VM is placed on host2" '[ "$(V vm show vm1 --json | json "d[\"host\"]")" = host2 ]'
V vm close vm1 > /dev/null

# --- a restarted host gets its KEK again --------------------------------------
stop host2; start_host 2 "$H2"
check "restarted host2 holds no keys" '! grep -q "$KEY_ID" <(curl -sS --cacert "$TMP/h2/ca.crt" --cert "$TMP/h2/clients/admin.crt" --key "$TMP/h2/clients/admin.key" https://127.0.0.1:$H2/v1/keys)'
check "opening pushes the KEK again" 'V vm open vm1 --json > "$TMP/open3.json" && readback "$TMP/open3.json"'
V vm close vm1 > /dev/null

# --- key servers down: locked VM and events; failover to KMS 2 ----------------
stop kms1
stop host2; start_host 2 "$H2"
check "with every key server down, opening fails" '! V vm open vm1 > "$TMP/locked.out" 2>&1'
check "the error says the key server is unreachable" 'grep -qi "unreachable" "$TMP/locked.out"'
V events --json > "$TMP/events.json"
check "event: key server unreachable, with provider" 'json "any(e[\"type\"]==\"kms.unreachable\" and e[\"provider\"]==\"kms\" for e in d[\"events\"])" < "$TMP/events.json" | grep -q True'
check "event: VM locked, with its key id" 'json "any(e[\"type\"]==\"vm.locked\" and e[\"key_id\"]==\"$KEY_ID\" for e in d[\"events\"])" < "$TMP/events.json" | grep -q True'
check "the VM is reported locked" '[ "$(V vm show vm1 --json | json "d[\"locked\"]")" = True ]'
check "an alarm is raised" 'V alarms --json | grep -q "vm.locked"'
start kms2 "$TMP/kms2b.log" 'listening on 127.0.0.1:' "$VMCRYPT" kms serve --config "$TMP/kms/kms.toml" --listen 127.0.0.1:$KMS2
check "failover: the second key server serves the key" 'V vm open vm1 --json > "$TMP/open4.json" && readback "$TMP/open4.json"'
check "the VM is unlocked and its alarm cleared" '[ "$(V vm show vm1 --json | json "d[\"locked\"]")" = False ] && ! V alarms --json | grep -q "vm.locked"'
V vm close vm1 > /dev/null

# --- rekey and decrypt keep the data -----------------------------------------------
check "shallow rekey" 'V vm rekey vm1 --shallow > /dev/null'
NEW_KEY=$(V vm show vm1 --json | json 'd["key"]["key_id"]')
check "shallow rekey changed the KEK" '[ -n "$NEW_KEY" ] && [ "$NEW_KEY" != "$KEY_ID" ]'
check "data intact after shallow rekey" 'V vm open vm1 --json > "$TMP/o5.json" && readback "$TMP/o5.json"'
check "deep rekey of the open VM" 'V vm rekey vm1 --deep > /dev/null'
check "data intact after deep rekey" 'readback "$TMP/o5.json"'
V vm close vm1 > /dev/null
check "keys status lists the VM's key as available" 'V keys status --json | json "any(k[\"key_id\"]==\"$NEW_KEY\" and k[\"state\"]==\"available\" and \"vm1\" in k[\"vms\"] for k in d[\"keys\"])" | grep -q True'

# --- kill -9 of center in the middle of a task (a deep rekey): the task is
# reported failed, and running it again finishes it with the data intact.
# host1 is paused (SIGSTOP) so that the task is surely in flight.
V vm create big1 --disk 64M --host host1 --policy encrypted > /dev/null
V vm open big1 --json > "$TMP/big.json"
BU=$(json 'd["disks"][0]["nbd_uri"]' < "$TMP/big.json")
qemu-io -f raw -c "write -P 0x7e 0 1M" -c "write -P 0x7f 60M 1M" "$BU" > /dev/null
V vm close big1 > /dev/null
kill -STOP "${PIDS[host1]}"
TID=$(V vm rekey big1 --deep --no-wait --json | json 'd["id"]')
for _ in $(seq 100); do
  [ "$(V tasks "$TID" --json | json 'd["state"]')" = running ] && break
  sleep 0.05
done
kill -9 "${PIDS[center]}"; wait "${PIDS[center]}" 2> /dev/null; unset "PIDS[center]"
kill -CONT "${PIDS[host1]}"
start center "$TMP/center-k9.log" 'listening on https://127.0.0.1:' "$VMCRYPT" center serve --config "$TMP/center/center.toml" --listen 127.0.0.1:0
export VMCRYPT_CENTER=https://127.0.0.1:$PORT
check "after kill -9, the interrupted task is reported failed" \
  'V tasks "$TID" --json | json "d[\"state\"]==\"error\" and \"center stopped during the task\" in d[\"error\"]" | grep -q True'
check "running the deep rekey again finishes it" 'V vm rekey big1 --deep > /dev/null'
check "the data survived" 'V vm open big1 --json > "$TMP/big2.json" && BU=$(json "d[\"disks\"][0][\"nbd_uri\"]" < "$TMP/big2.json") && qemu-io -f raw -c "read -P 0x7e 0 1M" -c "read -P 0x7f 60M 1M" "$BU" | grep -c "read 1048576" | grep -qx 2'
V vm close big1 > /dev/null
V vm delete big1 > /dev/null

# --- privileges ---------------------------------------------------------------------
BOB=$(V user add bob --role NoCryptoAdmin --json | json 'd["token"]')
B() { VMCRYPT_TOKEN=$BOB "$VMCRYPT" "$@"; }
check "no-crypto admin cannot decrypt" '! B vm decrypt vm1 > "$TMP/bob1.out" 2>&1 && grep -q "Cryptographer.Decrypt" "$TMP/bob1.out"'
check "no-crypto admin cannot see keys" '! B keys status > /dev/null 2>&1 && B vm show vm1 --json | grep -q "(hidden)" && ! B vm show vm1 --json | grep -q "$NEW_KEY"'
check "no-crypto admin cannot create an encrypted VM" '! B vm create vm3 --disk 4M --policy encrypted > /dev/null 2>&1'
check "no-crypto admin manages VMs otherwise" 'B vm create vm2 --disk 4M --policy none > /dev/null && B vm open vm2 > /dev/null && B vm close vm2 > /dev/null'
check "no-crypto admin cannot encrypt (lacks Cryptographer.Encrypt)" '! B vm encrypt vm2 > "$TMP/bob2.out" 2>&1 && grep -q "Cryptographer.Encrypt" "$TMP/bob2.out"'
check "the admin encrypts vm2" 'V vm encrypt vm2 > /dev/null && [ "$(V vm show vm2 --json | json "d[\"encrypted\"]")" = True ]'
check "decrypt one disk of vm2" 'V vm disk-decrypt vm2 disk0 > /dev/null && [ "$(V vm show vm2 --json | json "d[\"disks\"][0][\"encrypted\"]")" = False ]'
check "encrypt it again" 'V vm disk-encrypt vm2 disk0 > /dev/null && [ "$(V vm show vm2 --json | json "d[\"disks\"][0][\"encrypted\"]")" = True ]'
check "a VM with a vTPM is encrypted whatever its policy" 'V vm create tpm1 --disk 4M --policy none --vtpm > /dev/null && [ "$(V vm show tpm1 --json | json "d[\"encrypted\"] and d[\"vtpm\"]")" = True ]'
check "no-crypto admin cannot create a VM with a vTPM" '! B vm create tpm2 --disk 4M --vtpm > /dev/null 2>&1'

# --- decrypt ---------------------------------------------------------------------
check "decrypt vm1" 'V vm decrypt vm1 > /dev/null'
check "after decrypt the disks are plain" '[ "$(V vm show vm1 --json | json "any(x[\"encrypted\"] for x in d[\"disks\"]) or d[\"encrypted\"]")" = False ]'
check "the plain disk file holds the data in clear" 'cmp -s -n 65536 <(head -c 65536 /dev/zero | tr "\0" "\132") <(head -c 65536 "$TMP/datastore/vm1/disk0.img")'
check "data intact after decrypt" 'V vm open vm1 --json > "$TMP/o6.json" && readback "$TMP/o6.json"'
V vm close vm1 > /dev/null

# --- a key destroyed on the key server: "keys are missing"; host encryption mode
V vm create vm5 --disk 4M --host host1 --policy encrypted > /dev/null
K5=$(V vm show vm5 --json | json 'd["key"]["key_id"]')
kmip_admin() {
  "$VMCRYPT" kmip call --server 127.0.0.1:$KMS2 --ca "$TMP/kms/ca.crt" --cert "$TMP/kms/clients/admin.crt" \
    --key "$TMP/kms/clients/admin.key" "$@"
}
kmip_admin revoke "$K5" --reason KeyCompromise > /dev/null 2>&1
kmip_admin destroy "$K5" > /dev/null 2>&1
check "keys status reports the destroyed key missing, with its VM" \
  'V keys status --json | json "any(k[\"key_id\"]==\"$K5\" and k[\"state\"]==\"missing\" and \"vm5\" in k[\"vms\"] for k in d[\"keys\"])" | grep -q True'
check "re-sending the VM's keys fails" '! V vm register vm5 > /dev/null 2>&1'
check "event: keys are missing on the KMS cluster, with the key id" \
  'V events --json | json "any(e[\"type\"]==\"key.missing\" and e[\"key_id\"]==\"$K5\" for e in d[\"events\"])" | grep -q True'
check "host encryption mode: a host key from the default provider" \
  'V host encrypt host1 > /dev/null && [ "$(V host show host1 --json | json "d[\"crypto_state\"]")" = safe ]'
check "the host seals a support bundle with it" \
  'curl -sS --fail-with-body --cacert "$TMP/h1/ca.crt" --cert "$TMP/h1/clients/admin.crt" --key "$TMP/h1/clients/admin.key" -X POST --data "{}" https://127.0.0.1:$H1/v1/support-bundle | grep -q "vmcb"'

# --- native key provider: hosts derive KEKs from the KDK, even with center stopped
check "add a native key provider" 'V provider add nat --native > /dev/null'
check "a native provider is unusable before its backup" '! V vm create nvm0 --disk 4M --policy encrypted --provider nat > "$TMP/nat0.out" 2>&1 && grep -qi "back" "$TMP/nat0.out"'
check "export it (password-protected PKCS#12)" 'V provider export nat --password "s3cret pass" --out "$TMP/nat.p12" > /dev/null && [ -s "$TMP/nat.p12" ]'
check "a backup is not restored over an existing provider" '! V provider restore --file "$TMP/nat.p12" --password "s3cret pass" > "$TMP/restore.out" 2>&1 && grep -q "already exists" "$TMP/restore.out"'
check "a removed native provider comes back from its backup, usable" \
  'V provider add nat2 --native > /dev/null && V provider export nat2 --password pw2 --out "$TMP/nat2.p12" > /dev/null && V provider remove nat2 > /dev/null && ! V provider show nat2 > /dev/null 2>&1 && V provider restore --file "$TMP/nat2.p12" --password pw2 > /dev/null && V vm create nvm2 --disk 4M --host host2 --policy encrypted --provider nat2 > /dev/null'
check "a wrong backup password is refused" '! V provider restore --file "$TMP/nat2.p12" --password wrong > "$TMP/wrongpw.out" 2>&1 && grep -q "wrong password" "$TMP/wrongpw.out"'
check "openssl reads the backup with the password" 'openssl pkcs12 -info -in "$TMP/nat.p12" -passin "pass:s3cret pass" -nokeys > "$TMP/nat.info" 2>&1'
check "a wrong password does not open it" '! openssl pkcs12 -info -in "$TMP/nat.p12" -passin pass:wrong -nokeys > /dev/null 2>&1'
KDK_HEX=$(grep -A1 "friendlyName: vmcrypt native key provider KDK" "$TMP/nat.info" | tail -1 | tr -d ' \n')
check "the backup holds a 32-byte KDK" '[ ${#KDK_HEX} = 64 ]'
check "create a VM with the native provider through center" 'V vm create nvm1 --disk 8M --host host1 --policy encrypted --provider nat > /dev/null'
check "its key comes from the native provider" '[ "$(V vm show nvm1 --json | json "d[\"key\"][\"provider\"]")" = nat ]'
check "a native provider that requires a TPM is refused by hosts without one" \
  'V provider add tpmnat --native --tpm-required > /dev/null 2>&1; V events --json | json "sum(1 for e in d[\"events\"] if e[\"type\"]==\"key.push_failed\" and e[\"provider\"]==\"tpmnat\" and \"incompatible\" in e[\"message\"])" | grep -qx 2'
# Center stops: host1 keeps the KDK and makes and opens encrypted VMs alone.
stop center
H1API() {  # METHOD PATH [JSON]: host1's API with its admin bundle
  curl -sS --fail-with-body --cacert "$TMP/h1/ca.crt" --cert "$TMP/h1/clients/admin.crt" \
    --key "$TMP/h1/clients/admin.key" -H 'Content-Type: application/json' -X "$1" \
    --data "${3:-{\}}" "https://127.0.0.1:$H1$2"
}
check "center stopped: host1 creates an encrypted VM from the KDK" \
  'H1API POST /v1/vms "{\"name\":\"offline1\",\"disks\":[4194304],\"encrypted\":true,\"provider\":\"nat\"}" > "$TMP/off.json" && grep -q "\"encrypted\":true" "$TMP/off.json"'
check "center stopped: host1 opens it and data round-trips over NBD" \
  'H1API POST /v1/vms/offline1/open > "$TMP/offo.json" && OU=$(json "d[\"disks\"][0][\"nbd_uri\"]" < "$TMP/offo.json") && qemu-io -f raw -c "write -P 0x61 0 256k" "$OU" > /dev/null && qemu-io -f raw -c "read -P 0x61 0 256k" "$OU" | grep -q "read 262144"'
H1API POST /v1/vms/offline1/close > /dev/null
check "center stopped: host1 opens the VM center made with the native provider" 'H1API POST /v1/vms/nvm1/open > /dev/null && H1API POST /v1/vms/nvm1/close > /dev/null'
start center "$TMP/center2.log" 'listening on https://127.0.0.1:' "$VMCRYPT" center serve --config "$TMP/center/center.toml" --listen 127.0.0.1:0
export VMCRYPT_CENTER=https://127.0.0.1:$PORT
check "center restarted keeps its inventory" 'V vm list --json | grep -q nvm1'

# --- center's files hold key ids, never key bytes ---------------------------------
SECRETS="python3 $(dirname "$0")/center_secrets.py"
kmip_get() {
  "$VMCRYPT" kmip call --server 127.0.0.1:$KMS2 --ca "$TMP/kms/ca.crt" --cert "$TMP/kms/clients/admin.crt" \
    --key "$TMP/kms/clients/admin.key" --show-secrets get "$1"
}
V vm encrypt vm1 > /dev/null  # vm1 was decrypted above: give it a home DEK again
HOME_KEY=$(V vm show vm1 --json | json 'd["key"]["key_id"]')
HEXES=()
for id in "$KEY_ID" "$NEW_KEY" "$HOME_KEY"; do
  kmip_get "$id" > "$TMP/get-$id.txt" 2>&1
  HEXES+=("$($SECRETS kek "$TMP/get-$id.txt")")
done
check "the KEKs were read from the KMS for the scan" '[ ${#HEXES[2]} = 64 ] && [ ${#HEXES[0]} = 64 ]'
DEK_HEX=$($SECRETS home-dek "$TMP/datastore/vm1/vm.json" "${HEXES[2]}")
check "vm1's home DEK was unwrapped for the scan" '[ ${#DEK_HEX} = 64 ]'
DISK_DEKS=($($SECRETS disk-deks "$TMP/datastore/vm1/disk0.img" "${HEXES[2]}") $($SECRETS disk-deks "$TMP/datastore/vm1/disk1.img" "${HEXES[2]}"))
check "vm1's disk DEKs were unwrapped for the scan" '[ ${#DISK_DEKS[@]} -ge 2 ] && [ ${#DISK_DEKS[0]} = 128 ]'
check "center's database and files hold no KEK, KDK or DEK bytes" '$SECRETS scan "$TMP/center" "${HEXES[@]}" "$KDK_HEX" "$DEK_HEX" "${DISK_DEKS[@]}"'
mkdir -p "$TMP/control" && cp "$TMP/get-$HOME_KEY.txt" "$TMP/control/"
check "the scan does find key bytes where they are (control)" '! $SECRETS scan "$TMP/control" "${HEXES[2]}" 2> /dev/null'
check "center's database holds the key ids" '[ "$(sqlite3 "file:$TMP/center/state/center.db?mode=ro" "SELECT count(*) FROM documents WHERE collection = '"'"'vms'"'"' AND body LIKE '"'"'%$HOME_KEY%'"'"'")" -ge 1 ]'

# --- a cluster's default provider wins over center's --------------------------------
check "set the native provider as cluster c1's default" 'V provider default nat --cluster c1 > /dev/null'
check "a VM created without --provider uses the cluster's default" 'V vm create cdef --disk 4M --policy encrypted > /dev/null && [ "$(V vm show cdef --json | json "d[\"key\"][\"provider\"]")" = nat ]'
check "naming a provider overrides the defaults" 'V vm create cnamed --disk 4M --policy encrypted --provider kms > /dev/null && [ "$(V vm show cnamed --json | json "d[\"key\"][\"provider\"]")" = kms ]'

echo "center_e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
