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

echo
echo "== crypto primitives: vmcrypt (whole call: fetch, context, key setup) vs openssl speed $(openssl version | cut -d' ' -f2)"
"$BUILD/bench/crypto_bench" --benchmark_format=json --benchmark_min_time=0.2 > "$BUILD/crypto_bench.json"
# `openssl speed -mr` prints "+F:<n>:<name>:<bytes per second>" for one size.
speed() { openssl speed -mr "$@" -seconds 1 2>/dev/null | awk -F: '/^\+F:/ { print $4; exit }'; }
KWP_REF=$(speed -evp id-aes256-wrap-pad -bytes 32)
GCM_REF=$(speed -aead -evp aes-256-gcm -bytes 4096)
HMAC_REF=$(speed -hmac sha256 -bytes 32)
XTS_REF=$(speed -evp aes-256-xts -bytes 4096)
/usr/bin/python3 - "$BUILD/crypto_bench.json" "$KWP_REF" "$GCM_REF" "$HMAC_REF" "$XTS_REF" <<'PY'
import json, sys
ours = {b["name"]: b["cpu_time"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
kwp, gcm, hmac, xts = (float(x) for x in sys.argv[2:6])
# openssl speed reports bytes/s at a fixed size; turn that into ns per operation.
rows = [
    ("AES-256-KWP wrap, 32 B key", "BM_AesKwpWrap32", 32 / kwp * 1e9,
     "speed -evp id-aes256-wrap-pad -bytes 32"),
    ("AES-256-GCM seal, 4 KiB", "BM_AesGcmSeal4K", 4096 / gcm * 1e9,
     "speed -aead -evp aes-256-gcm -bytes 4096"),
    # No `openssl speed` for KDFs: HKDF-SHA256 to 32 bytes is two HMAC-SHA256
    # calls (extract, one expand block) over short inputs.
    ("HKDF-SHA256, 32 B out", "BM_HkdfSha256_32", 2 * 32 / hmac * 1e9,
     "2 x speed -hmac sha256 -bytes 32"),
    # One 4 KiB sector per call, tweak set per sector (the disk's unit).
    ("XTS-AES-256 encrypt, 4 KiB", "BM_XtsAes256Encrypt/4096", 4096 / xts * 1e9,
     "speed -evp aes-256-xts -bytes 4096"),
]
print("%-28s %14s %14s %7s  %s" % ("operation", "vmcrypt ns/op", "openssl ns/op", "ratio", "reference"))
for label, key, ref_ns, how in rows:
    a = ours[key]
    print("%-28s %14.0f %14.0f %6.2fx  %s" % (label, a, ref_ns, a / ref_ns, how))
print("ratio = vmcrypt time / openssl time (1.00x = same cost; openssl speed reuses one keyed context)")
PY

echo
echo "== Store (SQLite, WAL, every commit fdatasync'ed before it is answered): vmcrypt vs sqlite3 $(sqlite3 --version | cut -d' ' -f1) CLI, one durable INSERT per transaction"
STORE_TMP=$(mktemp -d -p "$BUILD" store_bench.XXXXXX)  # same disk as the build: fsync is the cost
trap 'rm -rf "$STORE_TMP"' EXIT
VMCRYPT_BENCH_DIR="$STORE_TMP" "$BUILD/bench/store_bench" --benchmark_format=json --benchmark_min_time=0.5 > "$BUILD/store_bench.json"
/usr/bin/python3 - "$STORE_TMP/ref.db" > "$BUILD/sqlite3_cli_ref.json" <<'PY'
import json, subprocess, sys, time
N = 2000
sql = ["PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;",
       "CREATE TABLE t(uid TEXT PRIMARY KEY, attributes BLOB);"]
sql += ["INSERT INTO t VALUES('uid-%d', zeroblob(300));" % i for i in range(N)]
start = time.perf_counter()
subprocess.run(["sqlite3", sys.argv[1]], input="\n".join(sql), text=True, check=True,
               stdout=subprocess.DEVNULL)
print(json.dumps({"inserts": N, "seconds": time.perf_counter() - start}))
PY
/usr/bin/python3 - "$BUILD/store_bench.json" "$BUILD/sqlite3_cli_ref.json" <<'PY'
import json, sys
ours = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
ref = json.load(open(sys.argv[2]))
ref_rate = ref["inserts"] / ref["seconds"]
print("%-44s %12s %12s" % ("operation", "per second", "vs sqlite3"))
print("%-44s %12.0f %11.2fx" % ("sqlite3 CLI: INSERT, 1 commit (fsync) each", ref_rate, 1.0))
for threads in (1, 16):
    b = ours["BM_InsertDurable/real_time/threads:%d" % threads]
    rate = b["items_per_second"]
    print("%-44s %12.0f %11.2fx" % ("vmcrypt Insert, %d thread%s (%.1f per commit)" % (
        threads, "s" if threads > 1 else "", b.get("writes_per_commit", 1)), rate, rate / ref_rate))
for name, label in (("BM_GetByUid/real_time", "vmcrypt Get by uid (100k objects)"),
                    ("BM_LocateByName/real_time", "vmcrypt Locate Name= (100k objects)"),
                    ("BM_LocateByStatePage50/real_time", "vmcrypt Locate State=, 50 of 33k")):
    b = ours[name]
    print("%-44s %12.0f %12s   (%.1f us/op)" % (label, b["items_per_second"], "", b["real_time"] / 1e3))
PY

echo
echo "== Key server under load: vmcrypt kms vs PyKMIP $(/usr/bin/python3 -c 'import kmip; print(kmip.__version__)') (kms-load, same machine, one after the other)"
# LOCATE_OBJECTS=1000000 for the figure in the README (the preload then takes minutes).
bash "$SRC/bench/kms-vs-pykmip.sh" "$BUILD"
echo
echo "== CPU per vCenter-style session (new TLS connection, Discover Versions, close), one at a time"
# Steadier than kms-load's sessions/s on a shared machine: CPU time, not rate.
VMCRYPT_BENCH_DIR="$STORE_TMP" "$BUILD/bench/kms-session-bench" --benchmark_format=json \
  --benchmark_min_time=1 > "$BUILD/kms_session_bench.json"
/usr/bin/python3 - "$BUILD/kms_session_bench.json" <<'PY'
import json, sys
print("%-34s %14s %14s" % ("session", "server CPU us", "client CPU us"))
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    label = "resuming the last TLS session" if b["name"].endswith("resume:1") else "full TLS handshake"
    print("%-34s %14.0f %14.0f" % (label, b["server_us"], b["client_us"]))
PY

echo
echo "== Encrypted disks (bench/disk/disk-bench.sh: XTS vs openssl speed; 1 GiB through NBD vs qemu LUKS vs nbdkit; deep rekey)"
bash "$SRC/bench/disk/disk-bench.sh" "$BUILD"

echo
echo "== Control plane (bench/center/center-bench.sh: center vs the same work without it)"
bash "$SRC/bench/center/center-bench.sh" "$BUILD"
