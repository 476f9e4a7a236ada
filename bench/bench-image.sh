# The benchmark image of bench/pull-push.sh (bench/rootless.sh pulls it too), built as an OCI
# layout under $BENCH_TMP/layout. Sourced after lib.sh; make_bench_layout sets LAYOUT, LAYER_DIGEST,
# LAYER_SIZE, LAYER_DIFFID, BIG_BLOB, TEXT_BLOB and IMAGE_MB. The layout's images (ref.name):
#   big        one ~BIG_MB (150) MB layer of incompressible bytes (an AES-CTR keystream), one ~TEXT_MB
#              (40) MB layer of text (words from a seeded PRNG), ten small layers (a little text and
#              256 KB of random bytes each): ~182 MB of gzip layers, the same bytes every time
#   one-big    the big layer alone
#   one-small  one SMALL_MB (20) MB layer of random bytes
BIG_MB=${BIG_MB:-150}
TEXT_MB=${TEXT_MB:-40}
SMALL_MB=${SMALL_MB:-20}

LAYOUT=$BENCH_TMP/layout
TAR_OPTS=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --format=gnu)
declare -A LAYER_DIGEST LAYER_SIZE LAYER_DIFFID
# add_layer NAME DIR: tars DIR's content, gzips it into the layout's blobs, records its descriptor.
add_layer() {
  local name=$1 dir=$2 tmp=$BENCH_TMP/layer.tar d
  find "$dir" -exec touch -h -d @1700000000 {} +
  tar "${TAR_OPTS[@]}" -C "$dir" -cf "$tmp" .
  LAYER_DIFFID[$name]=sha256:$(sha256sum "$tmp" | cut -d' ' -f1)
  gzip -n -6 -c "$tmp" >"$LAYOUT/blobs/sha256/incoming"
  d=$(sha256sum "$LAYOUT/blobs/sha256/incoming" | cut -d' ' -f1)
  mv "$LAYOUT/blobs/sha256/incoming" "$LAYOUT/blobs/sha256/$d"
  LAYER_DIGEST[$name]=sha256:$d
  LAYER_SIZE[$name]=$(stat -c %s "$LAYOUT/blobs/sha256/$d")
  rm -rf "$tmp" "$dir"
}

# add_blob FILE: moves FILE into the layout's blobs; prints "digest size".
add_blob() {
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$LAYOUT/blobs/sha256/$d"
  echo "sha256:$d $s"
}

# add_image REF LAYER...: a config and an OCI manifest over the named layers, listed in index.json
# under REF (the image's ref.name).
INDEX_ENTRIES=()
add_image() {
  local ref=$1 diffids='' layers='' history='' l cfg man
  shift
  for l in "$@"; do
    diffids+="${diffids:+,}\"${LAYER_DIFFID[$l]}\""
    layers+="${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"${LAYER_DIGEST[$l]}\",\"size\":${LAYER_SIZE[$l]}}"
    history+="${history:+,}{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"bench: $l\"}"
  done
  printf '{"architecture":"amd64","os":"linux","created":"2023-11-14T22:13:20Z","config":{"Cmd":["/bin/sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
    "$diffids" "$history" >"$BENCH_TMP/config.json"
  read -r cfg cfgsize < <(add_blob "$BENCH_TMP/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[%s]}' \
    "$cfg" "$cfgsize" "$layers" >"$BENCH_TMP/manifest.json"
  read -r man mansize < <(add_blob "$BENCH_TMP/manifest.json")
  INDEX_ENTRIES+=("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$man\",\"size\":$mansize,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$ref\"}}")
}

make_bench_layout() {
  local w i
  log "bench image: generating it (${BIG_MB} MB random + ${TEXT_MB} MB text + 10 small layers, gzip)..."
  mkdir -p "$LAYOUT/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
  w=$BENCH_TMP/work
  mkdir -p "$w/data" && keystream $((BIG_MB * 1024 * 1024)) berth-pull-big >"$w/data/random.bin" && add_layer big "$w"
  mkdir -p "$w/text" && text_bytes $((TEXT_MB * 1024 * 1024)) 42 >"$w/text/words.txt" && add_layer text "$w"
  SMALL_LAYERS=()
  for i in $(seq 1 10); do
    mkdir -p "$w/small$i"
    text_bytes $((16 * 1024 * i)) "$i" >"$w/small$i/notes.txt"
    keystream $((256 * 1024)) "berth-pull-small-$i" >"$w/small$i/blob.bin"
    add_layer "small$i" "$w"
    SMALL_LAYERS+=("small$i")
  done
  mkdir -p "$w/data" && keystream $((SMALL_MB * 1024 * 1024)) berth-pull-one >"$w/data/random.bin" && add_layer one "$w"
  add_image big big text "${SMALL_LAYERS[@]}"
  add_image one-big big
  add_image one-small one
  printf '{"schemaVersion":2,"manifests":[%s]}' "$(IFS=,; echo "${INDEX_ENTRIES[*]}")" >"$LAYOUT/index.json"
  BIG_BLOB=$LAYOUT/blobs/sha256/${LAYER_DIGEST[big]#sha256:}
  TEXT_BLOB=$LAYOUT/blobs/sha256/${LAYER_DIGEST[text]#sha256:}
  IMAGE_MB=$(du -sm "$LAYOUT/blobs" | cut -f1) # (one-small's layer included: a few MB off)
}
