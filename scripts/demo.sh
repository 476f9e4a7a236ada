#!/usr/bin/env bash
# The main job: what a berth user does in a day, end to end, in throwaway stores.
#   1. make a busybox base image from Debian's busybox-static and import it
#   2. build an image from a Containerfile on top of it
#   3. run it (a web server, detached, on a network of its own, its port published), ask it for
#      its page from the host and, by name, from a second container; then remove both
#   4. serve a registry of our own on loopback, push the image to it
#   5. pull it back into a second, empty store and run it there
# Uses throwaway stores unless BERTH_ROOT is set (the pull-back store is always a throwaway one).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
registry_pid=
cleanup() {
  ./bin/berth rm -f demo-web >/dev/null 2>&1 || true
  ./bin/berth network rm -f demo-net >/dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export BERTH_ROOT=${BERTH_ROOT:-$work/store}
berth() { ./bin/berth "$@"; }

echo '== 1. a base image from busybox-static'
scripts/make-busybox-rootfs.sh "$work/busybox.tar"
berth import --change 'CMD ["/bin/sh"]' "$work/busybox.tar" busybox:latest

echo '== 2. build from a Containerfile'
mkdir -p "$work/app"
echo '<h1>hello from berth</h1>' > "$work/app/index.html"
cat > "$work/app/Containerfile" <<'CF'
FROM localhost/busybox:latest
COPY index.html /www/index.html
RUN echo "built on $(date -u +%F)" > /www/built.txt
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
CF
berth build -t demo/web:1 "$work/app"
berth images

echo '== 3. run it'
# A bridge network through netavark; the server's port published on a free loopback port.
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
berth network create demo-net
berth run -d --name demo-web --network demo-net -p "127.0.0.1:$port:8080" demo/web:1
berth port demo-web
for _ in $(seq 50); do page=$(busybox wget -qO- "http://127.0.0.1:$port/" 2>/dev/null || true); [ -n "$page" ] && break; sleep 0.1; done
echo "GET http://127.0.0.1:$port/ -> $page"
[ "$page" = '<h1>hello from berth</h1>' ] || { echo 'demo: the container did not serve its page' >&2; exit 1; }
# Another container on the same network finds the server by its name (aardvark-dns).
inside=$(berth run --rm --network demo-net busybox wget -qO- http://demo-web:8080/)
echo "GET http://demo-web:8080/ from a second container -> $inside"
[ "$inside" = '<h1>hello from berth</h1>' ] || { echo 'demo: the second container did not reach the server by name' >&2; exit 1; }
berth ps
berth rm -f demo-web
berth network rm demo-net

echo '== 4. push to a registry of our own'
reg_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# Started directly, not through the berth function: $! must be the server itself (the launcher
# execs node), not a subshell whose kill would leave the server running.
./bin/berth registry serve --addr "127.0.0.1:$reg_port" --storage "$work/registry" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do busybox wget -qO- "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
berth push --tls-verify=false demo/web:1 "127.0.0.1:$reg_port/demo/web:1"
berth inspect --tls-verify=false "docker://127.0.0.1:$reg_port/demo/web:1" --format '{{.Digest}} {{.Layers}}'

echo '== 5. pull it back into an empty store and run it'
BERTH_ROOT="$work/store2" ./bin/berth pull --tls-verify=false "127.0.0.1:$reg_port/demo/web:1"
BERTH_ROOT="$work/store2" ./bin/berth run --rm "127.0.0.1:$reg_port/demo/web:1" cat /www/index.html /www/built.txt
echo 'demo: done'
