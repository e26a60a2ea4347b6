#!/usr/bin/env bash
# `make bench`: every benchmark, with its reference side by side as a ratio
# from one run. Figures are for information; no pass/fail on timings.
set -euo pipefail
BUILD=${1:-build}
SRC="$(cd "$(dirname "$0")/.." && pwd)"

echo "== TTLV codec: vmcrypt vs PyKMIP $(/usr/bin/python3 -c 'import kmip; print(kmip.__version__)') (same bytes)"
"$BUILD/bench/ttlv_bench" --benchmark_format=json --benchmark_min_time=0.2 > "$BUILD/ttlv_bench.json"
/usr/bin/python3 "$SRC/bench/pykmip_codec_bench.py" > "$BUILD/pykmip_codec.json"
/usr/bin/python3 - "$BUILD/ttlv_bench.json" "$BUILD/pykmip_codec.json" <<'PY'
import json, sys
ours = {b["name"]: b["cpu_time"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
ref = json.load(open(sys.argv[2]))
names = ["Create request (vCenter)", "Get response (AES-256 key)", "Locate response (50 ids)"]
print("%-28s %-7s %14s %14s %9s" % ("message", "op", "vmcrypt ns/op", "PyKMIP ns/op", "speed-up"))
for i, name in enumerate(names):
    for op, key in (("decode", "BM_Decode/%d" % i), ("encode", "BM_Encode/%d" % i)):
        a, b = ours[key], ref[op][i]
        print("%-28s %-7s %14.0f %14.0f %8.0fx" % (name, op, a, b, b / a))
PY
