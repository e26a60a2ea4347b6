# Shared by the center shell tests (sourced): process start/stop with the
# port read from the process's log, check(), json().
# The caller defines TMP and the PIDS associative array.
passed=0
failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# start NAME LOG PATTERN CMD...: runs CMD in the background, waits until LOG
# holds PATTERN followed by a port, sets PORT (exits the test if the process
# dies or never logs it).
start() {
  local name=$1 log=$2 pattern=$3
  shift 3
  : > "$log"
  "$@" 2>> "$log" > /dev/null &
  PIDS[$name]=$!
  PORT=""
  for _ in $(seq 150); do
    PORT=$(sed -n "s|.*$pattern\([0-9][0-9]*\).*|\1|p" "$log" | tail -1)
    [ -n "$PORT" ] && return 0
    kill -0 "${PIDS[$name]}" 2> /dev/null || break
    sleep 0.1
  done
  echo "FAIL: $name did not start:"
  cat "$log"
  exit 1
}
# stop NAME: SIGTERM and wait.
stop() {
  kill "${PIDS[$1]}" 2> /dev/null
  wait "${PIDS[$1]}" 2> /dev/null
  unset "PIDS[$1]"
}
