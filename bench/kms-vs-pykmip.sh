#!/usr/bin/env bash
# kms-vs-pykmip.sh BUILD_DIR: the same kms-load scenarios against our key
# server and then against the PyKMIP server (Debian python3-pykmip), one after
# the other on this machine, side by side with the ratio. For information:
# no pass/fail on figures (docs/kms.md, "Performance").
#
# Scenarios, in this order on one server per side (CONNECTIONS clients,
# default 16, load tool on the same machine):
#   get       persistent connections, Get of a random preloaded AES-256 key
#             (among 1000 keys; 100 on PyKMIP)
#   create    persistent connections, durable Create of AES-256 keys into the
#             store as the Get run left it (about 1000 keys: a fresh server,
#             as PyKMIP's run is)
#   locate    LOCATE_CONNECTIONS (default 1: latency, not throughput) persistent
#             connection(s), Locate by name among N named keys, preloaded
#   create-big  durable Create again, now into the store of N keys
#   session   vCenter-style: new TLS connection (full handshake), Discover
#             Versions, Get, close
#   resumed   the same, each connection resuming the previous one's TLS session
# PyKMIP 0.10 is two orders of magnitude slower and has no Add Attribute: it
# gets shorter runs (PYKMIP_DURATION) and fewer objects (PYKMIP_LOCATE_OBJECTS).
#
# Environment: DURATION (s, ours, default 10), PYKMIP_DURATION (default 5),
# CONNECTIONS (16), LOCATE_CONNECTIONS (1), LOCATE_OBJECTS (ours, 100000),
# PYKMIP_LOCATE_OBJECTS (500).
# Exit status 1 if any run had errors (they are printed).
set -uo pipefail
BUILD=$(cd "${1:-build}" && pwd)
SRC="$(cd "$(dirname "$0")/.." && pwd)"
. "$SRC/tests/lib.sh"
VMCRYPT=$BUILD/vmcrypt
LOAD=$BUILD/bench/kms-load
DURATION=${DURATION:-10}
PYKMIP_DURATION=${PYKMIP_DURATION:-5}
CONNECTIONS=${CONNECTIONS:-16}
LOCATE_OBJECTS=${LOCATE_OBJECTS:-100000}
LOCATE_CONNECTIONS=${LOCATE_CONNECTIONS:-1}
PYKMIP_LOCATE_OBJECTS=${PYKMIP_LOCATE_OBJECTS:-500}
PY=/usr/bin/python3

for f in "$VMCRYPT" "$LOAD"; do
  [ -x "$f" ] || { echo "kms-vs-pykmip: $f not built (ninja -C $BUILD vmcrypt kms_load)"; exit 1; }
done
$PY -c 'import kmip' 2>/dev/null ||
  { echo "kms-vs-pykmip: python3-pykmip is not installed (Debian package python3-pykmip)"; exit 1; }

# Same disk as the build: fsync is part of a durable Create.
TMP=$(mktemp -d -p "$BUILD" kms_vs_pykmip.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null
  [ -f "$TMP/pykmip/server.pid" ] && $PY "$SRC/tests/pykmip/pykmip_server.py" stop --dir "$TMP/pykmip" > /dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
errors=0

# run SIDE SCENARIO ARGS...: one kms-load run, JSON kept in $TMP/SIDE-SCENARIO.json.
run() {
  local side=$1 scenario=$2; shift 2
  # Each scenario starts with no earlier run's writes still going to disk:
  # the million-key preload leaves gigabytes of dirty pages, which the
  # kernel otherwise writes back on the same 2 CPUs during the next runs.
  sync
  echo "   $side $scenario: kms-load $*" >&2
  if ! "$LOAD" "${AUTH[@]}" "$@" --json > "$TMP/$side-$scenario.json" 2> "$TMP/$side-$scenario.err"; then
    errors=1
    echo "   $side $scenario FAILED:" >&2
    sed 's/^/     /' "$TMP/$side-$scenario.err" >&2
  fi
}

# Locate runs first, on an empty server, so it searches among exactly N keys
# (each run preloads its own keys, named with a fresh random prefix).
scenarios() {  # SIDE DURATION LOCATE_N GET_N
  local side=$1 d=$2 n=$3 g=$4
  run "$side" get --connections "$CONNECTIONS" --duration "$d" --mix get=1 --preload "$g"
  run "$side" create --connections "$CONNECTIONS" --duration "$d" --mix create=1 --preload 0
  run "$side" locate --connections "$LOCATE_CONNECTIONS" --duration "$d" --mix locate=1 --preload "$n" --preload-batch 20
  run "$side" create-big --connections "$CONNECTIONS" --duration "$d" --mix create=1 --preload 0
  run "$side" session --connections "$CONNECTIONS" --duration "$d" --mode session --mix get=1 --preload "$g"
  run "$side" resumed --connections "$CONNECTIONS" --duration "$d" --mode session --resume --mix get=1 --preload "$g"
}

# --- our server
echo "== vmcrypt kms ($CONNECTIONS connections, ${DURATION} s per scenario, Locate among $LOCATE_OBJECTS)" >&2
"$VMCRYPT" kms init --dir "$TMP/ours" > "$TMP/init.out" 2>&1 || { cat "$TMP/init.out"; exit 1; }
"$VMCRYPT" kms serve --config "$TMP/ours/kms.toml" --listen 127.0.0.1:0 2> "$TMP/serve.log" &
SERVER_PID=$!
PORT=$(wait_for_port "$TMP/serve.log") || { echo "our server did not start:"; cat "$TMP/serve.log"; exit 1; }
AUTH=(--server "127.0.0.1:$PORT" --ca "$TMP/ours/ca.crt" --cert "$TMP/ours/clients/admin.crt"
      --key "$TMP/ours/clients/admin.key")
scenarios ours "$DURATION" "$LOCATE_OBJECTS" 1000
kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""

# --- PyKMIP, on its own afterwards
echo "== PyKMIP $($PY -c 'import kmip; print(kmip.__version__)') ($CONNECTIONS connections, ${PYKMIP_DURATION} s per scenario, Locate among $PYKMIP_LOCATE_OBJECTS)" >&2
if ! $PY "$SRC/tests/pykmip/pykmip_server.py" start --dir "$TMP/pykmip" > "$TMP/pykmip.json"; then
  echo "kms-vs-pykmip: the PyKMIP server did not start"; exit 1
fi
read -r PK_HOST PK_PORT PK_CA PK_CERT PK_KEY < <($PY -c '
import json, sys; j = json.load(open(sys.argv[1])); print(j["host"], j["port"], j["ca"], j["cert"], j["key"])' "$TMP/pykmip.json")
AUTH=(--server "$PK_HOST:$PK_PORT" --ca "$PK_CA" --cert "$PK_CERT" --key "$PK_KEY")
scenarios pykmip "$PYKMIP_DURATION" "$PYKMIP_LOCATE_OBJECTS" 100
$PY "$SRC/tests/pykmip/pykmip_server.py" stop --dir "$TMP/pykmip" > /dev/null 2>&1

$PY - "$TMP" "$CONNECTIONS" "$LOCATE_OBJECTS" "$PYKMIP_LOCATE_OBJECTS" "$LOCATE_CONNECTIONS" <<'PY'
import json, os, sys
tmp, conns, n_ours, n_py, lconns = sys.argv[1:6]
def row(side, scenario, op):
    try:
        report = json.load(open(os.path.join(tmp, "%s-%s.json" % (side, scenario))))
    except (OSError, ValueError):
        return None
    return next((r for r in report["ops"] if r["op"] == op), None)
lines = [
    ("Get, %s persistent conns" % conns, "get", "get", "ops/s"),
    ("Create (durable), %s conns" % conns, "create", "create", "ops/s"),
    ("Locate by name, %s conn%s" % (lconns, "" if lconns == "1" else "s"), "locate", "locate", "p99 ms"),
    ("  Create into the N keys", "create-big", "create", "ops/s"),
    ("vCenter sessions, %s conns" % conns, "session", "session", "ops/s"),
    ("  resuming TLS sessions", "resumed", "session", "ops/s"),
]
print("%-30s %-7s %12s %12s %9s" % ("scenario", "metric", "vmcrypt", "PyKMIP", "ratio"))
for label, scenario, op, metric in lines:
    a, b = row("ours", scenario, op), row("pykmip", scenario, op)
    for m in ([metric, "p99 ms"] if metric == "ops/s" else [metric, "ops/s"]):
        key = "ops_per_s" if m == "ops/s" else "p99_ms"
        va = a[key] if a and a["errors"] == 0 else None
        vb = b[key] if b and b["errors"] == 0 else None
        fmt = lambda v: "failed" if v is None else ("%.0f" % v if key == "ops_per_s" else "%.2f" % v)
        ratio = "-"
        if va and vb:
            # Higher is better for ops/s, lower for latency: ratio = how many times better we are.
            ratio = "%.0fx" % (va / vb if key == "ops_per_s" else vb / va)
        print("%-30s %-7s %12s %12s %9s" % (label if m == metric else "", m, fmt(va), fmt(vb), ratio))
def resumed_counts():
    out = []
    for side in ("ours", "pykmip"):
        try:
            report = json.load(open(os.path.join(tmp, "%s-resumed.json" % side)))
            out += [report["sessions_resumed"], next(r["count"] for r in report["ops"] if r["op"] == "session")]
        except (OSError, ValueError, StopIteration, KeyError):
            out += ["?", "?"]
    return tuple(out)
pre_a, pre_b = (json.load(open(os.path.join(tmp, "%s-locate.json" % side))) if os.path.exists(
    os.path.join(tmp, "%s-locate.json" % side)) else None for side in ("ours", "pykmip"))
if pre_a and pre_b and pre_a["preload_seconds"] > 0 and pre_b["preload_seconds"] > 0:
    ra = pre_a["preload"] / pre_a["preload_seconds"]
    rb = pre_b["preload"] / pre_b["preload_seconds"]
    print("%-30s %-7s %12.0f %12.0f %8.0fx" % ("Create, preload (16 conns)", "ops/s", ra, rb, ra / rb))
print("Get picks among 1000 keys (100 on PyKMIP), on a fresh server; Create follows it. Locate then")
print("searches among %s keys on vmcrypt, %s on PyKMIP (which scans every object), and Create runs" % (n_ours, n_py))
print("again, into those keys (the N of \"Create into the N keys\"). A session is a new TLS connection,")
print("Discover Versions, Get, close (like vCenter), with a full TLS handshake each time, or")
print("resuming the previous connection's TLS session (resumed: %s of %s sessions on vmcrypt, %s of %s" % resumed_counts())
print("on PyKMIP). PyKMIP gets shorter runs and has no Add Attribute in 0.10.")
print("ratio = how many times vmcrypt is better (ops/s up, latency down).")
PY
# Keep every run's JSON report (kms-load --json) next to the other benchmark results.
rm -rf "$BUILD/kms_vs_pykmip"
mkdir -p "$BUILD/kms_vs_pykmip" && cp "$TMP"/ours-*.json "$TMP"/pykmip-*.json "$BUILD/kms_vs_pykmip/" 2>/dev/null
echo "(every run's report: $BUILD/kms_vs_pykmip/*.json)"
exit $errors
