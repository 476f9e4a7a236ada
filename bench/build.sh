#!/usr/bin/env bash
# build: `berth build` vs `podman build` vs `buildah bud` on the same contexts, each tool on its own
# store holding the same busybox image (berth imports it, `berth save`s it, the others load that):
#   single  a 6-step single-stage Containerfile (ENV, WORKDIR, COPY, 2 RUN, CMD)
#   multi   3 stages, the last COPYing --from the other two
#   files   COPY . /app of a context of 10,000 small files
# each timed cold (--no-cache) and fully cached (the same build again, every step a cache hit).
#
#   bash bench/build.sh            # RUNS=5 per case and tool
#   RUNS=1 bash bench/build.sh     # a smoke run
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
FILES=${FILES:-10000}
BUILDAH=${BUILDAH:-buildah}
prepare_berth

TARBALL=$BENCH_TMP/busybox.tar
ARCHIVE=$BENCH_TMP/busybox-archive.tar
bash "$REPO_DIR/scripts/make-busybox-rootfs.sh" "$TARBALL"

# The contexts.
CTX=$BENCH_TMP/ctx
mkdir -p "$CTX/single" "$CTX/multi" "$CTX/files/src"
echo 'config=1' >"$CTX/single/app.conf"
cat >"$CTX/single/Containerfile" <<'CF'
FROM busybox
ENV APP=/srv/app MODE=bench
WORKDIR /srv/app
COPY app.conf ./
RUN echo "$MODE" > mode && mkdir -p data
RUN cat app.conf mode > combined
CMD ["cat", "combined"]
CF
cat >"$CTX/multi/Containerfile" <<'CF'
FROM busybox AS one
RUN echo one > /one && seq 1 1000 > /numbers
FROM busybox AS two
RUN echo two > /two
FROM busybox
COPY --from=one /one /numbers /out/
COPY --from=two /two /out/
CMD ["ls", "/out"]
CF
for i in $(seq 1 "$FILES"); do printf '%s\n' "$i" >"$CTX/files/src/f$((i % 100))-$i.txt"; done
printf 'FROM busybox\nCOPY . /app\n' >"$CTX/files/Containerfile"

# The stores: berth's, podman's and buildah's (a podman-format store of its own).
bd=$(bt_new)
bt "$bd" import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null
bt "$bd" save -o "$ARCHIVE" busybox >/dev/null
pm_new
PD=$PM_DIR
pm "$PD" load -q -i "$ARCHIVE" >/dev/null
pm_new
HD=$PM_DIR
pm "$HD" load -q -i "$ARCHIVE" >/dev/null
B=("$BERTH" --root "$bd/root" --runroot "$bd/run")
pm_argv "$PD"
P=("${PM[@]}")
H=(env TMPDIR="$HD/tmp" "$BUILDAH" --root "$HD/root" --runroot "$HD/run" --storage-driver overlay)

echo "== build: berth vs podman build vs buildah bud, n=$RUNS (load average before: $LOAD_BEFORE)"
for case in single multi files; do
  declare -a bc=() pc=() hc=() bw=() pw=() hw=()
  for i in $(seq 1 "$RUNS"); do
    bc+=("$(time_ms "${B[@]}" build -q --no-cache -t "bench-$case" "$CTX/$case")")
    pc+=("$(time_ms "${P[@]}" build -q --no-cache -t "bench-$case" "$CTX/$case")")
    hc+=("$(time_ms "${H[@]}" bud -q --no-cache --layers -t "bench-$case" "$CTX/$case")")
    bw+=("$(time_ms "${B[@]}" build -q -t "bench-$case" "$CTX/$case")")
    pw+=("$(time_ms "${P[@]}" build -q -t "bench-$case" "$CTX/$case")")
    hw+=("$(time_ms "${H[@]}" bud -q --layers -t "bench-$case" "$CTX/$case")")
    log "build $case run $i/$RUNS: cold berth ${bc[-1]} podman ${pc[-1]} buildah ${hc[-1]} ms; cached berth ${bw[-1]} podman ${pw[-1]} buildah ${hw[-1]} ms"
  done
  summary "berth $case cold" "${bc[@]}"
  summary "podman $case cold" "${pc[@]}"
  summary "buildah $case cold" "${hc[@]}"
  echo "ratio podman/berth $case cold      $(ratio "$(median "${pc[@]}")" "$(median "${bc[@]}")")"
  summary "berth $case cached" "${bw[@]}"
  summary "podman $case cached" "${pw[@]}"
  summary "buildah $case cached" "${hw[@]}"
  echo "ratio podman/berth $case cached    $(ratio "$(median "${pw[@]}")" "$(median "${bw[@]}")")"
done
