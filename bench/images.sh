#!/usr/bin/env bash
# images: `berth images` vs `podman images` on a store holding 50 distinct images (50 tiny,
# different rootfs tarballs, each imported once with `import FILE benchNN`: 50 image IDs, 50 names,
# 50 layers). Listing does not change the store, so one store per tool serves every run; one
# untimed warm-up run each, then RUNS timed runs, the two tools alternating.
#
#   bash bench/images.sh           # N=20 runs per tool
#   RUNS=50 IMAGES=100 bash bench/images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-20}
IMAGES=${IMAGES:-50}
prepare_berth

log "images: making $IMAGES tarballs and importing them into both stores..."
src=$BENCH_TMP/src
mkdir -p "$src"
bd=$(bt_new)
pm_new
pd=$PM_DIR
for n in $(seq -w 1 "$IMAGES"); do
  rm -rf "$src/rootfs"
  mkdir -p "$src/rootfs/etc" "$src/rootfs/data"
  printf 'bench image %s\n' "$n" >"$src/rootfs/etc/bench-id"
  seq 1 "$((10#$n * 10))" >"$src/rootfs/data/numbers"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$src/rootfs" -cf "$src/img$n.tar" .
  bt "$bd" import -q "$src/img$n.tar" "bench$n" >/dev/null
  pm "$pd" import -q "$src/img$n.tar" "bench$n" >/dev/null
done

pm_argv "$pd"
berth_cmd=("$BERTH" --root "$bd/root" --runroot "$bd/run" images)
podman_cmd=("${PM[@]}" images)

# warm-up (and a check that both list every image: a heading and one line per image)
time_ms "${berth_cmd[@]}" >/dev/null
[ "$(wc -l <"$BENCH_TMP/last.out")" -eq $((IMAGES + 1)) ] || { log "berth images listed: $(cat "$BENCH_TMP/last.out")"; exit 1; }
time_ms "${podman_cmd[@]}" >/dev/null
[ "$(wc -l <"$BENCH_TMP/last.out")" -eq $((IMAGES + 1)) ] || { log "podman images listed: $(cat "$BENCH_TMP/last.out")"; exit 1; }

berth_ms=() podman_ms=()
for i in $(seq 1 "$RUNS"); do
  berth_ms+=("$(time_ms "${berth_cmd[@]}")")
  podman_ms+=("$(time_ms "${podman_cmd[@]}")")
done

b=$(median "${berth_ms[@]}")
p=$(median "${podman_ms[@]}")
echo "== images: $IMAGES distinct imported images, n=$RUNS (load average before: $LOAD_BEFORE)"
summary "berth images" "${berth_ms[@]}"
summary "podman images" "${podman_ms[@]}"
echo "ratio podman/berth     $(ratio "$p" "$b")"
