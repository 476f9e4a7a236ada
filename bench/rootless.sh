#!/usr/bin/env bash
# rootless: berth against podman 4.3, both rootless, as an ordinary user this script makes and
# removes (src/testing/rootless-user.ts through dist/lib/testing/rootless-user-cli.js, so `npm run
# build` first): useradd, a subuid/subgid range of its own, /run/user/UID as XDG_RUNTIME_DIR, and
# /dev/net/tun and /dev/fuse opened for the run (0600 on this machine kind). Every command runs as
# the user through setpriv with a clean environment, the same few ms for both tools.
#
# Rows (the tools alternating, so that load from other work falls on both alike; ratios are
# podman/berth: above 1 = berth faster):
#   1. run --rm --network none busybox true (RUNS, median), after one untimed run each (which
#      starts each tool's pause process: the runs measure the steady state)
#   2. pull of the ~182 MB benchmark image of bench/pull-push.sh (bench/bench-image.sh) from the
#      CNCF registry on 127.0.0.1 into an empty store (PULL_RUNS, median)
# podman: overlay, cgroupfs, an events file and a containers.conf capping its default rlimits, as
# src/testing/rootless-podman.ts runs it; its stores under the user's home and runtime directory.
# berth: --root and --runroot under the same. berth's rootless support is issue 16's work: a row
# berth cannot run yet says why instead of a figure.
#
#   bash bench/rootless.sh              # RUNS=10, PULL_RUNS=3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
PULL_RUNS=${PULL_RUNS:-3}
DISTRIBUTION=${DISTRIBUTION:-/usr/bin/docker-registry}
SKOPEO=${SKOPEO:-skopeo}
prepare_berth
for t in "$SKOPEO" "$PODMAN" "$DISTRIBUTION" setpriv newuidmap curl gzip openssl; do
  command -v "$t" >/dev/null || { log "rootless: $t is not installed"; exit 1; }
done

# --- registries: bench/servers.sh; the user goes on exit too -----------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/rootless-user.sh"
rootless_cleanup() {
  rootless_user_remove
  servers_cleanup
}
trap rootless_cleanup EXIT

# --- the user ----------------------------------------------------------------------------------------
rootless_user_make || exit 1

# first_error: the first line of the last failed command's stderr that is not progress.
first_error() { { grep -v -e '^Copying' -e '^Getting' -e '^Writing' -e '^Storing' -e '^Trying' "$BENCH_TMP/last.err" || true; } | head -n 1; }
# last ARRAY-NAME: its last element, or n/a when it is empty.
last() {
  local -n a=$1
  if [ "${#a[@]}" -gt 0 ]; then echo "${a[-1]}"; else echo n/a; fi
}

# --- 1. run --rm -------------------------------------------------------------------------------------
TARBALL=$BENCH_TMP/busybox.tar
bash "$REPO_DIR/scripts/make-busybox-rootfs.sh" "$TARBALL"
chmod 644 "$TARBALL"
pm_rl pm-run import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null
pm_rl pm-run run --rm --network none busybox true
PODMAN_DRIVER=$(pm_rl pm-run info --format '{{.Store.GraphDriverName}}' 2>/dev/null)

BERTH_RUN_ERR=''
if time_ms bt_rl bt-run import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null; then
  time_ms bt_rl bt-run run --rm --network none busybox true >/dev/null || BERTH_RUN_ERR="run: $(first_error)"
else
  BERTH_RUN_ERR="import: $(first_error)"
fi
[ -z "$BERTH_RUN_ERR" ] || log "rootless: berth cannot run yet ($BERTH_RUN_ERR); podman only"

run_b=() run_p=()
for i in $(seq 1 "$RUNS"); do
  if [ -z "$BERTH_RUN_ERR" ]; then
    if ms=$(time_ms bt_rl bt-run run --rm --network none busybox true); then run_b+=("$ms"); else BERTH_RUN_ERR="run: $(first_error)"; fi
  fi
  run_p+=("$(time_ms pm_rl pm-run run --rm --network none busybox true)")
  log "run $i/$RUNS: berth $(last run_b) ms, podman ${run_p[-1]} ms"
done

# --- 2. pull -----------------------------------------------------------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/bench-image.sh"
make_bench_layout
start_server distribution "$BENCH_TMP/registry-src"
SRC=127.0.0.1:$PORT
"$SKOPEO" copy -q --preserve-digests --dest-tls-verify=false "oci:$LAYOUT:big" "docker://$SRC/bench/big:1" >&2
IMG=$SRC/bench/big:1
log "rootless: registry on $SRC holds bench/big:1 (~$IMAGE_MB MB)"

BERTH_PULL_ERR=''
pull_b=() pull_p=()
for i in $(seq 1 "$PULL_RUNS"); do
  if [ -z "$BERTH_PULL_ERR" ]; then
    sync
    if ms=$(time_ms bt_rl "bt-pull-$i" pull -q --tls-verify=false "$IMG"); then
      bt_rl "bt-pull-$i" images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$IMG" || { log "berth pull: $IMG not in the store"; exit 1; }
      pull_b+=("$ms")
    else
      BERTH_PULL_ERR="pull: $(first_error)"
      log "rootless: berth cannot pull yet ($BERTH_PULL_ERR); podman only"
    fi
  fi
  sync
  pull_p+=("$(time_ms pm_rl "pm-pull-$i" pull -q --tls-verify=false "$IMG")")
  pm_rl "pm-pull-$i" image exists "$IMG" || { log "podman pull: $IMG not in the store"; exit 1; }
  log "pull run $i/$PULL_RUNS: berth $(last pull_b) ms, podman ${pull_p[-1]} ms"
  # Layers are owned by the user's subordinate ids: root removes the stores.
  rm -rf "$RL_HOME/bt-pull-$i" "$RL_HOME/pm-pull-$i" "$RL_RUNTIME/bt-pull-$i" "$RL_RUNTIME/pm-pull-$i"
done

# --- report ------------------------------------------------------------------------------------------
# row LABEL BERTH-ARRAY PODMAN-ARRAY WHY-BERTH-IS-MISSING
row() {
  local -n bs=$2 ps=$3
  if [ "${#bs[@]}" -gt 0 ] && [ -z "$4" ]; then summary "berth $1" "${bs[@]}"; else printf '%-22s not measured: %s\n' "berth $1" "$4"; fi
  summary "podman $1" "${ps[@]}"
  if [ "${#bs[@]}" -gt 0 ] && [ -z "$4" ]; then
    printf '%-22s %s\n' "ratio podman/berth" "$(ratio "$(median "${ps[@]}")" "$(median "${bs[@]}")")"
  else
    printf '%-22s n/a\n' "ratio podman/berth"
  fi
}
echo "== rootless: as user $RL_NAME (uid $RL_UID, subordinate ids $RL_RANGE), podman $("$PODMAN" --version | awk '{ print $NF }') (storage $PODMAN_DRIVER) (load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "-- run --rm --network none busybox true, n=$RUNS"
row "run --rm" run_b run_p "$BERTH_RUN_ERR"
echo "-- pull of the ~${IMAGE_MB} MB image from distribution on loopback, empty store, n=$PULL_RUNS"
row "pull" pull_b pull_p "$BERTH_PULL_ERR"
