#!/usr/bin/env bash
# floor: what berth cannot go under on this machine, beside the goals of issues 14, 15 and 16 that
# are set against podman. Each goal is a time or a memory figure of podman's; each floor is made of
# parts berth cannot do without, measured here in the same minutes:
#
#   - Node's own start: `node -e 0`, and `node` on an empty ES module (berth's CLI is one).
#   - berth's least command: `berth version` (the launcher, Node, the CLI's parse, one line out).
#     Every other command loads this much and more before its own work.
#   - The OCI runtime's part of a container's life: `crun create`, `crun start` and
#     `crun delete -f` of busybox `true`, on berth's own config.json (with the compiled seccomp
#     program berth gives crun) and a plain directory as its root: the programs podman runs too,
#     without conmon, the mount or any record. One `sh` runs the three (its forks are counted).
#   - podman's own figures: `create`, `rm` (of a created container), `run --rm`.
#   - Rootless (issue 16; ROOTLESS=0 skips it), as a user made for the run (bench/rootless-user.sh):
#     `berth version`, the same three runtime calls inside the user's namespace (joined with
#     nsenter, as berth's launcher joins it; the join alone is timed and taken off), and rootless
#     podman's `run --rm`.
#   - Memory: the RSS of an idle HTTP server on a unix socket in bare Node (a CommonJS script, and
#     an ES module), of berth's API service and of podman's, each after one `_ping`.
#
# The commands alternate, RUNS rounds each (load from other work falls on all alike). The report
# sets each goal beside its floor: a floor above the goal means berth's command line as it is
# cannot meet it here (its least command already takes longer than podman's whole one).
#
#   bash bench/floor.sh              # RUNS=20, ROOTLESS=1
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/rootless-user.sh"

RUNS=${RUNS:-20}
ROOTLESS=${ROOTLESS:-1}
CRUN=${CRUN:-crun}
prepare_berth
for t in "$PODMAN" "$CRUN" node curl setpriv nsenter newuidmap; do
  command -v "$t" >/dev/null || { log "floor: $t is not installed"; exit 1; }
done

SERVICE_PIDS=()
floor_cleanup() {
  local p
  for p in "${SERVICE_PIDS[@]+"${SERVICE_PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SERVICE_PIDS[@]+"${SERVICE_PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$RL_NAME" ]; then
    bt_rl bt rm -af -t 0 >/dev/null 2>&1 || true
    rootless_user_remove
  fi
  if [ -d "${CRUN_ROOT:-}" ]; then
    for id in $("$CRUN" --root "$CRUN_ROOT" list -q 2>/dev/null); do "$CRUN" --root "$CRUN_ROOT" delete -f "$id" >/dev/null 2>&1 || true; done
  fi
  containers_cleanup
}
trap floor_cleanup EXIT

busybox_stores
# podman here needs its rlimits under the hard limits (see lib.sh).
podman_limits_conf

# --- the runtime's bundle: berth's config.json for busybox `true` --------------------------------------
# A first run leaves crun's compiled seccomp program for the profile; the next create is given it.
"${B[@]}" run --rm --network none busybox true
id=$("${B[@]}" run -d --network none busybox sleep 1000)
config=$bd/root/containers/$id/userdata/config.json
[ -f "$config" ] || { log "floor: no config.json at $config"; exit 1; }
# bundle_config CONFIG BUNDLE: BUNDLE/config.json with CONFIG's settings, but BUNDLE/rootfs for its
# root, `true` for its process, no terminal, and none of the bind mounts from the container's own
# directory (hosts, resolv.conf…). CONFIG must carry the compiled seccomp program.
bundle_config() {
  node -e '
    const fs = require("node:fs");
    const [from, bundle] = process.argv.slice(1);
    const containerDir = from.slice(0, from.lastIndexOf("/userdata/"));
    const c = JSON.parse(fs.readFileSync(from, "utf8"));
    if (!c.annotations?.["run.oci.seccomp_bpf_data"]) throw new Error(`${from} carries no compiled seccomp program`);
    c.root.path = `${bundle}/rootfs`;
    c.process.args = ["true"];
    c.process.terminal = false;
    c.mounts = c.mounts.filter((m) => !String(m.source ?? "").startsWith(containerDir));
    fs.writeFileSync(`${bundle}/config.json`, JSON.stringify(c));
  ' "$1" "$2"
}
BUNDLE=$BENCH_TMP/bundle
mkdir -p "$BUNDLE/rootfs"
tar -xf "$TARBALL" -C "$BUNDLE/rootfs"
bundle_config "$config" "$BUNDLE"
"${B[@]}" rm -f -t 0 "$id" >/dev/null
CRUN_ROOT=$BENCH_TMP/crun
mkdir -p "$CRUN_ROOT"
# The runtime's three calls on a bundle, from one sh: CYCLE CRUN ROOT BUNDLE ID.
CYCLE=(sh -c 'r="$1 --root $2"; $r create --bundle "$3" "$4" && $r start "$4" && $r delete -f "$4"' runtime-cycle)
runtime_cycle() { "${CYCLE[@]}" "$CRUN" "$CRUN_ROOT" "$BUNDLE" "floor-$1"; }
runtime_cycle warmup >/dev/null

# --- times ---------------------------------------------------------------------------------------------
EMPTY_MJS=$BENCH_TMP/empty.mjs
: >"$EMPTY_MJS"
# One of each first, untimed (podman's first command sets up its store).
"${PM[@]}" create "${PODMAN_LIMITS[@]}" --network none busybox true >/dev/null 2>&1
"${B[@]}" create --network none busybox true >/dev/null
"${PM[@]}" run --rm "${PODMAN_LIMITS[@]}" --network none busybox true 2>/dev/null

node_ms=() esm_ms=() version_ms=() cycle_ms=() pm_create=() pm_rm=() pm_run=() bt_create=() bt_rm=() bt_run=()
for i in $(seq 1 "$RUNS"); do
  node_ms+=("$(time_ms node -e 0)")
  esm_ms+=("$(time_ms node "$EMPTY_MJS")")
  version_ms+=("$(time_ms "${B[@]}" version)")
  cycle_ms+=("$(time_ms runtime_cycle "$i")")
  pm_create+=("$(time_ms "${PM[@]}" create "${PODMAN_LIMITS[@]}" --network none --name "floor-pm-$i" busybox true)")
  bt_create+=("$(time_ms "${B[@]}" create --network none --name "floor-bt-$i" busybox true)")
  pm_rm+=("$(time_ms "${PM[@]}" rm "floor-pm-$i")")
  bt_rm+=("$(time_ms "${B[@]}" rm "floor-bt-$i")")
  pm_run+=("$(time_ms "${PM[@]}" run --rm "${PODMAN_LIMITS[@]}" --network none busybox true)")
  bt_run+=("$(time_ms "${B[@]}" run --rm --network none busybox true)")
  log "round $i/$RUNS: node ${node_ms[-1]}, version ${version_ms[-1]}, runtime ${cycle_ms[-1]}, podman rm ${pm_rm[-1]}, run --rm ${pm_run[-1]} ms"
done

# --- rootless ------------------------------------------------------------------------------------------
rl_version=() rl_cycle=() rl_join=() rl_pm_run=() rl_bt_run=()
if [ "$ROOTLESS" = 1 ]; then
  rootless_user_make || exit 1
  chmod 644 "$TARBALL"
  bt_rl bt import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null
  pm_rl pm import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null
  # The first run starts berth's pause process and leaves crun's compiled seccomp program.
  bt_rl bt run --rm --network none busybox true
  pm_rl pm run --rm --network none busybox true 2>/dev/null
  id=$(bt_rl bt run -d --network none busybox sleep 1000)
  RL_BUNDLE=$RL_HOME/floor-bundle
  install -d -o "$RL_UID" -g "$RL_GID" "$RL_BUNDLE"
  bundle_config "$RL_HOME/bt/root/containers/$id/userdata/config.json" "$RL_BUNDLE"
  chown "$RL_UID:$RL_GID" "$RL_BUNDLE/config.json"
  bt_rl bt rm -f -t 0 "$id" >/dev/null
  read -r PAUSE _ <"$RL_RUNTIME/berth/pause.pid"
  # in_userns CMD...: CMD as the user inside berth's user namespace, joined as berth's launcher joins it.
  in_userns() { as_user -- nsenter --target="$PAUSE" --user --mount -- "$@"; }
  in_userns sh -c 'mkdir "$1" && tar -xf "$2" -C "$1"' unpack "$RL_BUNDLE/rootfs" "$TARBALL"
  rl_runtime_cycle() { in_userns "${CYCLE[@]}" "$CRUN" "$RL_RUNTIME/crun-floor" "$RL_BUNDLE" "floor-$1"; }
  rl_runtime_cycle warmup
  for i in $(seq 1 "$RUNS"); do
    rl_version+=("$(time_ms bt_rl bt version)")
    rl_cycle+=("$(time_ms rl_runtime_cycle "$i")")
    rl_join+=("$(time_ms in_userns true)")
    rl_pm_run+=("$(time_ms pm_rl pm run --rm --network none busybox true)")
    rl_bt_run+=("$(time_ms bt_rl bt run --rm --network none busybox true)")
    log "rootless round $i/$RUNS: version ${rl_version[-1]}, runtime ${rl_cycle[-1]} (join ${rl_join[-1]}), podman run --rm ${rl_pm_run[-1]} ms"
  done
fi

# --- memory --------------------------------------------------------------------------------------------
# idle_rss NAME SOCKET CMD...: starts CMD (a server on SOCKET), waits for it, asks one _ping, leaves it
# idle 3 s and prints its RSS in kB, then stops it.
idle_rss() {
  local name=$1 sock=$2 pid i rss
  shift 2
  "$@" >"$BENCH_TMP/$name.log" 2>&1 &
  pid=$!
  SERVICE_PIDS+=("$pid")
  for i in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { log "floor: $name did not listen on $sock"; cat "$BENCH_TMP/$name.log" >&2; exit 1; }
  curl -sf --unix-socket "$sock" http://d/_ping >/dev/null || true
  sleep 3
  read -r rss _ < <(monitor_kb "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$rss"
}
SERVER_JS='require("node:http").createServer((q, s) => s.end("OK")).listen(process.argv[1])'
cjs_kb=$(idle_rss node-cjs "$BENCH_TMP/cjs.sock" node -e "$SERVER_JS" "$BENCH_TMP/cjs.sock")
# node:http from getBuiltinModule: an ES import of it builds its whole facade, whose WebSocket
# getter loads Node's bundled undici (~13 MB more here).
printf 'const { createServer } = process.getBuiltinModule("node:http");\ncreateServer((q, s) => s.end("OK")).listen(process.argv[2]);\n' >"$BENCH_TMP/server.mjs"
esm_kb=$(idle_rss node-esm "$BENCH_TMP/esm.sock" node "$BENCH_TMP/server.mjs" "$BENCH_TMP/esm.sock")
berth_kb=$(idle_rss berth-service "$BENCH_TMP/berth.sock" "${B[@]}" system service --time 0 "unix://$BENCH_TMP/berth.sock")
podman_kb=$(idle_rss podman-service "$BENCH_TMP/podman.sock" "${PM[@]}" system service --time 0 "unix://$BENCH_TMP/podman.sock")

# --- report --------------------------------------------------------------------------------------------
v=$(median "${version_ms[@]}")
r=$(median "${cycle_ms[@]}")
pc=$(median "${pm_create[@]}")
pr=$(median "${pm_rm[@]}")
pn=$(median "${pm_run[@]}")
# verdict GOAL FLOOR: whether a floor above the goal leaves it out of reach.
verdict() { awk -v g="$1" -v f="$2" 'BEGIN { print (f > g ? "floor above the goal: out of reach" : "floor under the goal") }'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", a + b }'; }
echo "== floor: n=$RUNS rounds, the commands alternating (load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg))"
summary "node -e 0" "${node_ms[@]}"
summary "node empty.mjs" "${esm_ms[@]}"
summary "berth version" "${version_ms[@]}"
summary "crun create+start+delete" "${cycle_ms[@]}"
summary "podman create" "${pm_create[@]}"
summary "berth create" "${bt_create[@]}"
summary "podman rm" "${pm_rm[@]}"
summary "berth rm" "${bt_rm[@]}"
summary "podman run --rm" "${pm_run[@]}"
summary "berth run --rm" "${bt_run[@]}"
echo "-- issue 14's goals against their floors (ms)"
printf '%-34s goal %7s   floor %7s   %s\n' "create at or under podman's" "$pc" "$v" "$(verdict "$pc" "$v") (floor: berth version)"
printf '%-34s goal %7s   floor %7s   %s\n' "rm at or under podman's" "$pr" "$v" "$(verdict "$pr" "$v") (floor: berth version)"
run_goal=$(awk -v p="$pn" 'BEGIN { printf "%.1f\n", 0.6 * p }')
run_floor=$(sum "$v" "$r")
printf '%-34s goal %7s   floor %7s   %s\n' "run --rm at most 0.6 x podman's" "$run_goal" "$run_floor" "$(verdict "$run_goal" "$run_floor") (floor: berth version + the runtime's three calls)"
if [ "$ROOTLESS" = 1 ]; then
  echo "-- rootless, as $RL_NAME (n=$RUNS)"
  summary "berth version" "${rl_version[@]}"
  summary "crun three calls, joined" "${rl_cycle[@]}"
  summary "the join alone" "${rl_join[@]}"
  summary "podman run --rm" "${rl_pm_run[@]}"
  summary "berth run --rm" "${rl_bt_run[@]}"
  rl_goal=$(awk -v p="$(median "${rl_pm_run[@]}")" 'BEGIN { printf "%.1f\n", 0.6 * p }')
  rl_floor=$(awk -v v="$(median "${rl_version[@]}")" -v c="$(median "${rl_cycle[@]}")" -v j="$(median "${rl_join[@]}")" 'BEGIN { printf "%.1f\n", v + c - j }')
  echo "-- issue 16's goal against its floor (ms)"
  printf '%-34s goal %7s   floor %7s   %s\n' "rootless run --rm, 0.6 x podman's" "$rl_goal" "$rl_floor" "$(verdict "$rl_goal" "$rl_floor") (floor: berth version + the runtime's three calls)"
fi
echo "-- issue 15's idle memory (RSS, MB)"
printf '%-34s %5s\n' "podman system service" "$(kb_to_mb "$podman_kb")"
printf '%-34s %5s\n' "bare node HTTP server (CommonJS)" "$(kb_to_mb "$cjs_kb")"
printf '%-34s %5s\n' "bare node HTTP server (ES module)" "$(kb_to_mb "$esm_kb")"
printf '%-34s %5s\n' "berth system service" "$(kb_to_mb "$berth_kb")"
echo "podman/bare node: $(ratio "$podman_kb" "$cjs_kb") (CommonJS), $(ratio "$podman_kb" "$esm_kb") (ES module); podman/berth: $(ratio "$podman_kb" "$berth_kb")"
