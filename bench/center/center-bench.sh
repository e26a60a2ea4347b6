#!/usr/bin/env bash
# center-bench.sh BUILD_DIR: the control plane's figures (README
# "Performance", center table), each side by side with the same work done
# without center, as a ratio from one run. For information only: no
# pass/fail on timings. See bench/center/center_bench.cc for what each
# figure and each reference is.
#
# The lab (built-in KMS, 4 + 64 in-process host agents, center) lives in a
# temp folder under BUILD_DIR, removed afterwards. Each agent locks its key
# cache in RAM (mlock): 64 push agents with 64 keys each need well under
# the usual 8 MiB `ulimit -l`.
# Environment: VMS (100), HOSTS (4), DISKS_MIB (64,16), PUSH_HOSTS
# (4,16,64), RUNS (5).
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
BENCH=$BUILD/bench/center-bench
[ -x "$BENCH" ] || { echo "center-bench.sh: $BENCH not built (ninja -C $BUILD center_bench)" >&2; exit 1; }
echo "(memlock limit $(ulimit -l) KiB; load average $(cut -d' ' -f1-3 /proc/loadavg) at start)"
"$BENCH" --vms "${VMS:-100}" --hosts "${HOSTS:-4}" --disks-mib "${DISKS_MIB:-64,16}" \
  --push-hosts "${PUSH_HOSTS:-4,16,64}" --runs "${RUNS:-5}" --dir "$BUILD"
echo "(load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
