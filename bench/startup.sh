#!/usr/bin/env bash
# startup: a cold `berth version` (a new process each time; files in the page cache) against a bare
# `node -e 0`, the floor any Node CLI pays, and `podman version` for reference. The target is
# berth within 30 ms of node. The three commands alternate, RUNS times each, after one untimed
# warm-up each.
#
#   bash bench/startup.sh          # N=50 runs per command
#
# "berth - node" is the median of the per-round differences (each round runs node, then berth,
# then podman), which cancels most of the drift a shared VM's speed shows over a minute.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-50}
prepare_berth

d=$(bt_new)
pm_new
pm_argv "$PM_DIR"
berth_cmd=("$BERTH" --root "$d/root" --runroot "$d/run" version)
node_cmd=(node -e 0)
podman_cmd=("${PM[@]}" version)

time_ms "${berth_cmd[@]}" >/dev/null
time_ms "${node_cmd[@]}" >/dev/null
time_ms "${podman_cmd[@]}" >/dev/null

berth_ms=() node_ms=() podman_ms=()
for i in $(seq 1 "$RUNS"); do
  node_ms+=("$(time_ms "${node_cmd[@]}")")
  berth_ms+=("$(time_ms "${berth_cmd[@]}")")
  podman_ms+=("$(time_ms "${podman_cmd[@]}")")
done

b=$(median "${berth_ms[@]}")
n=$(median "${node_ms[@]}")
p=$(median "${podman_ms[@]}")
diffs=()
for i in "${!berth_ms[@]}"; do diffs+=("$(awk -v b="${berth_ms[$i]}" -v n="${node_ms[$i]}" 'BEGIN { printf "%.1f\n", b - n }')"); done
over=$(median "${diffs[@]}")
echo "== startup: new process each run, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "node -e 0" "${node_ms[@]}"
summary "berth version" "${berth_ms[@]}"
summary "podman version" "${podman_ms[@]}"
echo "berth - node           ${over} ms   (median of per-round differences; target <= 30 ms: $(awk -v o="$over" 'BEGIN { print (o <= 30 ? "met" : "NOT met") }'))"
echo "ratio podman/berth     $(ratio "$p" "$b")"
