#!/usr/bin/env bash
# registry: `berth registry serve` vs the CNCF distribution registry (/usr/bin/docker-registry,
# filesystem storage, delete enabled, log level error), both on loopback on this machine, driven by
# the same clients (wrk, ab, curl, skopeo). distribution's access log is off (berth keeps none):
# a line per request would cost it throughput. Both servers are started and stopped by this script.
#
#   1. blob GET throughput (MB/s, wrk's Transfer/sec) of a 1 MB and a 200 MB blob, and the peak RSS
#      of each server while it streams the 200 MB one (VmHWM, reset through clear_refs before);
#   2. manifest HEAD (ab) and GET (wrk), OCI manifest and Accept header, and tags list, requests/s;
#   3. `skopeo copy` push of a ~200 MB docker-archive (make_big_archive) into an empty registry, and of
#      the same image from a gzipped OCI layout;
#   4. manifest GET with 100 connections: every request must succeed (non-2xx and socket errors shown).
#
#   bash bench/registry.sh                 # RUNS=3 wrk runs / pushes per server, DURATION=5s each
#   RUNS=5 DURATION=10s bash bench/registry.sh
#   (bench/registry-s3.sh runs it with both servers on the same Ceph RGW, S3_ENDPOINT set)
#
# wrk runs alternate between the servers (berth, distribution, berth, ...), so load from other work
# on the machine falls on both alike. wrk, the server and (for Go) its threads share the machine's
# cores: figures are for this machine as a whole, not for the server alone.
# Every ratio is printed so that above 1 means berth is faster (or smaller): distribution/berth for
# times and memory, berth/distribution for rates.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
DURATION=${DURATION:-5s}
WRK_THREADS=${WRK_THREADS:-2}
CONNS=${CONNS:-32}              # manifest and tags runs
BLOB_CONNS=${BLOB_CONNS:-8}     # 1 MB blob
BIG_CONNS=${BIG_CONNS:-4}       # 200 MB blob
MANY_CONNS=${MANY_CONNS:-100}   # the concurrency check
BIG_MB=${BIG_MB:-200}
SIZE_MB=${SIZE_MB:-200}         # the pushed docker-archive
DISTRIBUTION=${DISTRIBUTION:-/usr/bin/docker-registry}
prepare_berth
for t in wrk ab curl skopeo "$DISTRIBUTION"; do
  command -v "$t" >/dev/null || { log "registry: $t is not installed (scripts/setup.sh installs it)"; exit 1; }
done

# --- servers: bench/servers.sh ---------------------------------------------------------------------
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"

# --- deterministic content -----------------------------------------------------------------------
SMALL=$BENCH_TMP/blob-1m.bin
BIG=$BENCH_TMP/blob-big.bin
keystream_mb 1 berth-registry-small >"$SMALL"
keystream_mb "$BIG_MB" berth-registry-big >"$BIG"
SMALL_D=sha256:$(sha256sum "$SMALL" | cut -d' ' -f1)
BIG_D=sha256:$(sha256sum "$BIG" | cut -d' ' -f1)
CONFIG=$BENCH_TMP/config.json
printf '{"architecture":"amd64","os":"linux","created":"2023-11-14T22:13:20Z","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["%s","%s"]}}' "$SMALL_D" "$BIG_D" >"$CONFIG"
CONFIG_D=sha256:$(sha256sum "$CONFIG" | cut -d' ' -f1)
MANIFEST=$BENCH_TMP/manifest.json
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d},{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
  "$OCI_MANIFEST" "$CONFIG_D" "$(stat -c %s "$CONFIG")" "$SMALL_D" "$(stat -c %s "$SMALL")" "$BIG_D" "$(stat -c %s "$BIG")" >"$MANIFEST"
MANIFEST_D=sha256:$(sha256sum "$MANIFEST" | cut -d' ' -f1)
REPO=bench/blobs
TAGS=(v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 latest)

# populate PORT: the three blobs, the manifest under every tag, and a check that both blobs and the
# manifest come back byte for byte.
populate() {
  local port=$1 t
  upload_blob "$port" "$REPO" "$CONFIG" "$CONFIG_D"
  upload_blob "$port" "$REPO" "$SMALL" "$SMALL_D"
  upload_blob "$port" "$REPO" "$BIG" "$BIG_D"
  for t in "${TAGS[@]}"; do
    curl -fsS -o /dev/null -X PUT -H "Content-Type: $OCI_MANIFEST" --data-binary "@$MANIFEST" "http://127.0.0.1:$port/v2/$REPO/manifests/$t"
  done
  [ "sha256:$(curl -fsSL "http://127.0.0.1:$port/v2/$REPO/blobs/$SMALL_D" | sha256sum | cut -d' ' -f1)" = "$SMALL_D" ] || { log "1 MB blob mismatch on port $port"; return 1; }
  [ "sha256:$(curl -fsSL "http://127.0.0.1:$port/v2/$REPO/blobs/$BIG_D" | sha256sum | cut -d' ' -f1)" = "$BIG_D" ] || { log "big blob mismatch on port $port"; return 1; }
  [ "sha256:$(curl -fsS -H "Accept: $OCI_MANIFEST" "http://127.0.0.1:$port/v2/$REPO/manifests/v1" | sha256sum | cut -d' ' -f1)" = "$MANIFEST_D" ] || { log "manifest mismatch on port $port"; return 1; }
  curl -fsS "http://127.0.0.1:$port/v2/$REPO/tags/list" | grep -q '"latest"' || { log "tags list on port $port lacks latest"; return 1; }
}

# --- wrk -----------------------------------------------------------------------------------------
printf 'wrk.method = "GET"\nwrk.headers["Accept"] = "%s"\n' "$OCI_MANIFEST" >"$BENCH_TMP/get.lua"
# HEAD goes through ab (apache2-utils), not wrk: wrk 4.1's parser waits for the Content-Length
# body of a HEAD response and never completes one. ab is single-threaded, HTTP/1.0 with keep-alive.
# run_ab CONNS URL: prints "req/s 0 errors requests" like run_wrk.
run_ab() {
  local secs=${DURATION%s}
  ab -q -r -k -i -c "$1" -t "$secs" -n 100000000 -H "Accept: $OCI_MANIFEST" "$2" >"$BENCH_TMP/ab.out" 2>&1 || { log "ab failed:"; cat "$BENCH_TMP/ab.out" >&2; return 1; }
  awk '
    /^Requests per second:/ { rps = $4 }
    /^Complete requests:/ { n = $3 }
    /^Failed requests:/ { err += $3 }
    /^Non-2xx responses:/ { err += $3 }
    END { if (n == 0) err += 1; printf "%.1f 0 %d %d\n", rps, err, n }' "$BENCH_TMP/ab.out"
}

# run_wrk CONNS URL [LUA]: wrk's report in $BENCH_TMP/wrk.out; prints "req/s MB/s errors" where
# errors counts non-2xx/3xx responses plus socket errors (connect, read, write, timeout).
run_wrk() {
  local c=$1 url=$2 lua=${3:-}
  local args=(-t "$WRK_THREADS" -c "$c" -d "$DURATION" --timeout 60s)
  [ -n "$lua" ] && args+=(-s "$lua")
  [ "$c" -lt "$WRK_THREADS" ] && args[1]=$c
  wrk "${args[@]}" "$url" >"$BENCH_TMP/wrk.out" 2>&1 || { log "wrk failed:"; cat "$BENCH_TMP/wrk.out" >&2; return 1; }
  awk '
    /^Requests\/sec:/ { rps = $2 }
    /^Transfer\/sec:/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
      m = (u == "GB") ? 1024 : (u == "MB") ? 1 : (u == "KB") ? 1 / 1024 : 1 / 1048576; mbs = v * m }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) err += $i + 0 }
    / requests in / { n = $1 }
    END { if (n == 0) err += 1; printf "%.1f %.1f %d %d\n", rps, mbs, err, n }' "$BENCH_TMP/wrk.out"
}

# vm_kb PID FIELD: VmRSS / VmHWM of a process in kB (node's: bin/berth runs in-process, no child).
vm_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
# reset_hwm PID: VmHWM back to the current RSS (clear_refs 5), so it shows the peak of what follows.
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || log "cannot reset VmHWM of $1 (peak since start shown)"; }

# --- 1, 2: reads from a populated registry of each ------------------------------------------------
log "registry: starting both servers and uploading ${BIG_MB} MB + 1 MB blobs to each..."
start_server berth "$BENCH_TMP/storage-berth"
B_PORT=$PORT B_PID=$PID
start_server distribution "$BENCH_TMP/storage-distribution"
D_PORT=$PORT D_PID=$PID
populate "$B_PORT"
populate "$D_PORT"
log "registry: berth pid $B_PID port $B_PORT, distribution pid $D_PID port $D_PORT"

declare -A RATE ERRS
TOTAL_ERRS=0
# measure KEY FIELD(1=req/s, 2=MB/s) CONNS PATH [LUA|ab]: RUNS wrk (or ab) runs per server, alternating.
measure() {
  local key=$1 field=$2 c=$3 path=$4 lua=${5:-} i s port out v
  RATE[$key.berth]='' RATE[$key.distribution]=''
  ERRS[$key.berth]=0 ERRS[$key.distribution]=0
  for i in $(seq 1 "$RUNS"); do
    for s in berth distribution; do
      if [ $s = berth ]; then port=$B_PORT; else port=$D_PORT; fi
      if [ "$lua" = ab ]; then out=$(run_ab "$c" "http://127.0.0.1:$port$path"); else out=$(run_wrk "$c" "http://127.0.0.1:$port$path" "$lua"); fi
      v=$(cut -d' ' -f"$field" <<<"$out")
      RATE[$key.$s]+="$v "
      ERRS[$key.$s]=$((ERRS[$key.$s] + $(cut -d' ' -f3 <<<"$out")))
      TOTAL_ERRS=$((TOTAL_ERRS + $(cut -d' ' -f3 <<<"$out")))
      log "$key run $i/$RUNS: $s $v ($(cut -d' ' -f4 <<<"$out") requests, $(cut -d' ' -f3 <<<"$out") errors)"
    done
  done
}

# rate_lines KEY UNIT LABEL: median (min, max) per server and the berth/distribution ratio.
rate_lines() {
  local key=$1 unit=$2 label=$3 b d
  # shellcheck disable=SC2086
  {
    printf '%-34s median %9s %s   (min %s, max %s, n=%d, errors %d)\n' "berth        $label" "$(median ${RATE[$key.berth]})" "$unit" "$(minimum ${RATE[$key.berth]})" "$(maximum ${RATE[$key.berth]})" "$RUNS" "${ERRS[$key.berth]}"
    printf '%-34s median %9s %s   (min %s, max %s, n=%d, errors %d)\n' "distribution $label" "$(median ${RATE[$key.distribution]})" "$unit" "$(minimum ${RATE[$key.distribution]})" "$(maximum ${RATE[$key.distribution]})" "$RUNS" "${ERRS[$key.distribution]}"
    b=$(median ${RATE[$key.berth]})
    d=$(median ${RATE[$key.distribution]})
  }
  printf '%-34s %s\n' "ratio berth/distribution" "$(ratio "$b" "$d")"
}

measure blob1 2 "$BLOB_CONNS" "/v2/$REPO/blobs/$SMALL_D"

# The big blob: VmHWM reset before each server's runs, read after; VmRSS before for the baseline.
B_RSS0=$(vm_kb "$B_PID" VmRSS) D_RSS0=$(vm_kb "$D_PID" VmRSS)
reset_hwm "$B_PID"
reset_hwm "$D_PID"
measure blobbig 2 "$BIG_CONNS" "/v2/$REPO/blobs/$BIG_D"
B_HWM=$(vm_kb "$B_PID" VmHWM) D_HWM=$(vm_kb "$D_PID" VmHWM)

measure head 1 "$CONNS" "/v2/$REPO/manifests/v1" ab
measure get 1 "$CONNS" "/v2/$REPO/manifests/v1" "$BENCH_TMP/get.lua"
measure tags 1 "$CONNS" "/v2/$REPO/tags/list"

# 4: many clients at once, one run each.
MANY=()
for s in berth distribution; do
  if [ $s = berth ]; then port=$B_PORT; else port=$D_PORT; fi
  out=$(run_wrk "$MANY_CONNS" "http://127.0.0.1:$port/v2/$REPO/manifests/v1" "$BENCH_TMP/get.lua")
  cp "$BENCH_TMP/wrk.out" "$BENCH_TMP/wrk-many-$s.out"
  MANY+=("$out")
  log "manifest GET -c$MANY_CONNS: $s $out (req/s MB/s errors requests)"
done
many_line() { # NAME "rps mbs errs n" WRKOUT
  local non2xx sock
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$3")
  sock=$(awk '/Socket errors:/ { sub(/^ *Socket errors: */, ""); print }' "$3")
  printf '%-34s %9s req/s   (%s requests: non-2xx %s, socket errors %s)\n' "$1 manifest GET" "$(cut -d' ' -f1 <<<"$2")" "$(cut -d' ' -f4 <<<"$2")" "${non2xx:-0}" "${sock:-none}"
}

stop_server "$B_PID"
stop_server "$D_PID"

# --- 3: skopeo push into an empty registry, fresh storage per run ---------------------------------
# Twice: from the docker-archive, whose plain tar layers skopeo gzips as it sends them (so its own
# compression sets the pace), and from an OCI layout holding the same image already gzipped, which
# skopeo streams as they are (so the server's receiving, hashing and writing do).
ARCHIVE=$BENCH_TMP/bench.tar
LAYOUT=$BENCH_TMP/bench-layout
log "registry: generating a ${SIZE_MB} MB docker-archive and a gzipped OCI layout of it..."
make_big_archive "$ARCHIVE" "$SIZE_MB"
skopeo copy -q "docker-archive:$ARCHIVE" "oci:$LAYOUT:big"
LAYOUT_MB=$(du -sm "$LAYOUT" | cut -f1)
cat "$ARCHIVE" "$LAYOUT"/blobs/sha256/* >/dev/null # in the page cache for both alike
# push_runs KEY SOURCE: RUNS pushes per server, alternating; times (ms) in PUSH[KEY.berth|distribution].
declare -A PUSH
push_runs() {
  local key=$1 src=$2 i s st ms
  PUSH[$key.berth]='' PUSH[$key.distribution]=''
  for i in $(seq 1 "$RUNS"); do
    for s in berth distribution; do
      st=$BENCH_TMP/push-$s-$i
      start_server "$s" "$st"
      sync
      ms=$(time_ms skopeo copy -q --dest-tls-verify=false "$src" "docker://127.0.0.1:$PORT/bench/big:1")
      curl -fsS "http://127.0.0.1:$PORT/v2/bench/big/tags/list" | grep -q '"1"' || { log "push to $s: tag 1 missing"; exit 1; }
      stop_server "$PID"
      rm -rf "$st"
      PUSH[$key.$s]+="$ms "
      log "push ($key) run $i/$RUNS: $s $ms ms"
    done
  done
}
push_runs archive "docker-archive:$ARCHIVE"
push_runs layout "oci:$LAYOUT:big"

# --- report --------------------------------------------------------------------------------------
echo "== registry: berth registry serve vs distribution ($("$DISTRIBUTION" --version 2>/dev/null | awk '{ print $NF }' || echo '?')), loopback, storage $([ -n "${S3_ENDPOINT:-}" ] && echo "S3 on Ceph RGW ($S3_ENDPOINT)" || echo 'the filesystem'), wrk -t$WRK_THREADS -d$DURATION, n=$RUNS per server (load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "-- blob GET, ${BLOB_CONNS} connections, 1 MB blob (MB/s; higher is better)"
rate_lines blob1 MB/s "blob GET 1 MB"
echo "-- blob GET, ${BIG_CONNS} connections, ${BIG_MB} MB blob (MB/s; higher is better)"
rate_lines blobbig MB/s "blob GET ${BIG_MB} MB"
printf '%-34s %s MB before, peak %s MB while streaming\n' "RSS berth" "$(kb_to_mb "$B_RSS0")" "$(kb_to_mb "$B_HWM")"
printf '%-34s %s MB before, peak %s MB while streaming\n' "RSS distribution" "$(kb_to_mb "$D_RSS0")" "$(kb_to_mb "$D_HWM")"
printf '%-34s %s\n' "ratio peak RSS distribution/berth" "$(ratio "$D_HWM" "$B_HWM")"
echo "-- manifest and tags, ${CONNS} connections (requests/s; higher is better)"
rate_lines head req/s "manifest HEAD (ab)"
rate_lines get req/s "manifest GET"
rate_lines tags req/s "tags list (${#TAGS[@]} tags)"
echo "-- ${MANY_CONNS} concurrent clients, manifest GET, one run each"
many_line berth "${MANY[0]}" "$BENCH_TMP/wrk-many-berth.out"
many_line distribution "${MANY[1]}" "$BENCH_TMP/wrk-many-distribution.out"
printf '%-34s %s\n' "ratio berth/distribution" "$(ratio "$(cut -d' ' -f1 <<<"${MANY[0]}")" "$(cut -d' ' -f1 <<<"${MANY[1]}")")"
push_lines() { # KEY
  # shellcheck disable=SC2086
  {
    summary "berth push" ${PUSH[$1.berth]}
    summary "distribution push" ${PUSH[$1.distribution]}
    echo "ratio distribution/berth     $(ratio "$(median ${PUSH[$1.distribution]})" "$(median ${PUSH[$1.berth]})")"
  }
}
echo "-- skopeo copy docker-archive (${SIZE_MB} MB, 2 plain layers, gzipped by skopeo on the way) -> empty registry, fresh storage per run"
push_lines archive
echo "-- skopeo copy oci: (the same image gzipped, ${LAYOUT_MB} MB, sent as is) -> empty registry, fresh storage per run"
push_lines layout
many_errs=$(( $(cut -d' ' -f3 <<<"${MANY[0]}") + $(cut -d' ' -f3 <<<"${MANY[1]}") ))
if [ "$TOTAL_ERRS" -ne 0 ] || [ "$many_errs" -ne 0 ]; then
  echo "!! errors: $TOTAL_ERRS in the timed runs, $many_errs in the ${MANY_CONNS}-client runs"
  exit 1
fi
