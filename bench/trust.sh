#!/usr/bin/env bash
# trust: what a trust policy costs a pull (issue 17's goal: a pull of the 182 MB benchmark image
# under a `signedBy` policy within 5 % of the same pull without one). berth against itself: the
# image (bench/bench-image.sh, as pull-push.sh makes it) in the CNCF distribution registry on
# 127.0.0.1, signed with a GPG key made here (its signature in a file:// lookaside that a
# registries.d folder names); each run pulls it into an empty store twice, without and with
# `--signature-policy` (signedBy that key), the order alternating so load falls on both alike.
#
#   bash bench/trust.sh            # RUNS=5
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-5}
BIG_MB=${BIG_MB:-150}
TEXT_MB=${TEXT_MB:-40}
SMALL_MB=${SMALL_MB:-20}
SKOPEO=${SKOPEO:-skopeo}
prepare_berth
for t in "$SKOPEO" gpg gpgconf curl gzip openssl; do
  command -v "$t" >/dev/null || { log "trust: $t is not installed"; exit 1; }
done
source "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
source "$(dirname "${BASH_SOURCE[0]}")/bench-image.sh"

export GNUPGHOME=$BENCH_TMP/gnupg
trust_cleanup() {
  gpgconf --kill all 2>/dev/null || true
  servers_cleanup
}
trap trust_cleanup EXIT
mkdir -m 700 "$GNUPGHOME"
gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key 'berth bench <bench@berth.test>' default default never 2>/dev/null
FPR=$(gpg --batch --with-colons --list-secret-keys bench@berth.test | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --batch --export "$FPR" >"$BENCH_TMP/key.gpg"

make_bench_layout
start_server distribution "$BENCH_TMP/registry"
SRC=127.0.0.1:$PORT
IMG=$SRC/bench/big:1
"$SKOPEO" copy -q --preserve-digests --dest-tls-verify=false "oci:$LAYOUT:big" "docker://$IMG" >&2

REGD=$BENCH_TMP/registries.d
mkdir -p "$REGD"
printf 'default-docker:\n  lookaside: file://%s/sigs\n' "$BENCH_TMP" >"$REGD/default.yaml"
signer=$(bt_new)
bt "$signer" image sign --tls-verify=false --sign-by "$FPR" --registries.d "$REGD" "docker://$IMG" >&2
POLICY=$BENCH_TMP/policy.json
printf '{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"%s":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"%s"}]}}}\n' \
  "$SRC" "$BENCH_TMP/key.gpg" >"$POLICY"

plain=() trusted=()
for i in $(seq 1 "$RUNS"); do
  pull_plain() { d=$(bt_new); plain+=("$(time_ms bt "$d" pull -q --tls-verify=false "$IMG")"); rm -rf "$d"; }
  pull_trusted() { d=$(bt_new); trusted+=("$(time_ms bt "$d" pull -q --tls-verify=false --signature-policy "$POLICY" --registries.d "$REGD" "$IMG")"); rm -rf "$d"; }
  if [ $((i % 2)) = 1 ]; then pull_plain; pull_trusted; else pull_trusted; pull_plain; fi
  log "run $i/$RUNS: without a policy ${plain[-1]} ms, under signedBy ${trusted[-1]} ms"
done

echo "== trust: pull of the ~${IMAGE_MB} MB image, empty store, berth $("$BERTH" version --format '{{.Client.Version}}' 2>/dev/null || echo '?') (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
summary "pull, no policy" "${plain[@]}"
summary "pull, signedBy policy" "${trusted[@]}"
echo "ratio policy/none      $(ratio "$(median "${trusted[@]}")" "$(median "${plain[@]}")")   (goal: at most 1.05)"
