#!/usr/bin/env bash
# rmi: `berth rmi` vs `podman rmi` of the ~200 MB two-layer image of bench/load.sh. Each run: a
# fresh store, the archive loaded (untimed), `sync`, then only `rmi localhost/bench:latest` timed.
# Afterwards the store must be (nearly) empty on disk: podman deletes before it replies, berth
# renames what goes into its store's trash and a detached `rm` deletes it after the reply, so the
# check waits (up to 10 s) for berth's bytes to go and logs how long that took after the command.
#
#   bash bench/rmi.sh              # N=5 runs per tool
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-200}
prepare_berth

ARCHIVE=$BENCH_TMP/bench.tar
log "rmi: generating a ${SIZE_MB} MB docker-archive..."
make_big_archive "$ARCHIVE" "$SIZE_MB"

# The store must have lost the image's bytes: under 5 MB left (waiting up to 10 s for it).
check_emptied() {
  local mb i
  for i in $(seq 0 200); do
    # (a du that finds a directory gone that it was about to read, deleted by the rm, counts as not yet)
    if mb=$(du -sm "$1" 2>/dev/null | cut -f1) && [ "$mb" -lt 5 ]; then
      [ "$i" = 0 ] || log "$2: store emptied $((i * 50)) ms after rmi returned"
      return 0
    fi
    sleep 0.05
  done
  log "$2 rmi left $mb MB in its store"; du -m -d 3 "$1" | sort -n | tail >&2; exit 1
}

berth_ms=() podman_ms=()
for i in $(seq 1 "$RUNS"); do
  d=$(bt_new)
  bt "$d" load -q -i "$ARCHIVE" >/dev/null
  sync
  berth_ms+=("$(time_ms "$BERTH" --root "$d/root" --runroot "$d/run" rmi localhost/bench:latest)")
  grep -q '^Deleted:' "$BENCH_TMP/last.out" || { log "berth rmi printed: $(cat "$BENCH_TMP/last.out")"; exit 1; }
  check_emptied "$d" berth
  rm -rf "$d"

  pm_new
  pm "$PM_DIR" load -q -i "$ARCHIVE" >/dev/null
  sync
  pm_argv "$PM_DIR"
  podman_ms+=("$(time_ms "${PM[@]}" rmi localhost/bench:latest)")
  grep -q '^Deleted:' "$BENCH_TMP/last.out" || { log "podman rmi printed: $(cat "$BENCH_TMP/last.out")"; exit 1; }
  check_emptied "$PM_DIR" podman
  pm_drop "$PM_DIR"
  log "rmi run $i/$RUNS: berth ${berth_ms[-1]} ms, podman ${podman_ms[-1]} ms"
done

b=$(median "${berth_ms[@]}")
p=$(median "${podman_ms[@]}")
echo "== rmi: ${SIZE_MB} MB two-layer image, loaded fresh (untimed) before each run, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth rmi" "${berth_ms[@]}"
summary "podman rmi" "${podman_ms[@]}"
echo "ratio podman/berth     $(ratio "$p" "$b")"
