#!/usr/bin/env bash
# kms_session_bench_smoke: runs kms-session-bench briefly; checks it reports
# CPU on both sides for full and resumed sessions, and that the resumed ones
# did resume (every one of them), and that it removed its server's folder.
# No timing thresholds.
# Usage: kms_session_bench_smoke_test.sh KMS_SESSION_BENCH
set -uo pipefail
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if ! VMCRYPT_BENCH_DIR=$TMP "$1" --benchmark_format=json --benchmark_min_time=0.05 \
    > "$TMP/out.json" 2> "$TMP/err"; then
  echo "FAIL: kms-session-bench exited with an error:"; cat "$TMP/err"; exit 1
fi
if compgen -G "$TMP/kms_session_bench.*" > /dev/null; then
  echo "FAIL: kms-session-bench left its server folder behind"; exit 1
fi
/usr/bin/python3 - "$TMP/out.json" <<'PY'
import json, sys
rows = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
failed = False
for name, resumed in (("BM_Session/resume:0", 0.0), ("BM_Session/resume:1", 1.0)):
    b = rows.get(name)
    if b is None:
        print("FAIL: no row", name); failed = True; continue
    if not (b["server_us"] > 0 and b["client_us"] > 0):
        print("FAIL: %s: no CPU time on a side: %r" % (name, b)); failed = True
    if b["resumed"] != resumed:
        print("FAIL: %s: resumed share %s, expected %s" % (name, b["resumed"], resumed)); failed = True
    print("%s: %d sessions, server %.0f us, client %.0f us, resumed %.2f" % (
        name, b["iterations"], b["server_us"], b["client_us"], b["resumed"]))
sys.exit(1 if failed else 0)
PY
