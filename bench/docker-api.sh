#!/usr/bin/env bash
# docker-api: the Docker Engine API as clients see it, through each engine's socket with the same
# docker CLI (28.2) and docker-compose 1.29: `docker run --rm --network none busybox true`,
# `docker ps -a` with CONTAINERS containers, `docker images` with IMAGES tags, compose `up -d` /
# `down -v` of the issue's two-service project, and each service's memory: RSS and PSS when idle
# with the test image loaded, and its peak RSS while 50 `docker ps` run at once (CONTAINERS
# containers present). The engines are berth's `system service` and the anchors, dockerd 20.10 and
# podman 4.3's `system service`, each started privately (bench/docker-engine.mjs, as the tests
# start them). Ratios are anchor/berth: above 1, berth is faster (or smaller).
#
# The memory counted is the service's: berth's node process, podman's `system service` process, and
# dockerd with the containerd it starts and supervises (no system containerd runs here; dockerd
# alone is logged too). Per-container processes (conmon, containerd-shim) are not counted: none
# runs while memory is measured.
#
#   bash bench/docker-api.sh     # RUNS=10, CONTAINERS=500, IMAGES=100, COMPOSE_RUNS=3, PS_CLIENTS=50
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
CONTAINERS=${CONTAINERS:-500}
IMAGES=${IMAGES:-100}
COMPOSE_RUNS=${COMPOSE_RUNS:-3}
PS_CLIENTS=${PS_CLIENTS:-50}
ENGINES=(berth dockerd podman)
[ -f "$REPO_DIR/dist/lib/testing/docker-engines.js" ] || { log "build first (npm run build)"; exit 1; }

# Each engine's starter runs in the background with a FIFO as its stdin: closing it (or SIGTERM)
# stops the engine and removes what it made.
declare -A ENGINE_PID ENGINE_FD ENGINE_HOST ENGINE_CONFIG
SAMPLER_PID=
api_cleanup() {
  local k
  if [ -n "$SAMPLER_PID" ]; then kill -TERM "$SAMPLER_PID" 2>/dev/null || true; fi
  for k in "${!ENGINE_PID[@]}"; do
    kill -TERM "${ENGINE_PID[$k]}" 2>/dev/null || true
    wait "${ENGINE_PID[$k]}" 2>/dev/null || true
  done
  bench_cleanup
}
trap api_cleanup EXIT

start_engine() {
  local kind=$1 fifo=$BENCH_TMP/$1.stdin out=$BENCH_TMP/$1.json
  mkfifo "$fifo"
  node "$BENCH_DIR/docker-engine.mjs" "$kind" <"$fifo" >"$out" 2>"$BENCH_TMP/$kind.log" &
  ENGINE_PID[$kind]=$!
  exec {fd}>"$fifo"
  ENGINE_FD[$kind]=$fd
  local i
  for i in $(seq 1 600); do
    if [ -s "$out" ]; then
      # Read once: a node process per docker call would add its startup to every timed command.
      ENGINE_HOST[$kind]=$(engine_field "$kind" DOCKER_HOST)
      ENGINE_CONFIG[$kind]=$(engine_field "$kind" DOCKER_CONFIG)
      return 0
    fi
    kill -0 "${ENGINE_PID[$kind]}" 2>/dev/null || { cat "$BENCH_TMP/$kind.log" >&2; return 1; }
    sleep 0.1
  done
  log "$kind did not start"
  return 1
}

engine_field() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(j[process.argv[2]])' "$BENCH_TMP/$1.json" "$2"; }

# d KIND ARGS...: the docker CLI against that engine.
d() {
  local kind=$1
  shift
  DOCKER_HOST=${ENGINE_HOST[$kind]} DOCKER_CONFIG=${ENGINE_CONFIG[$kind]} docker "$@"
}

# service_pids KIND: the processes whose memory is the service's (see the header).
service_pids() {
  local pid c
  pid=$(engine_field "$1" pid)
  echo "$pid"
  if [ "$1" = dockerd ]; then
    for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
      [ "$(cat "/proc/$c/comm" 2>/dev/null)" = containerd ] && echo "$c"
    done
  fi
  return 0
}

# ps_storm KIND PIDS...: PS_CLIENTS `docker ps` at once against KIND while PIDS' summed VmRSS is
# sampled every 20 ms; sets STORM[KIND] to "PEAK_KB WALL_MS HWM_KB" (not a $(...) subshell, so
# that api_cleanup sees SAMPLER_PID). A failed client aborts the benchmark.
ps_storm() {
  local kind=$1 t0 t1 i rc=0 peak= samples= hwm=
  shift
  node "$BENCH_DIR/peak-rss.mjs" 20 "$@" >"$BENCH_TMP/peak.out" &
  SAMPLER_PID=$!
  sleep 0.2
  local clients=()
  t0=$EPOCHREALTIME
  for i in $(seq 1 "$PS_CLIENTS"); do
    d "$kind" ps >/dev/null 2>"$BENCH_TMP/storm.$i.err" &
    clients+=($!)
  done
  for i in "${!clients[@]}"; do
    wait "${clients[$i]}" || { rc=$?; log "docker ps $((i + 1)) of $PS_CLIENTS failed ($rc):"; cat "$BENCH_TMP/storm.$((i + 1)).err" >&2; }
  done
  t1=$EPOCHREALTIME
  sleep 0.1
  kill -TERM "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" || true
  SAMPLER_PID=
  [ "$rc" -eq 0 ] || return "$rc"
  read -r peak samples hwm <"$BENCH_TMP/peak.out"
  log "$kind: $PS_CLIENTS x docker ps: peak RSS $peak kB over $samples samples (VmHWM sum $hwm kB)"
  STORM[$kind]="$peak $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }') $hwm"
}

# The engine's own CLI (podman's healthcheck timer needs systemd, absent here: compose's
# service_healthy would wait forever, so a loop runs the check, as in src/api/compose.e2e.test.ts).
engine_cli() {
  local kind=$1
  shift
  node -e '
    const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).cli;
    const r = require("child_process").spawnSync(j.cmd, [...j.args, ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, ...j.env } });
    process.exit(r.status ?? 1);' "$BENCH_TMP/$kind.json" "$@"
}

write_compose_project() {
  local dir=$1 port=$2
  mkdir -p "$dir/api"
  printf 'FROM busybox:latest\nCOPY start.sh /start.sh\nRUN chmod +x /start.sh\nCMD ["/start.sh"]\n' >"$dir/api/Dockerfile"
  printf '#!/bin/sh\nmkdir -p /data\necho "$GREETING from api" > /data/index.html\nexec httpd -f -p 8080 -h /data\n' >"$dir/api/start.sh"
  cat >"$dir/docker-compose.yml" <<YAML
version: "2.4"
services:
  api:
    build: ./api
    image: benchapi:latest
    init: true
    environment:
      GREETING: hello
    volumes: [pages:/data]
    networks: [back]
    healthcheck:
      test: ["CMD", "test", "-s", "/data/index.html"]
      interval: 1s
      retries: 30
  web:
    image: busybox:latest
    init: true
    depends_on:
      api:
        condition: service_healthy
    ports: ["127.0.0.1:$port:80"]
    volumes: ["pages:/www:ro"]
    networks: [back]
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
volumes:
  pages: {}
networks:
  back: {}
YAML
}

declare -A RUN_MS PS_MS IMAGES_MS UP_MS DOWN_MS IDLE_KB STORM
for kind in "${ENGINES[@]}"; do
  log "== $kind: starting"
  start_engine "$kind"
  # Idle: the image loaded, nothing asked of the service for a few seconds.
  sleep 3
  mapfile -t pids < <(service_pids "$kind")
  IDLE_KB[$kind]=$(monitor_kb "${pids[@]}")
  log "$kind idle (pids ${pids[*]}): RSS PSS kB ${IDLE_KB[$kind]}$([ "${#pids[@]}" -gt 1 ] && echo "; ${pids[0]} alone: $(monitor_kb "${pids[0]}")")"
  d "$kind" run --rm --network none busybox true >/dev/null # first use, untimed
  ms=()
  for i in $(seq 1 "$RUNS"); do ms+=("$(time_ms d "$kind" run --rm --network none busybox true)"); done
  RUN_MS[$kind]="${ms[*]}"
  log "$kind run --rm: ${ms[*]}"

  log "$kind: creating $CONTAINERS containers and $IMAGES tags"
  for i in $(seq 1 "$CONTAINERS"); do d "$kind" create --network none busybox true >/dev/null; done
  for i in $(seq 1 "$IMAGES"); do d "$kind" tag busybox:latest "bench/tagged$i:latest"; done
  ms=()
  for i in $(seq 1 5); do ms+=("$(time_ms d "$kind" ps -a)"); done
  PS_MS[$kind]="${ms[*]}"
  ms=()
  for i in $(seq 1 5); do ms+=("$(time_ms d "$kind" images)"); done
  IMAGES_MS[$kind]="${ms[*]}"
  ps_storm "$kind" "${pids[@]}"
  d "$kind" container prune -f >/dev/null

  proj=$BENCH_TMP/compose-$kind
  write_compose_project "$proj" "$(free_port)"
  dc() { DOCKER_HOST=${ENGINE_HOST[$kind]} docker-compose -p benchapi -f "$proj/docker-compose.yml" --ansi never "$@"; }
  DOCKER_BUILDKIT=0 d "$kind" build -q -t benchapi:latest "$proj/api" >/dev/null
  ups=() downs=()
  for i in $(seq 1 "$COMPOSE_RUNS"); do
    hc=
    if [ "$kind" = podman ]; then
      (while sleep 1; do engine_cli podman healthcheck run benchapi_api_1 >/dev/null 2>&1 || true; done) &
      hc=$!
    fi
    ups+=("$(time_ms dc up -d)")
    [ -n "$hc" ] && { kill "$hc"; wait "$hc" 2>/dev/null || true; }
    downs+=("$(time_ms dc down -v)")
  done
  UP_MS[$kind]="${ups[*]}"
  DOWN_MS[$kind]="${downs[*]}"
  log "$kind compose up: ${ups[*]}; down: ${downs[*]}"

  exec {ENGINE_FD[$kind]}>&-
  kill -TERM "${ENGINE_PID[$kind]}" 2>/dev/null || true
  wait "${ENGINE_PID[$kind]}" 2>/dev/null || true
  unset "ENGINE_PID[$kind]"
done

# The reference for the ratios: berth.
ref=berth
report() {
  local title=$1 name=$2
  local -n table=$name
  echo "== $title (load average before: $LOAD_BEFORE)"
  local kind
  # shellcheck disable=SC2086
  for kind in "${ENGINES[@]}"; do summary "$kind" ${table[$kind]}; done
  # shellcheck disable=SC2086
  for kind in "${ENGINES[@]}"; do
    [ "$kind" = "$ref" ] && continue
    echo "ratio $kind/$ref $(printf '%*s' $((13 - ${#kind} - ${#ref})) '')$(ratio "$(median ${table[$kind]})" "$(median ${table[$ref]})")"
  done
}
report "docker run --rm --network none busybox true, n=$RUNS" RUN_MS
report "docker ps -a with $CONTAINERS containers, n=5" PS_MS
report "docker images with $IMAGES tags, n=5" IMAGES_MS
report "docker-compose up -d (two services, build cached), n=$COMPOSE_RUNS" UP_MS
report "docker-compose down -v, n=$COMPOSE_RUNS" DOWN_MS

# Memory: MB, and anchor/berth (above 1: berth uses less).
mb_row() {
  local label=$1 name=$2 field=$3 kind line=
  local -n values=$name
  for kind in "${ENGINES[@]}"; do
    read -ra f <<<"${values[$kind]}"
    line+=$(printf '  %s %6s MB' "$kind" "$(kb_to_mb "${f[$field]}")")
  done
  read -ra b <<<"${values[$ref]}"
  for kind in "${ENGINES[@]}"; do
    [ "$kind" = "$ref" ] && continue
    read -ra f <<<"${values[$kind]}"
    line+="  $kind/$ref $(ratio "${f[$field]}" "${b[$field]}")"
  done
  printf '%-34s%s\n' "$label" "$line"
}
echo "== service memory (dockerd: with its containerd)"
mb_row "idle RSS" IDLE_KB 0
mb_row "idle PSS" IDLE_KB 1
mb_row "peak RSS, $PS_CLIENTS docker ps at once" STORM 0
mb_row "  (VmHWM sum)" STORM 2
for kind in "${ENGINES[@]}"; do
  read -ra f <<<"${STORM[$kind]}"
  echo "$kind: $PS_CLIENTS docker ps at once ($CONTAINERS containers, none running) took ${f[1]} ms"
done
