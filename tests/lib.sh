# Shared by the shell tests and bench scripts (sourced).

# wait_for_port LOG [NOT]: waits up to 10 s until LOG holds "listening on
# 127.0.0.1:PORT" with a PORT other than NOT (a restarted server appending to
# the same log), then prints PORT. Prints nothing and fails otherwise.
wait_for_port() {
  local log=$1 not=${2:-} port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$log" 2> /dev/null | tail -1)
    [ -n "$port" ] && [ "$port" != "$not" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}
