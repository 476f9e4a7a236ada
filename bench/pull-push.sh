#!/usr/bin/env bash
# pull-push: berth against podman and skopeo, moving one ~200 MB image between this machine's
# stores and the CNCF distribution registry (/usr/bin/docker-registry, filesystem storage under the
# scratch directory, plain HTTP on 127.0.0.1, so every client runs with --tls-verify=false).
#
# The image (built here, the same bytes every time, gzip layers as a registry serves them):
#   - one ~BIG_MB (150) MB layer of incompressible bytes (an AES-CTR keystream),
#   - one ~TEXT_MB (40) MB layer of text (words from a seeded PRNG),
#   - ten small layers (a little text and 256 KB of random bytes each).
#
# Rows (each a median of RUNS runs, the tools alternating so that load from other work on the
# machine falls on both alike; ratios are peer/berth: above 1 = berth faster):
#   1. pull into an empty store:            berth pull       vs podman pull
#   2. pull when every layer is present:    the store holds the image already (pulled from another
#      repository of the registry that has the same manifest); only the name is new
#   3. push from a store into an empty registry (a new registry, new port, per run: no blob can be
#      skipped or mounted, even through podman's blob-info cache)
#                                            berth push       vs podman push
#   4. registry -> OCI layout directory:    berth copy       vs skopeo copy
# Then the peak RSS of a berth pull of a one-layer image of BIG_MB and of SMALL_MB (20): the same
# figure for both means layers are streamed whatever their size. And, as the ceiling a pull can
# approach on this machine, sha256sum and gzip -dc throughput on the big and the text layer.
#
#   bash bench/pull-push.sh            # RUNS=3
#   RUNS=5 bash bench/pull-push.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
BIG_MB=${BIG_MB:-150}
TEXT_MB=${TEXT_MB:-40}
SMALL_MB=${SMALL_MB:-20}
DISTRIBUTION=${DISTRIBUTION:-/usr/bin/docker-registry}
SKOPEO=${SKOPEO:-skopeo}
prepare_berth
for t in "$SKOPEO" "$PODMAN" "$DISTRIBUTION" curl gzip openssl /usr/bin/time; do
  command -v "$t" >/dev/null || { log "pull-push: $t is not installed"; exit 1; }
done

# --- registries: bench/servers.sh (distribution only here) ------------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

# --- the image, as an OCI layout: bench/bench-image.sh ------------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/bench-image.sh"
make_bench_layout

# The source registry: the image as bench/big:1 and (same manifest) bench/again:1, and the two
# one-layer images. skopeo keeps the gzip blobs and the manifest as they are.
start_server distribution "$BENCH_TMP/registry-src"
SRC=127.0.0.1:$PORT SRC_PID=$PID
for pair in big:bench/big:1 big:bench/again:1 one-big:bench/one-big:1 one-small:bench/one-small:1; do
  "$SKOPEO" copy -q --preserve-digests --dest-tls-verify=false "oci:$LAYOUT:${pair%%:*}" "docker://$SRC/${pair#*:}" >&2
done
log "pull-push: registry on $SRC (pid $SRC_PID) holds bench/big:1 ($(du -sm "$BENCH_TMP/registry-src" | cut -f1) MB of storage)"

# --- reference: what sha256 and gunzip alone do with these layers ---------------------------------
rate_mb_s() { awk -v bytes="$1" -v ms="$2" 'BEGIN { printf "%.0f\n", bytes / 1048576 / (ms / 1000) }'; }
cat "$BIG_BLOB" "$TEXT_BLOB" >/dev/null
sha_big=() gz_big=() sha_text=() gz_text=()
for i in $(seq 1 "$RUNS"); do
  sha_big+=("$(time_ms sha256sum "$BIG_BLOB")")
  gz_big+=("$(time_ms gzip -dc "$BIG_BLOB")")
  sha_text+=("$(time_ms sha256sum "$TEXT_BLOB")")
  gz_text+=("$(time_ms gzip -dc "$TEXT_BLOB")")
done
BIG_BYTES=${LAYER_SIZE[big]} TEXT_BYTES=${LAYER_SIZE[text]} TEXT_RAW=$((TEXT_MB * 1024 * 1024))

# --- the runs -------------------------------------------------------------------------------------
IMG=$SRC/bench/big:1
AGAIN=$SRC/bench/again:1

declare -a pull_b pull_p rss_b rss_p present_b present_p push_b push_p copy_b copy_s
pull_b=() pull_p=() rss_b=() rss_p=() present_b=() present_p=() push_b=() push_p=() copy_b=() copy_s=()

for i in $(seq 1 "$RUNS"); do
  # 1. pull into an empty store, with peak RSS
  d=$(bt_new)
  sync
  pull_b+=("$(time_ms /usr/bin/time -f %M -o "$BENCH_TMP/rss" "$BERTH" --root "$d/root" --runroot "$d/run" pull -q --tls-verify=false "$IMG")")
  rss_b+=("$(peak_rss_kb "$BENCH_TMP/rss")")
  bt "$d" images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$IMG" || { log "berth pull: $IMG not in the store"; exit 1; }
  pm_new
  sync
  pm_argv "$PM_DIR"
  pull_p+=("$(time_ms /usr/bin/time -f %M -o "$BENCH_TMP/rss" "${PM[@]}" pull -q --tls-verify=false "$IMG")")
  rss_p+=("$(peak_rss_kb "$BENCH_TMP/rss")")
  pm "$PM_DIR" image exists "$IMG" || { log "podman pull: $IMG not in the store"; exit 1; }
  log "pull run $i/$RUNS: berth ${pull_b[-1]} ms (${rss_b[-1]} KB), podman ${pull_p[-1]} ms (${rss_p[-1]} KB)"

  # 2. the same image again under another name: every layer is present
  sync
  present_b+=("$(time_ms bt "$d" pull -q --tls-verify=false "$AGAIN")")
  bt "$d" images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$AGAIN" || { log "berth pull: $AGAIN not in the store"; exit 1; }
  sync
  present_p+=("$(time_ms pm "$PM_DIR" pull -q --tls-verify=false "$AGAIN")")
  pm "$PM_DIR" image exists "$AGAIN" || { log "podman pull: $AGAIN not in the store"; exit 1; }
  log "present run $i/$RUNS: berth ${present_b[-1]} ms, podman ${present_p[-1]} ms"

  # 3. push from those stores into a new, empty registry each
  start_server distribution "$BENCH_TMP/registry-push-b$i"
  sync
  push_b+=("$(time_ms bt "$d" push -q --tls-verify=false "$IMG" "docker://127.0.0.1:$PORT/bench/pushed:1")")
  curl -fsS "http://127.0.0.1:$PORT/v2/bench/pushed/tags/list" | grep -q '"1"' || { log "berth push: tag 1 missing"; exit 1; }
  stop_server "$PID"
  rm -rf "$BENCH_TMP/registry-push-b$i"
  start_server distribution "$BENCH_TMP/registry-push-p$i"
  sync
  push_p+=("$(time_ms pm "$PM_DIR" push -q --tls-verify=false "$IMG" "docker://127.0.0.1:$PORT/bench/pushed:1")")
  curl -fsS "http://127.0.0.1:$PORT/v2/bench/pushed/tags/list" | grep -q '"1"' || { log "podman push: tag 1 missing"; exit 1; }
  stop_server "$PID"
  rm -rf "$BENCH_TMP/registry-push-p$i"
  log "push run $i/$RUNS: berth ${push_b[-1]} ms, podman ${push_p[-1]} ms"
  rm -rf "$d"
  pm_drop "$PM_DIR"

  # 4. registry -> OCI layout directory
  d=$(bt_new)
  sync
  copy_b+=("$(time_ms bt "$d" copy -q --src-tls-verify=false "docker://$IMG" "oci:$d/layout:big")")
  [ -f "$d/layout/${BIG_BLOB#"$LAYOUT/"}" ] || { log "berth copy: the big layer is missing from the layout"; exit 1; }
  rm -rf "$d"
  d=$BENCH_TMP/skopeo-out
  mkdir -p "$d"
  sync
  copy_s+=("$(time_ms "$SKOPEO" copy -q --src-tls-verify=false "docker://$IMG" "oci:$d/layout:big")")
  [ -f "$d/layout/${BIG_BLOB#"$LAYOUT/"}" ] || { log "skopeo copy: the big layer is missing from the layout"; exit 1; }
  rm -rf "$d"
  log "copy run $i/$RUNS: berth ${copy_b[-1]} ms, skopeo ${copy_s[-1]} ms"
done

# 5. berth's peak RSS against the layer size
one_rss() { # IMAGE -> "KB ms"
  local d ms
  d=$(bt_new)
  sync
  ms=$(time_ms /usr/bin/time -f %M -o "$BENCH_TMP/rss" "$BERTH" --root "$d/root" --runroot "$d/run" pull -q --tls-verify=false "$1")
  echo "$(peak_rss_kb "$BENCH_TMP/rss") $ms"
  rm -rf "$d"
}
read -r RSS_ONE_BIG MS_ONE_BIG < <(one_rss "$SRC/bench/one-big:1")
read -r RSS_ONE_SMALL MS_ONE_SMALL < <(one_rss "$SRC/bench/one-small:1")
stop_server "$SRC_PID"

# --- report ---------------------------------------------------------------------------------------
line() { # LABEL PEER-LABEL BERTH-ARRAY PEER-ARRAY
  local -n bs=$3 ps=$4
  summary "berth $1" "${bs[@]}"
  summary "$2 $1" "${ps[@]}"
  printf '%-22s %s\n' "ratio $2/berth" "$(ratio "$(median "${ps[@]}")" "$(median "${bs[@]}")")"
}
echo "== pull-push: ~${IMAGE_MB} MB image (${BIG_MB} MB random, ${TEXT_MB} MB text, 10 small layers; gzip), distribution $("$DISTRIBUTION" --version 2>/dev/null | awk '{ print $NF }') on loopback, n=$RUNS per tool (load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "-- reference on this machine (median of $RUNS): what a pull cannot beat"
printf '%-34s %5s MB/s  (%s MB compressed)\n' "sha256sum, big layer" "$(rate_mb_s "$BIG_BYTES" "$(median "${sha_big[@]}")")" "$((BIG_BYTES / 1048576))"
printf '%-34s %5s MB/s  (of compressed input)\n' "gzip -dc, big layer" "$(rate_mb_s "$BIG_BYTES" "$(median "${gz_big[@]}")")"
printf '%-34s %5s MB/s  (%s MB compressed)\n' "sha256sum, text layer" "$(rate_mb_s "$TEXT_BYTES" "$(median "${sha_text[@]}")")" "$((TEXT_BYTES / 1048576))"
printf '%-34s %5s MB/s  (of uncompressed output, %s MB)\n' "gzip -dc, text layer" "$(rate_mb_s "$TEXT_RAW" "$(median "${gz_text[@]}")")" "$TEXT_MB"
echo "-- pull into an empty store"
line "pull" podman pull_b pull_p
echo "peak RSS berth         median $(kb_to_mb "$(median "${rss_b[@]}")") MB   (max $(kb_to_mb "$(maximum "${rss_b[@]}")") MB)"
echo "peak RSS podman        median $(kb_to_mb "$(median "${rss_p[@]}")") MB   (max $(kb_to_mb "$(maximum "${rss_p[@]}")") MB)"
echo "-- pull when every layer is present (the same image under another repository)"
line "pull again" podman present_b present_p
echo "-- push into an empty registry"
line "push" podman push_b push_p
echo "-- copy docker:// -> oci: directory"
line "copy" skopeo copy_b copy_s
echo "-- berth peak RSS against layer size (one-layer images, one pull each)"
printf '%-34s %4s MB   (%s ms)\n' "pull of a ${BIG_MB} MB layer" "$(kb_to_mb "$RSS_ONE_BIG")" "$MS_ONE_BIG"
printf '%-34s %4s MB   (%s ms)\n' "pull of a ${SMALL_MB} MB layer" "$(kb_to_mb "$RSS_ONE_SMALL")" "$MS_ONE_SMALL"
