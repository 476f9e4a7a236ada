# Registry servers for the benchmarks: berth's and the CNCF distribution registry, each on a free
# loopback port, stopped by the script that started them (and all of them on exit). Sourced after
# lib.sh; uses $BERTH (prepare_berth), $BENCH_TMP and $DISTRIBUTION.
DISTRIBUTION=${DISTRIBUTION:-/usr/bin/docker-registry}
SERVER_PIDS=()
servers_cleanup() {
  local p
  for p in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do wait "$p" 2>/dev/null || true; done
  bench_cleanup
}
trap servers_cleanup EXIT

# wait_up PORT PID NAME: until GET /v2/ answers (200, or 401 with auth), or the process dies.
wait_up() {
  local i
  for i in $(seq 1 200); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/v2/" && return 0
    kill -0 "$2" 2>/dev/null || { log "$3 exited at startup:"; cat "$BENCH_TMP/$3.$1.log" >&2; return 1; }
    sleep 0.05
  done
  log "$3 did not come up on port $1"
  return 1
}

# s3_bucket STORAGE: with S3_ENDPOINT set (bench/registry-s3.sh), the bucket that stands for the
# storage directory STORAGE (its base name, made S3-safe), made if missing.
s3_bucket() {
  local b
  b=$(basename "$1" | tr 'A-Z_.' 'a-z--' | tr -cd 'a-z0-9-')
  (cd "$(dirname "${BASH_SOURCE[0]}")/.." && node bench/s3-bucket.mjs "$b") >&2 || return 1
  printf '%s\n' "$b"
}

# start_server KIND STORAGE: starts berth or distribution on a free port; sets PORT and PID.
# STORAGE is a directory, or with S3_ENDPOINT set a bucket named after it on that S3 server
# (distribution's s3-aws driver with its in-memory blob-descriptor cache, as Debian ships it, and
# without AWS_CA_BUNDLE, which its SDK would try to load for an http endpoint too).
# distribution's access log is off (berth keeps none): a line per request would cost it throughput.
start_server() {
  local kind=$1 storage=$2 bucket=
  PORT=$(free_port)
  mkdir -p "$storage"
  [ -n "${S3_ENDPOINT:-}" ] && bucket=$(s3_bucket "$storage")
  if [ "$kind" = berth ] && [ -n "$bucket" ]; then
    printf '[http]\naddr = "127.0.0.1:%s"\n[storage.s3]\nendpoint = "%s"\nregion = "us-east-1"\nbucket = "%s"\npath_style = true\naccess_key = "%s"\nsecret_key = "%s"\nredirect = %s\n' \
      "$PORT" "$S3_ENDPOINT" "$bucket" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "${S3_REDIRECT:-false}" >"$BENCH_TMP/config.$PORT.toml"
    "$BERTH" --root "$BENCH_TMP/berth-root" --runroot "$BENCH_TMP/berth-run" registry serve \
      --config "$BENCH_TMP/config.$PORT.toml" >"$BENCH_TMP/$kind.$PORT.log" 2>&1 &
  elif [ "$kind" = berth ]; then
    "$BERTH" --root "$BENCH_TMP/berth-root" --runroot "$BENCH_TMP/berth-run" registry serve \
      --addr "127.0.0.1:$PORT" --storage "$storage" >"$BENCH_TMP/$kind.$PORT.log" 2>&1 &
  elif [ -n "$bucket" ]; then
    # distribution redirects blob GETs to presigned URLs unless told not to: it does so here exactly
    # when berth does (S3_REDIRECT), so that both either stream the bytes or answer 307.
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  s3:\n    accesskey: %s\n    secretkey: %s\n    region: us-east-1\n    regionendpoint: %s\n    bucket: %s\n    secure: false\n    v4auth: true\n  cache:\n    blobdescriptor: inmemory\n  delete:\n    enabled: true\n  redirect:\n    disable: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$S3_ENDPOINT" "$bucket" "$([ "${S3_REDIRECT:-false}" = true ] && echo false || echo true)" "$PORT" >"$BENCH_TMP/config.$PORT.yml"
    env -u AWS_CA_BUNDLE "$DISTRIBUTION" serve "$BENCH_TMP/config.$PORT.yml" >"$BENCH_TMP/$kind.$PORT.log" 2>&1 &
  else
    printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
      "$storage" "$PORT" >"$BENCH_TMP/config.$PORT.yml"
    "$DISTRIBUTION" serve "$BENCH_TMP/config.$PORT.yml" >"$BENCH_TMP/$kind.$PORT.log" 2>&1 &
  fi
  PID=$!
  SERVER_PIDS+=("$PID")
  wait_up "$PORT" "$PID" "$kind"
}

stop_server() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${SERVER_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  SERVER_PIDS=("${keep[@]+"${keep[@]}"}")
}

# keystream_mb MB PASS: MB megabytes of reproducible incompressible bytes on stdout.
keystream_mb() { keystream $(($1 * 1024 * 1024)) "$2"; }

# upload_blob PORT REPO FILE DIGEST: POST an upload, then PUT the whole body with ?digest= (both
# servers take this two-step monolithic upload).
upload_blob() {
  local loc
  loc=$(curl -fsS -o /dev/null -D - -X POST "http://127.0.0.1:$1/v2/$2/blobs/uploads/" | awk 'tolower($1) == "location:" { sub(/\r$/, "", $2); print $2 }')
  [ -n "$loc" ] || { log "no upload location from port $1"; return 1; }
  case $loc in http*) ;; *) loc=http://127.0.0.1:$1$loc ;; esac
  case $loc in *\?*) loc=$loc\&digest=$4 ;; *) loc=$loc\?digest=$4 ;; esac
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$3" "$loc"
}
