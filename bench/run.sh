#!/usr/bin/env bash
# run: `berth run --rm` vs `podman run --rm` of the same busybox image (network none, so only the
# container machinery is timed), and the monitor's memory per running container: N containers
# started with `run -d`, then the RSS and PSS of every conmon summed from /proc/PID/smaps_rollup.
# Both tools use conmon and crun, so the memory figures compare the same monitor; the time is
# each engine's own work around it.
#
#   bash bench/run.sh            # RUNS=10 timed runs per tool, CONTAINERS=10 for the memory
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
CONTAINERS=${CONTAINERS:-10}
prepare_berth

busybox_stores
trap containers_cleanup EXIT
PODMAN_RUN=(run --rm --network none "${PODMAN_LIMITS[@]}")

# One untimed run each, so that first-use work (cgroup parents, lazy dirs) is not measured.
"${B[@]}" run --rm --network none busybox true
"${PM[@]}" "${PODMAN_RUN[@]}" busybox true

berth_ms=() podman_ms=()
for i in $(seq 1 "$RUNS"); do
  berth_ms+=("$(time_ms "${B[@]}" run --rm --network none busybox true)")
  podman_ms+=("$(time_ms "${PM[@]}" "${PODMAN_RUN[@]}" busybox true)")
  log "run $i/$RUNS: berth ${berth_ms[-1]} ms, podman ${podman_ms[-1]} ms"
done

for i in $(seq 1 "$CONTAINERS"); do
  "${B[@]}" run -d --network none busybox sleep 600 >/dev/null
  "${PM[@]}" run -d --network none "${PODMAN_LIMITS[@]}" busybox sleep 600 >/dev/null
done
mapfile -t berth_conmons < <(conmon_pids "${B[@]}")
mapfile -t podman_conmons < <(conmon_pids "${PM[@]}")
read -r b_rss b_pss < <(monitor_kb "${berth_conmons[@]}")
read -r p_rss p_pss < <(monitor_kb "${podman_conmons[@]}")
"${B[@]}" rm -af -t 0 >/dev/null
"${PM[@]}" rm -af -t 0 >/dev/null

b=$(median "${berth_ms[@]}")
p=$(median "${podman_ms[@]}")
echo "== run: run --rm --network none busybox true, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth run --rm" "${berth_ms[@]}"
summary "podman run --rm" "${podman_ms[@]}"
echo "ratio podman/berth     $(ratio "$p" "$b")"
echo "== monitor memory per running container (${#berth_conmons[@]} berth, ${#podman_conmons[@]} podman containers; conmon both)"
awk -v r="$b_rss" -v s="$b_pss" -v n="${#berth_conmons[@]}" 'BEGIN { printf "berth   conmon RSS %.0f kB, PSS %.0f kB per container\n", r / n, s / n }'
awk -v r="$p_rss" -v s="$p_pss" -v n="${#podman_conmons[@]}" 'BEGIN { printf "podman  conmon RSS %.0f kB, PSS %.0f kB per container\n", r / n, s / n }'
