#!/usr/bin/env bash
# containers: container management at scale, berth beside podman on the same busybox image.
#   - create + start of a detached container (`sleep`), then stop -t 0, then rm, each timed on its own;
#   - `ps -a` with PS_CONTAINERS created containers in the store;
#   - RUNNING containers started with `run -d` one after another and all running at once: the
#     time to start them, the monitors' summed RSS/PSS, `ps` with them all running, and `rm -af`.
#
#   bash bench/containers.sh     # RUNS=10 PS_CONTAINERS=500 RUNNING=100
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
PS_CONTAINERS=${PS_CONTAINERS:-500}
RUNNING=${RUNNING:-100}
prepare_berth

busybox_stores
trap containers_cleanup EXIT

# Untimed first use (cgroup parents, lazy directories).
"${B[@]}" run --rm --network none busybox true
"${PM[@]}" run --rm --network none "${PODMAN_LIMITS[@]}" busybox true

# 1. create, then start, of one detached container at a time.
bc=() bs=() pc=() ps_=()
for i in $(seq 1 "$RUNS"); do
  bc+=("$(time_ms "${B[@]}" create --name "b$i" --network none busybox sleep 600)")
  bs+=("$(time_ms "${B[@]}" start "b$i")")
  pc+=("$(time_ms "${PM[@]}" create --name "p$i" --network none "${PODMAN_LIMITS[@]}" busybox sleep 600)")
  ps_+=("$(time_ms "${PM[@]}" start "p$i")")
  log "create+start $i/$RUNS: berth ${bc[-1]}+${bs[-1]} ms, podman ${pc[-1]}+${ps_[-1]} ms"
done
# ... then stop -t 0, then rm, of each.
bst=() pst=() brm=() prm=()
for i in $(seq 1 "$RUNS"); do
  bst+=("$(time_ms "${B[@]}" stop -t 0 "b$i")")
  pst+=("$(time_ms "${PM[@]}" stop -t 0 "p$i")")
  brm+=("$(time_ms "${B[@]}" rm "b$i")")
  prm+=("$(time_ms "${PM[@]}" rm "p$i")")
done

# 2. ps -a over PS_CONTAINERS created (not running) containers.
log "creating $PS_CONTAINERS containers in each store..."
for i in $(seq 1 "$PS_CONTAINERS"); do
  "${B[@]}" create --network none busybox true >/dev/null
  "${PM[@]}" create --network none "${PODMAN_LIMITS[@]}" busybox true >/dev/null
done
bps=() pps=()
for i in $(seq 1 "$RUNS"); do
  bps+=("$(time_ms "${B[@]}" ps -a)")
  pps+=("$(time_ms "${PM[@]}" ps -a)")
done
b_rows=$("${B[@]}" ps -aq | wc -l)
p_rows=$("${PM[@]}" ps -aq | wc -l)
"${B[@]}" rm -af >/dev/null
"${PM[@]}" rm -af >/dev/null

# 3. RUNNING containers at once.
t0=$EPOCHREALTIME
for i in $(seq 1 "$RUNNING"); do "${B[@]}" run -d --network none busybox sleep 600 >/dev/null; done
b_start=$(elapsed_s "$t0")
t0=$EPOCHREALTIME
for i in $(seq 1 "$RUNNING"); do "${PM[@]}" run -d --network none "${PODMAN_LIMITS[@]}" busybox sleep 600 >/dev/null; done
p_start=$(elapsed_s "$t0")
b_running=$("${B[@]}" ps -q | wc -l)
p_running=$("${PM[@]}" ps -q | wc -l)
b_psrun=$(time_ms "${B[@]}" ps)
p_psrun=$(time_ms "${PM[@]}" ps)
mapfile -t b_mon < <(conmon_pids "${B[@]}")
mapfile -t p_mon < <(conmon_pids "${PM[@]}")
read -r b_rss b_pss < <(monitor_kb "${b_mon[@]}")
read -r p_rss p_pss < <(monitor_kb "${p_mon[@]}")
b_rm=$(time_ms "${B[@]}" rm -af -t 0)
p_rm=$(time_ms "${PM[@]}" rm -af -t 0)

echo "== containers: create + start, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth create" "${bc[@]}"
summary "podman create" "${pc[@]}"
summary "berth start" "${bs[@]}"
summary "podman start" "${ps_[@]}"
echo "ratio create podman/berth  $(ratio "$(median "${pc[@]}")" "$(median "${bc[@]}")")"
echo "ratio start  podman/berth  $(ratio "$(median "${ps_[@]}")" "$(median "${bs[@]}")")"
summary "berth stop -t 0" "${bst[@]}"
summary "podman stop -t 0" "${pst[@]}"
summary "berth rm" "${brm[@]}"
summary "podman rm" "${prm[@]}"
echo "ratio stop   podman/berth  $(ratio "$(median "${pst[@]}")" "$(median "${bst[@]}")")"
echo "ratio rm     podman/berth  $(ratio "$(median "${prm[@]}")" "$(median "${brm[@]}")")"
echo "== ps -a with $PS_CONTAINERS containers (berth listed $b_rows, podman $p_rows), n=$RUNS"
summary "berth ps -a" "${bps[@]}"
summary "podman ps -a" "${pps[@]}"
echo "ratio podman/berth         $(ratio "$(median "${pps[@]}")" "$(median "${bps[@]}")")"
echo "== $RUNNING containers running at once (berth $b_running running, podman $p_running)"
echo "start all:  berth ${b_start} s, podman ${p_start} s, ratio podman/berth $(ratio "$p_start" "$b_start")"
echo "ps:         berth ${b_psrun} ms, podman ${p_psrun} ms, ratio $(ratio "$p_psrun" "$b_psrun")"
awk -v r="$b_rss" -v s="$b_pss" -v n="${#b_mon[@]}" 'BEGIN { printf "monitors:   berth  %d conmons, RSS %.0f kB, PSS %.0f kB per container\n", n, r / n, s / n }'
awk -v r="$p_rss" -v s="$p_pss" -v n="${#p_mon[@]}" 'BEGIN { printf "            podman %d conmons, RSS %.0f kB, PSS %.0f kB per container\n", n, r / n, s / n }'
echo "rm -af:     berth ${b_rm} ms, podman ${p_rm} ms, ratio $(ratio "$p_rm" "$b_rm")"
