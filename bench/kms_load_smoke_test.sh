#!/usr/bin/env bash
# kms_load_smoke: starts our key server on 127.0.0.1:0 and runs kms-load for
# 2 seconds with 4 connections in each mode and all five operations; checks
# the report is well formed, every operation ran, and nothing failed. No
# timing thresholds. Usage: kms_load_smoke_test.sh VMCRYPT KMS_LOAD
set -uo pipefail
VMCRYPT=$1
. "$(dirname "$0")/../tests/lib.sh"
KMS_LOAD=$2
TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
failed=0
bad() { failed=1; echo "FAIL: $*"; }

D=$TMP/kms
"$VMCRYPT" kms init --dir "$D" > "$TMP/init.out" 2>&1 || { cat "$TMP/init.out"; exit 1; }
"$VMCRYPT" kms serve --config "$D/kms.toml" --listen 127.0.0.1:0 2> "$TMP/serve.log" &
SERVER_PID=$!
PORT=$(wait_for_port "$TMP/serve.log") || { echo "server did not start:"; cat "$TMP/serve.log"; exit 1; }

LOAD=("$KMS_LOAD" --server "127.0.0.1:$PORT" --ca "$D/ca.crt" --cert "$D/clients/admin.crt"
      --key "$D/clients/admin.key" --connections 4)
MIX=get=40,get_attributes=20,locate=20,add_attribute=10,create=10

# check_json FILE MODE DRIVER: every row present with count > 0, zero errors.
check_json() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
mode, driver = sys.argv[2], sys.argv[3]
want = ["get", "get_attributes", "locate", "add_attribute", "create"]
if mode == "session":
    want += ["connect_discover", "session"]
rows = {r["op"]: r for r in report["ops"]}
problems = []
if report["mode"] != mode or report["connections"] != 4 or report["preload"] != 300 or report["driver"] != driver:
    problems.append("header does not match the command line: %r" % {k: report[k] for k in ("mode", "connections", "preload", "driver")})
if not 1.5 < report["seconds"] < 60:
    problems.append("run took %s s for --duration 2" % report["seconds"])
for op in want:
    r = rows.get(op)
    if r is None:
        problems.append("no row for " + op)
        continue
    if r["count"] <= 0 or r["errors"] != 0:
        problems.append("%s: count %d, errors %d %s" % (op, r["count"], r["errors"], r.get("first_error", "")))
    if not 0 < r["p50_ms"] <= r["p99_ms"] <= r["p999_ms"] <= r["max_ms"]:
        problems.append("%s: percentiles out of order: %r" % (op, r))
    if abs(r["ops_per_s"] * report["seconds"] - r["count"]) > 1:
        problems.append("%s: ops/s does not match count / seconds" % op)
extra = set(rows) - set(want)
if extra:
    problems.append("unexpected rows: %s" % sorted(extra))
if mode == "session" and rows.get("session", {}).get("count") != sum(rows[o]["count"] for o in want[:5] if o in rows):
    problems.append("session count != sum of operation counts")
# Full handshakes resume nothing; with --resume, every session after each
# connection's first resumes the one before.
sessions = rows.get("session", {}).get("count", 0)
resumed = report["sessions_resumed"]
if mode == "session" and report["resume"] and resumed < sessions - report["connections"]:
    problems.append("--resume: only %d of %d sessions resumed" % (resumed, sessions))
if not report["resume"] and resumed != 0:
    problems.append("%d sessions resumed without --resume" % resumed)
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PY
}

# Persistent connections through the event loop (the default) and with a
# thread each; session mode (always a thread per connection).
for run in "persistent||4 epoll threads" "persistent|--thread-per-connection|a thread per connection" \
           "session||a thread per connection" "session|--resume|a thread per connection"; do
  IFS='|' read -r mode flag driver <<< "$run"
  name=$mode$flag
  "${LOAD[@]}" --mode "$mode" $flag --duration 2 --preload 300 --preload-batch 50 --mix "$MIX" --json \
    > "$TMP/$name.json" 2> "$TMP/$name.err"
  status=$?
  [ $status -eq 0 ] || bad "$name: kms-load exit status $status: $(cat "$TMP/$name.err")"
  check_json "$TMP/$name.json" "$mode" "$driver" || { bad "$name: report"; cat "$TMP/$name.json"; }
done

# The human table: a header and one row per operation, then the total.
"${LOAD[@]}" --mode persistent --duration 1 --preload 20 --mix "$MIX" > "$TMP/table.txt" 2> "$TMP/table.err"
status=$?
[ $status -eq 0 ] || bad "table run: exit status $status: $(cat "$TMP/table.err")"
grep -Eq '^op +count +ops/s +p50 ms +p99 ms +p99.9 ms +max ms +errors$' "$TMP/table.txt" ||
  bad "table header missing"
for op in get get_attributes locate add_attribute create "all operations"; do
  grep -Eq "^$op +[1-9][0-9]* +[0-9.]+ .* 0$" "$TMP/table.txt" || bad "table row for $op"
done

# Errors are reported, not hidden: a server killed in the middle of an
# event-loop run ends it promptly with its connections' errors counted.
"${LOAD[@]}" --mode persistent --duration 20 --preload 20 --mix get=1 --timeout 5 \
  > "$TMP/killed.txt" 2> "$TMP/killed.err" &
LOAD_PID=$!
sleep 2
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""
t0=$(date +%s)
wait "$LOAD_PID"
status=$?
[ $status -eq 1 ] && grep -q "get error(s), first: .*closed by the server" "$TMP/killed.err" &&
  [ $(( $(date +%s) - t0 )) -lt 10 ] ||
  bad "a server killed mid-run must end the run with errors (status $status: $(cat "$TMP/killed.err"))"

# A Get on a server that is gone fails the run.
"${LOAD[@]}" --mode persistent --duration 0.5 --preload 0 --mix create=1 --timeout 2 \
  > "$TMP/down.txt" 2> "$TMP/down.err"
[ $? -eq 1 ] && grep -q "kms-load:" "$TMP/down.err" || bad "a dead server must fail the run"

# Bad arguments are refused with a message.
"${LOAD[@]}" --mix get=1,teleport=2 > /dev/null 2> "$TMP/badmix.err"
[ $? -eq 1 ] && grep -q "unknown operation 'teleport'" "$TMP/badmix.err" || bad "unknown op in --mix"

if [ $failed -ne 0 ]; then
  echo "--- server log (tail)"; tail -20 "$TMP/serve.log"
  exit 1
fi
echo "kms_load_smoke: all checks passed"
