#!/usr/bin/env bash
# Runs one fuzz target for SECONDS on a copy of its seed corpus; fails on any
# crash, leak, sanitizer report or round-trip abort.
# Usage: run_fuzzer.sh FUZZ_BUILD_DIR NAME SEEDS_DIR SECONDS
set -euo pipefail
DIR=$1
NAME=$2
SEEDS=$3
SECONDS_=$4
BIN="$DIR/fuzz/$NAME"
[ -x "$BIN" ] || { echo "$BIN is not built (run fuzz/build.sh)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus" "$WORK/artifacts"
cp -r "$SEEDS/$NAME/." "$WORK/corpus/"
echo "$NAME: $(ls "$WORK/corpus" | wc -l) seeds, ${SECONDS_}s"
set +e
"$BIN" -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$WORK/artifacts/" "$WORK/corpus" 2>&1 | tail -n 20
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ] || [ -n "$(ls -A "$WORK/artifacts")" ]; then
  mkdir -p "$DIR/crashes"
  cp -r "$WORK/artifacts/." "$DIR/crashes/" 2>/dev/null || true
  echo "$NAME: FAILED (exit $status); reproducers in $DIR/crashes" >&2
  exit 1
fi
echo "$NAME: no crash in ${SECONDS_}s"
