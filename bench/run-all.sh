#!/usr/bin/env bash
# Runs every benchmark, one after the other (they would disturb each other's timings in
# parallel), and prints the machine first. The per-benchmark knobs (RUNS, SIZE_MB, IMAGES,
# DOWNLOAD_MB) pass through the environment, but RUNS applies to all, so leave it unset for the
# defaults.
#
#   bash bench/run-all.sh 2>bench.log | tee bench.out
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

prepare_berth
echo "== machine"
machine_info
# All of them run the same snapshot of the build (BERTH given: they take none of their own).
status=0
for b in startup floor images load rmi run containers pods kube network registry pull-push; do
  echo
  BERTH=$BERTH BENCH_TMPBASE=$BENCH_TMPBASE bash "$BENCH_DIR/$b.sh" || { status=$?; echo "!! $b failed (exit $status)"; }
done
exit "$status"
