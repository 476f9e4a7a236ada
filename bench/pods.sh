#!/usr/bin/env bash
# pods: one pod's life, berth beside podman on the same busybox image:
#   `pod create` (with a published port), `run -d --pod` of two containers (the first start starts
#   the infra), then `pod rm -f -t 0`; each step timed, and the whole round.
#
#   bash bench/pods.sh     # RUNS=10
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
prepare_berth

# podman's containers need their rlimits under this host's hard limits (kube play and a pod's infra take no --ulimit).
podman_limits_conf

busybox_stores
trap containers_cleanup EXIT

# Untimed first use (cgroup parents, podman's pause image, lazy directories).
"${B[@]}" pod create --name warm >/dev/null && "${B[@]}" run -d --pod warm busybox sleep 600 >/dev/null && "${B[@]}" pod rm -f -t 0 warm >/dev/null
"${PM[@]}" pod create --name warm >/dev/null && "${PM[@]}" run -d --pod warm "${PODMAN_LIMITS[@]}" busybox sleep 600 >/dev/null && "${PM[@]}" pod rm -f -t 0 warm >/dev/null

bc=() br=() brm=() bt_=() pc=() pr=() prm=() pt=()
for i in $(seq 1 "$RUNS"); do
  port=$(free_port)
  t0=$EPOCHREALTIME
  bc+=("$(time_ms "${B[@]}" pod create --name "b$i" -p "$port:80")")
  br+=("$(time_ms "${B[@]}" run -d --pod "b$i" busybox sleep 600)")
  br+=("$(time_ms "${B[@]}" run -d --pod "b$i" busybox sleep 600)")
  brm+=("$(time_ms "${B[@]}" pod rm -f -t 0 "b$i")")
  bt_+=("$(elapsed_ms "$t0")")
  port=$(free_port)
  t0=$EPOCHREALTIME
  pc+=("$(time_ms "${PM[@]}" pod create --name "p$i" -p "$port:80")")
  pr+=("$(time_ms "${PM[@]}" run -d --pod "p$i" "${PODMAN_LIMITS[@]}" busybox sleep 600)")
  pr+=("$(time_ms "${PM[@]}" run -d --pod "p$i" "${PODMAN_LIMITS[@]}" busybox sleep 600)")
  prm+=("$(time_ms "${PM[@]}" pod rm -f -t 0 "p$i")")
  pt+=("$(elapsed_ms "$t0")")
  log "pod round $i/$RUNS: berth ${bt_[-1]} ms, podman ${pt[-1]} ms"
done

echo "== pods: pod create -p + run -d --pod x2 + pod rm -f, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth pod create" "${bc[@]}"
summary "podman pod create" "${pc[@]}"
summary "berth run -d --pod" "${br[@]}"
summary "podman run -d --pod" "${pr[@]}"
summary "berth pod rm -f" "${brm[@]}"
summary "podman pod rm -f" "${prm[@]}"
summary "berth round" "${bt_[@]}"
summary "podman round" "${pt[@]}"
echo "ratio pod create podman/berth  $(ratio "$(median "${pc[@]}")" "$(median "${bc[@]}")")"
echo "ratio run --pod  podman/berth  $(ratio "$(median "${pr[@]}")" "$(median "${br[@]}")")"
echo "ratio pod rm -f  podman/berth  $(ratio "$(median "${prm[@]}")" "$(median "${brm[@]}")")"
echo "ratio round      podman/berth  $(ratio "$(median "${pt[@]}")" "$(median "${bt_[@]}")")"
