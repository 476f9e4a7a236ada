#!/usr/bin/env bash
# load: `berth load -i` vs `podman load -i` of a ~200 MB docker-archive (two uncompressed layers:
# 100 MB of random bytes and 100 MB of text), each run into a fresh, empty store. Also the peak
# RSS of each process, to show that berth streams the layers instead of buffering them.
#
#   bash bench/load.sh            # N=5 runs per tool
#   RUNS=3 SIZE_MB=400 bash bench/load.sh
#
# Then one more berth load of a RSS_SCALE_MB (default 800; 0 to skip) archive of the same shape:
# if the peak RSS does not grow with the archive, layers are streamed, not held in memory.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-200}
RSS_SCALE_MB=${RSS_SCALE_MB:-800}
prepare_berth

ARCHIVE=$BENCH_TMP/bench.tar
log "load: generating a ${SIZE_MB} MB docker-archive..."
make_big_archive "$ARCHIVE" "$SIZE_MB"
log "load: $(du -m "$ARCHIVE" | cut -f1) MB, sha256 $(sha256sum "$ARCHIVE" | cut -c1-12)"
cat "$ARCHIVE" >/dev/null # in the page cache for both tools alike

berth_ms=() podman_ms=() berth_rss=() podman_rss=()
for i in $(seq 1 "$RUNS"); do
  # berth, fresh store
  d=$(bt_new)
  sync
  berth_ms+=("$(time_ms /usr/bin/time -f %M -o "$BENCH_TMP/rss" "$BERTH" --root "$d/root" --runroot "$d/run" load -i "$ARCHIVE")")
  berth_rss+=("$(peak_rss_kb "$BENCH_TMP/rss")")
  grep -q 'Loaded image: localhost/bench:latest' "$BENCH_TMP/last.out" || { log "berth load printed: $(cat "$BENCH_TMP/last.out")"; exit 1; }
  rm -rf "$d"

  # podman, fresh store
  pm_new
  sync
  pm_argv "$PM_DIR"
  podman_ms+=("$(time_ms /usr/bin/time -f %M -o "$BENCH_TMP/rss" "${PM[@]}" load -i "$ARCHIVE")")
  podman_rss+=("$(peak_rss_kb "$BENCH_TMP/rss")")
  grep -q 'Loaded image: localhost/bench:latest' "$BENCH_TMP/last.out" || { log "podman load printed: $(cat "$BENCH_TMP/last.out")"; exit 1; }
  pm_drop "$PM_DIR"
  log "load run $i/$RUNS: berth ${berth_ms[-1]} ms (${berth_rss[-1]} KB), podman ${podman_ms[-1]} ms (${podman_rss[-1]} KB)"
done

b=$(median "${berth_ms[@]}")
p=$(median "${podman_ms[@]}")
echo "== load: ${SIZE_MB} MB docker-archive (2 layers: random + text), fresh store per run, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth load -i" "${berth_ms[@]}"
summary "podman load -i" "${podman_ms[@]}"
echo "ratio podman/berth     $(ratio "$p" "$b")"
echo "peak RSS berth         median $(kb_to_mb "$(median "${berth_rss[@]}")") MB   (max $(kb_to_mb "$(maximum "${berth_rss[@]}")") MB)"
echo "peak RSS podman        median $(kb_to_mb "$(median "${podman_rss[@]}")") MB   (max $(kb_to_mb "$(maximum "${podman_rss[@]}")") MB)"

if [ "$RSS_SCALE_MB" -gt 0 ]; then
  rm -f "$ARCHIVE"
  log "load: generating a ${RSS_SCALE_MB} MB docker-archive for the memory check..."
  make_big_archive "$ARCHIVE" "$RSS_SCALE_MB"
  d=$(bt_new)
  sync
  ms=$(time_ms /usr/bin/time -f %M -o "$BENCH_TMP/rss" "$BERTH" --root "$d/root" --runroot "$d/run" load -i "$ARCHIVE")
  echo "peak RSS berth, ${RSS_SCALE_MB} MB archive: $(kb_to_mb "$(peak_rss_kb "$BENCH_TMP/rss")") MB   (one run, $ms ms)"
  rm -rf "$d" "$ARCHIVE"
fi
