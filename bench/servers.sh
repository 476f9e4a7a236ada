# Registry servers for the benchmarks: berth's and the CNCF distribution registry, each on a free
# loopback port, stopped by the script that started them (and all of them on exit). Sourced after
# lib.sh; uses $BERTH (prepare_berth), $BENCH_TMP and $DISTRIBUTION.
DISTRIBUTION=${DISTRIBUTION:-/usr/bin/docker-registry}
SERVER_PIDS=()
servers_cleanup() {
  local p
  for p in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
  bench_cleanup
}
trap servers_cleanup EXIT

# wait_up PORT PID NAME: until GET /v2/ answers (200, or 401 with auth), or the process dies.
wait_up() {
  local i
  for i in $(seq 1 200); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/v2/" && return 0
    kill -0 "$2" 2>/dev/null || { log "$3 exited at startup:"; cat "$BENCH_TMP/$3.$1.log" >&2; return 1; }
    sleep 0.05
  done
  log "$3 did not come up on port $1"
  return 1
}

# start_server KIND STORAGE: starts berth or distribution on a free port; sets PORT and PID.
# distribution's access log is off (berth keeps none): a line per request would cost it throughput.
start_server() {
  local kind=$1 storage=$2
  PORT=$(free_port)
  mkdir -p "$storage"
  if [ "$kind" = berth ]; then
    "$BERTH" --root "$BENCH_TMP/berth-root" --runroot "$BENCH_TMP/berth-run" registry serve \
      --addr "127.0.0.1:$PORT" --storage "$storage" >"$BENCH_TMP/$kind.$PORT.log" 2>&1 &
  else
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$storage" "$PORT" >"$BENCH_TMP/config.$PORT.yml"
    "$DISTRIBUTION" serve "$BENCH_TMP/config.$PORT.yml" >"$BENCH_TMP/$kind.$PORT.log" 2>&1 &
  fi
  PID=$!
  SERVER_PIDS+=("$PID")
  wait_up "$PORT" "$PID" "$kind"
}

stop_server() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${SERVER_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  SERVER_PIDS=("${keep[@]+"${keep[@]}"}")
}
