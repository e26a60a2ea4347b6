#!/usr/bin/env bash
# The center client commands (`vmcrypt provider|cluster|host|vm|...`) without
# a center: missing settings name their flag and variable, bad arguments are
# usage errors (exit 2) found before any connection, every group's --help
# lists its commands, a closed port gives "cannot reach center at ...", a
# server whose certificate another CA issued is refused (openssl s_server),
# and the token never appears in any output. The end-to-end tests against a
# running center are in other scripts.
# Usage: client_cli_test.sh VMCRYPT
set -uo pipefail
VMCRYPT=$1
command -v openssl > /dev/null || { echo "missing openssl"; exit 1; }
command -v python3 > /dev/null || { echo "missing python3"; exit 1; }
TMP=$(mktemp -d)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi; }

# run ARGS...: runs vmcrypt, stdout+stderr in $TMP/out, exit code in $rc.
run() {
  "$VMCRYPT" "$@" > "$TMP/out" 2>&1
  rc=$?
}
has() { grep -qF -- "$1" "$TMP/out"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Two CAs, and a server certificate for 127.0.0.1 from the first.
mkca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$1" -keyout "$TMP/$1.key" -out "$TMP/$1.crt" 2> /dev/null
}
mkca ca1
mkca ca2
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=center \
  -keyout "$TMP/server.key" -out "$TMP/server.csr" 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$TMP/san.ext"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca1.crt" -CAkey "$TMP/ca1.key" \
  -CAcreateserial -days 2 -extfile "$TMP/san.ext" -out "$TMP/server.crt" 2> /dev/null

TOKEN=vmc_ThisTokenMustNeverBePrinted0123456789
CLOSED=$(free_port)
unset VMCRYPT_CENTER VMCRYPT_TOKEN VMCRYPT_CA

# --- settings ---------------------------------------------------------------
run vm create vm1 --disk 64M
check "no center address: usage error" '[ $rc = 2 ]'
check "no center address: names VMCRYPT_CENTER and --center" 'has VMCRYPT_CENTER && has --center'
export VMCRYPT_CENTER=https://127.0.0.1:$CLOSED
run vm list
check "no token: names VMCRYPT_TOKEN and --token" '[ $rc = 2 ] && has VMCRYPT_TOKEN && has --token'
export VMCRYPT_TOKEN=$TOKEN
run vm list
check "no CA: names VMCRYPT_CA and --ca" '[ $rc = 2 ] && has VMCRYPT_CA && has --ca'
run vm list --ca "$TMP/absent.crt"
check "unreadable CA file: named" '[ $rc = 1 ] && has "cannot read the CA file $TMP/absent.crt"'
run vm list --ca "$TMP/ca1.key"
check "CA file without a certificate: named" '[ $rc = 1 ] && has "holds no PEM certificate"'
export VMCRYPT_CA=$TMP/ca1.crt
run vm list --center http://127.0.0.1:$CLOSED
check "http:// refused" '[ $rc = 2 ] && has "use https://"'
run vm list --center https://127.0.0.1:99999
check "bad port refused" '[ $rc = 2 ] && has "bad port"'
run vm list --center 127.0.0.1:$CLOSED
check "address without scheme refused" '[ $rc = 2 ] && has "is not https://HOST:PORT"'

# --- usage errors, found before connecting ----------------------------------
run vm create vm1 --disk 12Q
check "bad disk size rejected" '[ $rc = 2 ] && has "--disk: bad size \"12Q\"" && ! has "cannot reach"'
run vm create vm1 --disk 64M --disk 1000
check "disk size not a multiple of 4096 rejected" '[ $rc = 2 ] && has "multiple of 4096"'
run vm create vm1
check "vm create without --disk" '[ $rc = 2 ] && has "at least one --disk"'
run vm create vm1 --disk 1G --policy secret
check "unknown policy rejected" '[ $rc = 2 ] && has "--policy must be"'
run vm rekey vm1
check "rekey needs --shallow or --deep" '[ $rc = 2 ] && has "--shallow or --deep"'
run vm rekey vm1 --deep --provider p
check "deep rekey takes no provider" '[ $rc = 2 ] && has "--provider goes with --shallow"'
run provider add p1
check "provider add needs --server or --native" '[ $rc = 2 ] && has "--server HOST:PORT"'
run provider add p1 --server 127.0.0.1:5696 --native
check "provider add: --server and --native exclude" '[ $rc = 2 ]'
run provider trust p1 --fetch --csr
check "provider trust takes one action" '[ $rc = 2 ] && has "exactly one of"'
run provider trust p1 --import-cert "$TMP/server.crt"
check "--import-cert needs --import-key" '[ $rc = 2 ] && has "go together"'
run provider export p1 --password "" --out "$TMP/p1.p12"
check "empty export password rejected" '[ $rc = 2 ] && has "must not be empty" && [ ! -e "$TMP/p1.p12" ]'
run host add h1 --address 127.0.0.1:8443
check "host add needs fingerprint and cluster" '[ $rc = 2 ] && has "--fingerprint"'
run user add bob
check "user add needs --role" '[ $rc = 2 ] && has "--role"'
run vm show
check "missing positional NAME is a parse error" '[ $rc != 0 ] && has "name is required"'

# --- help ---------------------------------------------------------------------
help_lists() {  # GROUP COMMAND...: `vmcrypt GROUP --help` lists every COMMAND
  local group=$1
  shift
  "$VMCRYPT" $group --help > "$TMP/help" 2>&1 || return 1
  for c in "$@"; do grep -qE "^  $c( |$)" "$TMP/help" || { echo "  $group --help lacks $c"; return 1; }; done
}
check "provider --help" 'help_lists provider list show add remove trust default export restore'
check "cluster --help" 'help_lists cluster list add remove'
check "host --help (agent and inventory)" 'help_lists host init serve list show add remove encrypt'
check "vm --help" 'help_lists vm list show create open close encrypt decrypt rekey move register delete disk-encrypt disk-decrypt'
check "keys --help" 'help_lists keys status'
check "user --help" 'help_lists user list add'
check "role --help" 'help_lists role list add'
check "top-level --help" "help_lists '' tasks events alarms about policies provider cluster vm keys user role"
check "vm create --help shows the connection flags" \
  '"$VMCRYPT" vm create --help | grep -q -- "--center" && "$VMCRYPT" vm create --help | grep -q -- "--no-wait"'

# --- connections --------------------------------------------------------------
run vm list
check "closed port: cannot reach center" \
  '[ $rc = 1 ] && has "cannot reach center at https://127.0.0.1:$CLOSED"'
run vm create vm1 --disk 64M --token "$TOKEN"
check "closed port (task command): cannot reach center" '[ $rc = 1 ] && has "cannot reach center at"'
check "the token is never printed" '! has "$TOKEN"'

PORT=$(free_port)
openssl s_server -quiet -www -accept "127.0.0.1:$PORT" -cert "$TMP/server.crt" \
  -key "$TMP/server.key" > "$TMP/s_server.log" 2>&1 &
PID=$!
for _ in $(seq 50); do
  (exec 3<> "/dev/tcp/127.0.0.1/$PORT") 2> /dev/null && break
  sleep 0.1
done
export VMCRYPT_CENTER=https://127.0.0.1:$PORT
run about --ca "$TMP/ca2.crt"
check "server certificate from another CA: refused" \
  '[ $rc = 1 ] && has "cannot verify center at https://127.0.0.1:$PORT with the CA file $TMP/ca2.crt"'
run about --center "https://localhost:$PORT" --ca "$TMP/ca1.crt"
check "right CA: TLS accepted (s_server answers HTML, not JSON)" \
  '[ $rc = 1 ] && has "not JSON" && ! has "cannot verify"'
check "the token is never printed (TLS paths)" '! has "$TOKEN"'

echo "client_cli: $passed passed, $failed failed"
[ "$failed" = 0 ]
