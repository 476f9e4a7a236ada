#!/usr/bin/env bash
# load-phases: where the wall time of `berth load -i` goes, from system-call timestamps (strace
# with a seccomp filter, so only the few traced calls stop the process: ~no slowdown). Not part of
# run-all: a diagnostic for BENCHMARKS.md's "where the time goes".
#
# Phases, each ending at the first system call of the next:
#   node boot        execve -> node opens dist/cli/berth.mjs (bin/berth is a sh launcher)
#   cli+open+index   berth.mjs -> the first layer blob temp file is created (CLI modules loaded,
#                    store opened, archive tar headers indexed, config parsed)
#   stream           layer bytes read from the archive, sha256'd and written to blob temp files
#                    (both layers at once) and, since the one-pass store (d8c5697), unpacked in
#                    the same pass -> the first blob fsync starts
#   blob fsync       fsync of the layer blobs -> the last layer blob is renamed into blobs/
#   to publish       -> the last layer directory is renamed into layers/ (in the older two-pass
#                    store: the whole unpack, blobs read back from the store)
#   finish           config/manifest blobs, images.json under the lock, exit
#
#   bash bench/load-phases.sh      # 5 runs
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
SIZE_MB=${SIZE_MB:-200}
command -v strace >/dev/null || { log "needs strace (apt-get install strace)"; exit 1; }
prepare_berth

ARCHIVE=$BENCH_TMP/bench.tar
make_big_archive "$ARCHIVE" "$SIZE_MB"
cat "$ARCHIVE" >/dev/null

echo "== berth load -i, ${SIZE_MB} MB docker-archive: phases in ms (load average before: $LOAD_BEFORE)"
printf '%10s %15s %8s %11s %11s %8s %8s\n' "node boot" "cli+open+index" stream "blob fsync" "to publish" finish total
for i in $(seq 1 "$RUNS"); do
  d=$(bt_new)
  sync
  strace --seccomp-bpf -f -ttt -e trace=execve,openat,fsync,rename,exit_group -o "$BENCH_TMP/strace" \
    "$BERTH" --root "$d/root" --runroot "$d/run" load -q -i "$ARCHIVE" >/dev/null
  awk '
    /execve\(/ && !t0 { t0 = $2 }
    /openat\(.*dist\/cli\/berth\.mjs"/ && !tb { tb = $2 }
    /openat\(.*\/blob-[^"]*", O_WRONLY/ && !tblob { tblob = $2 }
    /fsync\(/ && tblob && !tfs { tfs = $2 }
    /rename\(.*\/blob-[^"]*", .*\/blobs\/sha256\// && nren < 2 { tren = $2; nren++ }
    /rename\(.*\/layer-[^"]*", .*\/layers\// { tlay = $2 }
    /exit_group\(/ { tex = $2 }
    END { printf "%10.0f %15.0f %8.0f %11.0f %11.0f %8.0f %8.0f\n", (tb-t0)*1000, (tblob-tb)*1000, (tfs-tblob)*1000, (tren-tfs)*1000, (tlay-tren)*1000, (tex-tlay)*1000, (tex-t0)*1000 }
  ' "$BENCH_TMP/strace"
  rm -rf "$d"
done
