# Shared helpers for the bench/*.sh scripts. Sourced, never run on its own.
#
# Every script makes its own scratch directory (BENCH_TMP) and removes it, and every podman
# store it made, on exit (normal or not). Timings use bash's $EPOCHREALTIME (microseconds, no
# extra process), so each figure is the wall time of one `berth`/`podman` process, fork+exec
# included, the same for both tools.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
BERTH_GIVEN=${BERTH:-}
BERTH=${BERTH:-$REPO_DIR/bin/berth}
PODMAN=${PODMAN:-podman}
# Scratch space: on the same disk as the stores (ext4 here), not tmpfs, so I/O is real I/O.
BENCH_TMPBASE=${BENCH_TMPBASE:-/var/tmp}

# NODE_EXTRA_CA_CERTS makes every node process parse that PEM bundle at startup: ~55 ms here with
# Debian's 140-certificate bundle (this sandbox sets it globally), far more than berth's own startup
# cost. Local image commands make no TLS connection, so it is unset unless BENCH_KEEP_NODE_ENV=1,
# for `node -e 0` and berth alike. NODE_OPTIONS likewise (e.g. --require hooks).
if [ "${BENCH_KEEP_NODE_ENV:-0}" != 1 ]; then
  BENCH_UNSET_ENV=$(env | grep -o -e '^NODE_EXTRA_CA_CERTS' -e '^NODE_OPTIONS' | paste -sd, - || true)
  unset NODE_EXTRA_CA_CERTS NODE_OPTIONS
fi

BENCH_TMP=$(mktemp -d "$BENCH_TMPBASE/berth-bench.XXXXXX")
PODMAN_STORES=()

bench_cleanup() {
  local d
  for d in "${PODMAN_STORES[@]+"${PODMAN_STORES[@]}"}"; do
    [ -d "$d" ] || continue
    pm "$d" system reset -f >/dev/null 2>&1 || true
    rm -rf "$d"
  done
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# The 1/5/15-minute load averages when the script started: other work on the machine shows here.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '%s\n' "$*" >&2; }

# The podman command line for a throwaway store under DIR, in the array PM (for wrappers such as
# /usr/bin/time, which cannot run a shell function): pm_argv DIR; "${PM[@]}" ARGS...
pm_argv() {
  local d=$1
  mkdir -p "$d/tmp"
  PM=(env TMPDIR="$d/tmp" "$PODMAN" --root "$d/root" --runroot "$d/run" --storage-driver overlay
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$d/tmp")
}

# podman on a throwaway store under DIR: pm DIR ARGS...
pm() {
  local PM
  pm_argv "$1"
  shift
  "${PM[@]}" "$@"
}

# A fresh podman store directory in $PM_DIR, registered for removal at exit (or by pm_drop).
# Not called as $(pm_new): the registration must happen in this shell.
pm_new() {
  PM_DIR=$(mktemp -d "$BENCH_TMP/podman.XXXXXX")
  PODMAN_STORES+=("$PM_DIR")
}

pm_drop() {
  pm "$1" system reset -f >/dev/null 2>&1 || true
  rm -rf "$1"
}

# A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice from its ephemeral range).
free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }

# berth on a store under DIR: bt DIR ARGS...
bt() {
  local d=$1
  shift
  "$BERTH" --root "$d/root" --runroot "$d/run" "$@"
}

bt_new() { mktemp -d "$BENCH_TMP/berth.XXXXXX"; }

# For the benchmarks that run containers: podman here needs the rlimits it sets for containers
# brought under the hard limit.
PODMAN_LIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

# podman_limits_conf: for what takes no --ulimit (a pod's infra, kube play), a containers.conf in
# BENCH_TMP with the same capped defaults, exported as CONTAINERS_CONF unless one is set already.
podman_limits_conf() {
  [ -n "${CONTAINERS_CONF:-}" ] && return 0
  printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n' >"$BENCH_TMP/podman-containers.conf"
  export CONTAINERS_CONF=$BENCH_TMP/podman-containers.conf
}

# busybox_stores: after prepare_berth, the busybox image (scripts/make-busybox-rootfs.sh, imported
# with CMD sh as `busybox`) in a new berth store and a new podman store. Sets TARBALL, bd (berth's
# store directory) and B (berth's command line on it), PM_DIR and PM (podman's).
busybox_stores() {
  TARBALL=$BENCH_TMP/busybox.tar
  bash "$REPO_DIR/scripts/make-busybox-rootfs.sh" "$TARBALL"
  bd=$(bt_new)
  B=("$BERTH" --root "$bd/root" --runroot "$bd/run")
  pm_new
  pm_argv "$PM_DIR"
  "${B[@]}" import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null
  "${PM[@]}" import -q --change 'CMD ["sh"]' "$TARBALL" busybox >/dev/null
}

# The EXIT trap of a benchmark on busybox_stores: berth's pods and containers go (a failed step
# leaves them running otherwise), any process still naming berth's store, podman's pods, then the
# stores (bench_cleanup; podman's `system reset` takes its containers).
containers_cleanup() {
  if [ -n "${bd:-}" ]; then
    "${B[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true
    "${B[@]}" rm -af -t 0 >/dev/null 2>&1 || true
    pkill -9 -f -- "$bd/" || true
  fi
  if [ -n "${PM_DIR:-}" ]; then "${PM[@]}" pod rm -af -t 0 >/dev/null 2>&1 || true; fi
  bench_cleanup
}

# conmon_pids ENGINE...: the conmon PID of every running container of ENGINE ("${B[@]}" or "${PM[@]}"), one a line.
conmon_pids() { "$@" ps -q --no-trunc | xargs -r "$@" container inspect --format '{{.State.ConmonPid}}'; }

# Waits for dist/ to be built by the other engineers (bin/berth fails with module-not-found while
# they rebuild), then, unless BERTH was given or BERTH_SNAPSHOT=0, copies bin/berth and dist/cli
# (the self-contained esbuild bundle the CLI runs) into the scratch directory and benchmarks that
# copy: a rebuild in the middle of a run then cannot break it or mix two builds' figures.
prepare_berth() {
  local i out before after snap
  for i in $(seq 1 "${BERTH_WAIT_TRIES:-20}"); do
    if out=$("$BERTH" version 2>&1); then
      if [ -n "${BERTH_GIVEN:-}" ] || [ "${BERTH_SNAPSHOT:-1}" = 0 ]; then return 0; fi
      snap=$BENCH_TMP/berth-build
      rm -rf "$snap"
      mkdir -p "$snap/bin" "$snap/dist"
      before=$(ls -l --time-style=+%s.%N "$REPO_DIR/dist/cli" 2>/dev/null | sha256sum)
      cp "$REPO_DIR/bin/berth" "$snap/bin/berth"
      cp -r "$REPO_DIR/dist/cli" "$snap/dist/cli" 2>/dev/null || true
      cp "$REPO_DIR/package.json" "$snap/package.json" # bin/berth is read as an ES module there
      ln -s "$REPO_DIR/node_modules" "$snap/node_modules"
      after=$(ls -l --time-style=+%s.%N "$REPO_DIR/dist/cli" 2>/dev/null | sha256sum)
      if [ "$before" = "$after" ] && [ -f "$snap/dist/cli/berth.mjs" ] && "$snap/bin/berth" version >/dev/null 2>&1; then
        BERTH_BUILT=$(date -u -r "$snap/dist/cli/berth.mjs" +%Y-%m-%dT%H:%M:%SZ)
        BERTH=$snap/bin/berth
        log "berth: benchmarking a snapshot of dist/cli built $BERTH_BUILT"
        return 0
      fi
      log "dist/cli changed while it was copied (a rebuild?); retrying in 30 s"
      sleep 30
      continue
    fi
    if grep -q -e ERR_MODULE_NOT_FOUND -e 'Cannot find module' <<<"$out"; then
      log "berth is not built yet (module not found); waiting 30 s ($i)"
      sleep 30
      continue
    fi
    log "berth version failed: $out"
    return 1
  done
  log "berth still not built; giving up"
  return 1
}

# elapsed_ms T0 [T1]: the milliseconds from T0 to T1 (both $EPOCHREALTIME; T1 now if not given).
elapsed_ms() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
# elapsed_s T0: the seconds since T0 (an $EPOCHREALTIME).
elapsed_s() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", b - a }'; }

# time_ms CMD...: runs CMD (stdout/stderr to $BENCH_TMP/last.out/.err), prints its wall time in ms.
# A failing command aborts the benchmark with its stderr.
time_ms() {
  local t0 t1 rc=0
  t0=$EPOCHREALTIME
  "$@" >"$BENCH_TMP/last.out" 2>"$BENCH_TMP/last.err" || rc=$?
  t1=$EPOCHREALTIME
  if [ "$rc" -ne 0 ]; then
    log "FAILED ($rc): $*"
    cat "$BENCH_TMP/last.err" >&2
    return "$rc"
  fi
  elapsed_ms "$t0" "$t1"
}

# peak_rss_kb FILE: reads what `/usr/bin/time -f %M -o FILE` wrote.
peak_rss_kb() { tail -n 1 "$1"; }

# monitor_kb PIDS...: "RSS PSS" in kB, summed over the processes (from /proc/PID/smaps_rollup).
monitor_kb() {
  local rss=0 pss=0 p r s
  for p in "$@"; do
    r=$(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")
    s=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")
    rss=$((rss + r)) pss=$((pss + s))
  done
  echo "$rss $pss"
}

# Statistics of numbers (one per argument): median, min, max.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n 1; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
kb_to_mb() { awk -v k="$1" 'BEGIN { printf "%.0f\n", k / 1024 }'; }
ratio() { awk -v p="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", p / b; else print "n/a" }'; }

# summary LABEL VALUES...: "LABEL  median X ms (min Y, max Z, n=N)"
summary() {
  local label=$1
  shift
  printf '%-22s median %9s ms   (min %s, max %s, n=%d)\n' "$label" "$(median "$@")" "$(minimum "$@")" "$(maximum "$@")" "$#"
}

machine_info() {
  echo "date:    $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc:   $(nproc)"
  echo "cpu:     $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory:  $(free -h | awk '/^Mem:/ { print $2 " total, " $7 " available" }')"
  echo "disk:    $(df -T "$BENCH_TMPBASE" | awk 'NR == 2 { print $2 " (" $1 ")" }') for $BENCH_TMPBASE"
  echo "kernel:  $(uname -r)"
  echo "node:    $(node --version)${BENCH_UNSET_ENV:+ (unset for the runs: $BENCH_UNSET_ENV)}"
  echo "podman:  $("$PODMAN" --version)"
  echo "berth:   $("$BERTH" version --format '{{.Version}}' 2>/dev/null || echo '?') ($(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo '?'), dist/cli built ${BERTH_BUILT:-$(date -u -r "$REPO_DIR/dist/cli/berth.mjs" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo '?')})"
}

# Deterministic bytes for test images (head closes the pipe early: the writer's SIGPIPE is
# expected, hence the `|| true`s).
keystream() { # BYTES PASS -> stdout: incompressible (an AES-256-CTR keystream from PASS)
  { openssl enc -aes-256-ctr -nosalt -pass "pass:$2" -pbkdf2 -in /dev/zero 2>/dev/null || true; } | head -c "$1"
}
text_bytes() { # BYTES SEED -> stdout: lines of words from a fixed list, chosen by a PRNG seeded with SEED
  { awk -v bytes="$1" -v seed="$2" 'BEGIN {
      n = split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu container layer image registry manifest digest overlay storage engine podman berth", w, " ")
      srand(seed); total = 0
      while (total < bytes) {
        k = 4 + int(rand() * 9); line = ""
        for (i = 0; i < k; i++) line = line w[1 + int(rand() * n)] " "
        line = line int(rand() * 100000)
        print line; total += length(line) + 1
      }
    }' || true; } | head -c "$1"
}

# A deterministic ~SIZE_MB docker-archive at PATH with two layers: SIZE_MB/2 of incompressible
# bytes (AES-256-CTR keystream from a fixed key) and SIZE_MB/2 of text (lines of words from a
# fixed list, chosen by a seeded PRNG). Tagged localhost/bench:latest. Same bytes every time.
make_big_archive() {
  local out=$1 size_mb=${2:-200} work
  local half=$((size_mb / 2))
  work=$(mktemp -d "$BENCH_TMP/archive.XXXXXX")
  mkdir -p "$work/l1/data" "$work/l2/text" "$work/out"
  keystream $((half * 1024 * 1024)) berth-bench >"$work/l1/data/random.bin"
  text_bytes $((half * 1024 * 1024)) 42 >"$work/l2/text/words.txt"
  touch -d @1700000000 "$work/l1/data/random.bin" "$work/l2/text/words.txt" "$work/l1/data" "$work/l2/text"
  local tar_opts=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --format=gnu)
  tar "${tar_opts[@]}" -C "$work/l1" -cf "$work/layer1.tar" data
  tar "${tar_opts[@]}" -C "$work/l2" -cf "$work/layer2.tar" text
  rm -rf "$work/l1" "$work/l2"
  local d1 d2 cfg cfgd
  d1=$(sha256sum "$work/layer1.tar" | cut -d' ' -f1)
  d2=$(sha256sum "$work/layer2.tar" | cut -d' ' -f1)
  mv "$work/layer1.tar" "$work/out/$d1.tar"
  mv "$work/layer2.tar" "$work/out/$d2.tar"
  cfg=$(printf '{"architecture":"amd64","os":"linux","created":"2023-11-14T22:13:20Z","config":{"Cmd":["/bin/sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]},"history":[{"created":"2023-11-14T22:13:20Z","created_by":"bench: random layer"},{"created":"2023-11-14T22:13:20Z","created_by":"bench: text layer"}]}' "$d1" "$d2")
  cfgd=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" >"$work/out/$cfgd.json"
  printf '[{"Config":"%s.json","RepoTags":["localhost/bench:latest"],"Layers":["%s.tar","%s.tar"]}]' "$cfgd" "$d1" "$d2" >"$work/out/manifest.json"
  tar "${tar_opts[@]}" -C "$work/out" -cf "$out" manifest.json "$cfgd.json" "$d1.tar" "$d2.tar"
  rm -rf "$work"
}
