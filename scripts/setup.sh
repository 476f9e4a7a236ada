#!/usr/bin/env bash
# One command from a fresh Debian machine (as root) to a working berth: system packages, npm
# dependencies, the build, `berth` on PATH, and the host quirks the OCI runtime needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# What berth runs (zstd, attr's setfattr/getfattr, the OCI runtimes, conmon, netavark and aardvark-dns for
# bridge networks, slirp4netns, catatonit
# for --init, perl for the attach socket bridge, containers-common's default seccomp profile) and what its tests
# and benchmarks drive or measure against (podman, skopeo, buildah, the CNCF registry, htpasswd,
# openssl, GNU time, wrk for the registry benchmark).
PACKAGES=(
  busybox-static zstd attr uidmap fuse-overlayfs iptables tar
  crun runc conmon netavark aardvark-dns slirp4netns catatonit perl golang-github-containers-common podman skopeo buildah docker-registry
  apache2-utils openssl time wrk
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# crun 1.8 refuses to run while the cgroup2 "unified" mount of a hybrid cgroup v1 host holds a
# controller (hugetlb here); mounting hugetlb as v1 takes it away. runc does not care.
if [ -d /sys/fs/cgroup/unified ] && grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mountpoint -q /sys/fs/cgroup/hugetlb || mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || true
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
npm run build --silent
ln -sf "$PWD/bin/berth" /usr/local/bin/berth
echo "berth $(./bin/berth version --format '{{.Version}}') installed at /usr/local/bin/berth"

# The main job, so that one command shows everything works (BERTH_SETUP_ONLY=1 skips it).
if [ "${BERTH_SETUP_ONLY:-0}" != 1 ]; then
  bash scripts/demo.sh
fi
