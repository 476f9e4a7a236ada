#!/usr/bin/env bash
# The main job for now: make a busybox base image from Debian's busybox-static, import it, list
# it, save it. Uses a throwaway store unless BERTH_ROOT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BERTH_ROOT=${BERTH_ROOT:-$work/store}
scripts/make-busybox-rootfs.sh "$work/busybox.tar"
./bin/berth import --change 'CMD ["/bin/sh"]' "$work/busybox.tar" busybox:latest
./bin/berth images
./bin/berth save -o "$work/busybox-save.tar" busybox:latest
echo "saved: $(du -h "$work/busybox-save.tar" | cut -f1) docker-archive of localhost/busybox:latest"
