#!/usr/bin/env bash
# center_bench_smoke: center-bench with tiny sizes (4 VMs of one 1 MiB disk
# on 2 hosts; pushes to 2 and 4 hosts, 2 runs each). Checks it exits 0 and
# prints the table with every row and a ratio in each. No timing thresholds.
# Usage: center_bench_smoke_test.sh CENTER_BENCH
set -uo pipefail
BENCH=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0
bad() { failed=1; echo "FAIL: $*"; }

"$BENCH" --vms 4 --hosts 2 --disks-mib 1 --push-hosts 2,4 --runs 2 --dir "$TMP" > "$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
[ "$rc" -eq 0 ] || bad "center-bench exited $rc"
grep -q '^figure  *center  *reference  *ratio$' "$TMP/out" || bad "no table header"
for row in 'create 4 VMs, standard (KMS)' 'create 4 VMs, native' \
           'push 1 KEK to 2 hosts' 'push 1 KEK to 4 hosts'; do
  grep -F "$row " "$TMP/out" | grep -qE ' [0-9.]+x$' || bad "no row \"$row\" with a ratio"
done
[ -z "$(ls -A "$TMP" | grep -v '^out$')" ] || bad "the lab folder was left behind"
[ "$failed" -eq 0 ] && echo "center_bench_smoke: ok"
exit "$failed"
