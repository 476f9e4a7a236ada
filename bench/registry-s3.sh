#!/usr/bin/env bash
# registry-s3: `berth registry serve` vs the CNCF distribution registry, both storing in the same S3
# server: a private Ceph RGW (one monitor, one memstore OSD, radosgw; src/testing/ceph-rgw.ts),
# started and stopped by this script. Issue 18's rows:
#   1. bench/registry.sh with S3_ENDPOINT set: 1 MiB blob GET (8 clients), manifest HEAD/GET, tags
#      list, 100 clients, and skopeo push of a ~200 MB image, berth and distribution alternating,
#      each server on a bucket of its own;
#   2. reads across replicas: 1, 2 and 3 berth replicas on one bucket, the same total load (BLOB_CONNS
#      clients for the 1 MiB blob, CONNS for the manifest) split evenly over them, requests/s summed;
#   3. memory per replica (RSS) at rest and at its peak under MANY_CONNS clients spread over the
#      replicas.
#
#   bash bench/registry-s3.sh              # RUNS=3, DURATION=5s, BIG_MB=16 (the big-blob row is not issue 18's)
#   S3_REDIRECT=true bash bench/registry-s3.sh   # berth answers blob GETs with presigned redirects
#     (wrk follows no redirect: the blob rows then count the 307 answers, not the bytes)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
prepare_berth

RUNS=${RUNS:-3}
DURATION=${DURATION:-5s}
BLOB_CONNS=${BLOB_CONNS:-8}
CONNS=${CONNS:-32}
MANY_CONNS=${MANY_CONNS:-100}
export RUNS DURATION BLOB_CONNS CONNS MANY_CONNS
export BIG_MB=${BIG_MB:-16}
export S3_REDIRECT=${S3_REDIRECT:-false}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# --- the S3 server, for this script's life --------------------------------------------------------
mkfifo "$BENCH_TMP/rgw.in"
sleep infinity >"$BENCH_TMP/rgw.in" &
HOLD_PID=$!
BERTH_CEPH_MEMSTORE_GB=${BERTH_CEPH_MEMSTORE_GB:-8} node "$REPO_ROOT/dist/lib/testing/ceph-rgw-cli.js" <"$BENCH_TMP/rgw.in" >"$BENCH_TMP/rgw.out" 2>"$BENCH_TMP/rgw.err" &
RGW_PID=$!
rgw_cleanup() {
  kill "$HOLD_PID" 2>/dev/null || true # stdin closes: the cluster goes down
  wait "$RGW_PID" 2>/dev/null || true
  servers_cleanup
}
trap rgw_cleanup EXIT
for _ in $(seq 1 600); do
  [ -s "$BENCH_TMP/rgw.out" ] && break
  kill -0 "$RGW_PID" 2>/dev/null || { log "Ceph RGW did not start:"; cat "$BENCH_TMP/rgw.err" >&2; exit 1; }
  sleep 0.1
done
read -r S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY <"$BENCH_TMP/rgw.out"
export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY
log "registry-s3: Ceph RGW at $S3_ENDPOINT"

# --- 1: the registry benchmark on S3 --------------------------------------------------------------
bash "$(dirname "${BASH_SOURCE[0]}")/registry.sh"

# --- 2, 3: replicas on one bucket -----------------------------------------------------------------
REPO=bench/replicas
BLOB=$BENCH_TMP/replica-blob.bin
keystream_mb 1 berth-replicas >"$BLOB"
BLOB_D=sha256:$(sha256sum "$BLOB" | cut -d' ' -f1)
CONF=$BENCH_TMP/replica-config.json
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["%s"]}}' "$BLOB_D" >"$CONF"
CONF_D=sha256:$(sha256sum "$CONF" | cut -d' ' -f1)
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
MANIFEST=$BENCH_TMP/replica-manifest.json
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
  "$OCI_MANIFEST" "$CONF_D" "$(stat -c %s "$CONF")" "$BLOB_D" "$(stat -c %s "$BLOB")" >"$MANIFEST"
printf 'wrk.method = "GET"\nwrk.headers["Accept"] = "%s"\n' "$OCI_MANIFEST" >"$BENCH_TMP/replica-get.lua"

PORTS=() PIDS=()
for i in 1 2 3; do
  start_server berth "$BENCH_TMP/replicas" # one bucket, "replicas", for all three
  PORTS+=("$PORT") PIDS+=("$PID")
done
upload_blob "${PORTS[0]}" "$REPO" "$CONF" "$CONF_D"
upload_blob "${PORTS[0]}" "$REPO" "$BLOB" "$BLOB_D"
curl -fsS -o /dev/null -X PUT -H "Content-Type: $OCI_MANIFEST" --data-binary "@$MANIFEST" "http://127.0.0.1:${PORTS[0]}/v2/$REPO/manifests/v1"
for p in "${PORTS[@]}"; do # what one replica took is served by every other at once
  [ "sha256:$(curl -fsS "http://127.0.0.1:$p/v2/$REPO/blobs/$BLOB_D" -L | sha256sum | cut -d' ' -f1)" = "$BLOB_D" ] || { log "replica on port $p serves another blob"; exit 1; }
done

# spread N TOTAL PATH [LUA]: TOTAL connections over the first N replicas, one wrk each, at once;
# prints the summed requests/s and the errors.
spread() {
  local n=$1 total=$2 path=$3 lua=${4:-} i pids=() sum=0 errs=0 out
  for i in $(seq 0 $((n - 1))); do
    local c=$((total / n + (i < total % n ? 1 : 0)))
    local args=(-t 1 -c "$c" -d "$DURATION" --timeout 60s)
    [ -n "$lua" ] && args+=(-s "$lua")
    wrk "${args[@]}" "http://127.0.0.1:${PORTS[$i]}$path" >"$BENCH_TMP/spread.$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || { log "wrk failed:"; cat "$BENCH_TMP/spread.$i.out" >&2; return 1; }; done
  for i in $(seq 0 $((n - 1))); do
    out=$(awk '/^Requests\/sec:/ { r = $2 } /Non-2xx or 3xx responses:/ { e += $NF } /Socket errors:/ { for (k = 1; k <= NF; k++) if ($k ~ /^[0-9]+,?$/) e += $k + 0 } END { printf "%s %d\n", r, e }' "$BENCH_TMP/spread.$i.out")
    sum=$(awk -v a="$sum" -v b="${out% *}" 'BEGIN { printf "%.1f", a + b }')
    errs=$((errs + ${out#* }))
  done
  echo "$sum $errs"
}

declare -A SCALE
for n in 1 2 3; do
  for key in blob manifest; do
    vals=''
    for _ in $(seq 1 "$RUNS"); do
      if [ $key = blob ]; then out=$(spread "$n" "$BLOB_CONNS" "/v2/$REPO/blobs/$BLOB_D"); else out=$(spread "$n" "$CONNS" "/v2/$REPO/manifests/v1" "$BENCH_TMP/replica-get.lua"); fi
      vals+="${out% *} "
      [ "${out#* }" = 0 ] || log "replicas $n $key: ${out#* } errors"
    done
    # shellcheck disable=SC2086
    SCALE[$n.$key]=$(median $vals)
    log "replicas $n, $key GET: ${SCALE[$n.$key]} req/s (runs: $vals)"
  done
done

RSS_REST=() RSS_PEAK=()
for p in "${PIDS[@]}"; do
  RSS_REST+=("$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status")")
  echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true
done
MANY_OUT=$(spread 3 "$MANY_CONNS" "/v2/$REPO/blobs/$BLOB_D")
for p in "${PIDS[@]}"; do RSS_PEAK+=("$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$p/status")"); done

echo "== registry-s3: berth replicas on one bucket of a Ceph RGW, wrk -t1 per replica -d$DURATION, n=$RUNS (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-28s %12s %12s %12s\n' "" "1 replica" "2 replicas" "3 replicas"
printf '%-28s %12s %12s %12s\n' "1 MiB blob GET, c=$BLOB_CONNS" "${SCALE[1.blob]}" "${SCALE[2.blob]}" "${SCALE[3.blob]}"
printf '%-28s %12s %12s %12s\n' "manifest GET, c=$CONNS" "${SCALE[1.manifest]}" "${SCALE[2.manifest]}" "${SCALE[3.manifest]}"
printf '%-28s %12s %12s\n' "scaling 1 -> 3 (blob)" "$(ratio "${SCALE[3.blob]}" "${SCALE[1.blob]}")" "(req/s of 3 over 1)"
printf '%-28s %12s %12s\n' "scaling 1 -> 3 (manifest)" "$(ratio "${SCALE[3.manifest]}" "${SCALE[1.manifest]}")" "(req/s of 3 over 1)"
for i in 0 1 2; do
  printf 'replica %d RSS                 %s MB at rest, peak %s MB under %d clients over 3 replicas (%s req/s in all, %s errors)\n' \
    "$((i + 1))" "$(kb_to_mb "${RSS_REST[$i]}")" "$(kb_to_mb "${RSS_PEAK[$i]}")" "$MANY_CONNS" "${MANY_OUT% *}" "${MANY_OUT#* }"
done
