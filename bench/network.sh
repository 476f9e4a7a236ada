#!/usr/bin/env bash
# network: containers on each engine's default bridge network (netavark 1.4 for both), berth beside
# podman on the same busybox image.
#   1. `run --rm busybox true` with no --network flag (each tool's default bridge network), and the
#      same with --network none for reference: bridge minus none is the network setup's own cost.
#   2. Throughput host -> container through a published port: busybox httpd in a container with
#      `-p 127.0.0.1:PORT:80`, serving a DOWNLOAD_MB file (made in the container with dd, gone
#      with it), fetched with curl DOWNLOADS times after one untimed fetch.
# podman runs apart from the host's podman state: its own store (lib.sh) and a private
# containers.conf whose default network is one made for this run (its own name, bridge and a /24
# that nothing on the host routes), so its bridge and netavark rules cannot meet anyone else's.
# Only the IPAM database is shared: rootful podman keeps it in /run/containers/networks whatever
# the config says; `network rm` at the end drops this network's part of it. After the runs, the
# script checks that no link, netns or iptables rule of its containers is left, and fails if one is.
#
#   bash bench/network.sh     # RUNS=10 DOWNLOAD_MB=1024 DOWNLOADS=5
# Until berth has bridge networks, its side runs with stand-ins (and the output says so):
#   BERTH_NET_FLAGS='--network none'  flags for berth's "bridge" runs (default: none, berth's default)
#   BERTH_PUBLISH=host                berth's httpd on --network host, on the port itself, no -p
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-10}
DOWNLOAD_MB=${DOWNLOAD_MB:-1024}
DOWNLOADS=${DOWNLOADS:-5}
BERTH_PUBLISH=${BERTH_PUBLISH:-port}
read -r -a BERTH_NET <<<"${BERTH_NET_FLAGS:-}"
[[ $DOWNLOAD_MB =~ ^[1-9][0-9]*$ ]] || { log "DOWNLOAD_MB must be a whole number of MiB"; exit 2; }
[[ $DOWNLOADS =~ ^[1-9][0-9]*$ ]] || { log "DOWNLOADS must be 1 or more"; exit 2; }

# A 10.2xx.y (the /24's first three octets) that no route and no address on this host is in or
# contains (cni-podman0 has 10.88.0.0/16 here; other engines may add theirs while we run).
free_subnet() {
  local i net
  for i in $(seq 1 100); do
    net=10.$((200 + RANDOM % 56)).$((RANDOM % 256))
    [ -z "$(ip -4 route show root "$net.0/24" || true)" ] || continue
    [ -z "$(ip -4 route show match "$net.0/24" | grep -v '^default' || true)" ] || continue
    ip -4 -o addr show | grep -qF " $net." && continue
    echo "$net"
    return 0
  done
  log "no free 10.2xx.y.0/24 found"
  return 1
}

# --- podman's private network configuration ---------------------------------------------------
NET=berth-bench-$$
BRIDGE=pmbench$$ # at most 14 characters (IFNAMSIZ leaves 15)
if ip link show dev "$BRIDGE" >/dev/null 2>&1; then
  log "a link named $BRIDGE exists already"
  exit 1
fi
SUBNET=$(free_subnet)
NETCONF=$BENCH_TMP/netconf
mkdir -p "$NETCONF"
NETAVARK_DIR=$(dirname "${NETAVARK:-/usr/lib/podman/netavark}")
# The conf podman runs with, and one for removing the network at the end (podman refuses to
# remove its default network).
write_podman_conf() {
  cat <<EOF
[containers]
# This sandbox's hard limits (no CAP_SYS_RESOURCE): podman's defaults make crun fail.
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
helper_binaries_dir = ["$NETAVARK_DIR"]

[network]
network_backend = "netavark"
network_config_dir = "$NETCONF"
default_network = "$1"
default_subnet = "$SUBNET.0/24"
EOF
}
write_podman_conf "$NET" >"$BENCH_TMP/containers.conf"
write_podman_conf podman >"$BENCH_TMP/containers-rm.conf"
export CONTAINERS_CONF=$BENCH_TMP/containers.conf
# podman's own format; dns_enabled false like podman's built-in default network.
cat >"$NETCONF/$NET.json" <<EOF
{
  "name": "$NET",
  "id": "$(printf '%s %s' "$NET" "$EPOCHREALTIME" | sha256sum | cut -d' ' -f1)",
  "driver": "bridge",
  "network_interface": "$BRIDGE",
  "created": "$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)",
  "subnets": [{ "subnet": "$SUBNET.0/24", "gateway": "$SUBNET.1" }],
  "ipv6_enabled": false,
  "internal": false,
  "dns_enabled": false,
  "ipam_options": { "driver": "host-local" }
}
EOF

# --- stores and cleanup ------------------------------------------------------------------------
prepare_berth
busybox_stores
# Containers go first (their teardown takes the veths, netns and rules with it), then podman's
# network (its IPAM part), then the stores.
network_cleanup() {
  "${B[@]}" rm -af -t 0 >/dev/null 2>&1 || true
  CONTAINERS_CONF=$BENCH_TMP/containers-rm.conf pm "$PM_DIR" network rm -f "$NET" >/dev/null 2>&1 || true
  bench_cleanup
}
trap network_cleanup EXIT

backend=$("${PM[@]}" info --format '{{.Host.NetworkBackend}}')
[ "$backend" = netavark ] || { log "podman's network backend is $backend, not netavark"; exit 1; }
berth_label=berth
[ ${#BERTH_NET[@]} -eq 0 ] || berth_label="berth (${BERTH_NET[*]})"

# --- 1. run --rm busybox true, bridge and none ---------------------------------------------------
# One untimed run each, so that first-use work (cgroup parents, lazy dirs, the bridge's first
# creation) is not measured; the bridge ones print the container's addresses other than lo, to
# make sure the run without --network is on a bridge.
not_lo() { awk '$2 != "lo" { print $2, $4 }' | paste -sd' ' -; }
b_addr=$("${B[@]}" run --rm "${BERTH_NET[@]}" busybox ip -o -4 addr show | not_lo)
p_addr=$("${PM[@]}" run --rm busybox ip -o -4 addr show | not_lo)
log "berth, ${BERTH_NET_FLAGS:-no --network flag}: ${b_addr:-lo only}"
log "podman, no --network flag: $p_addr"
[[ $p_addr == "eth0 $SUBNET."* ]] || { log "podman's run is not on the bench's network $SUBNET.0/24"; exit 1; }
if [ ${#BERTH_NET[@]} -eq 0 ] && [[ $b_addr != eth0* ]]; then
  log "berth's run without --network has no eth0 (not a bridge?): ${b_addr:-lo only}"
  exit 1
fi
"${B[@]}" run --rm --network none busybox true
"${PM[@]}" run --rm --network none busybox true

bb=() pb=() bn=() pn=()
for i in $(seq 1 "$RUNS"); do
  bb+=("$(time_ms "${B[@]}" run --rm "${BERTH_NET[@]}" busybox true)")
  pb+=("$(time_ms "${PM[@]}" run --rm busybox true)")
  bn+=("$(time_ms "${B[@]}" run --rm --network none busybox true)")
  pn+=("$(time_ms "${PM[@]}" run --rm --network none busybox true)")
  log "run $i/$RUNS: bridge berth ${bb[-1]} ms, podman ${pb[-1]} ms; none berth ${bn[-1]} ms, podman ${pn[-1]} ms"
done

# --- 2. throughput through a published port ------------------------------------------------------
# The container makes the file, then execs httpd: once httpd answers, the file is complete. The
# size and port reach the container's shell as arguments, never as shell text.
WEB_SH='mkdir -p /srv && dd if=/dev/zero of=/srv/big bs=1M count="$1" 2>/dev/null && exec httpd -f -p "$2" -h /srv'
BYTES=$((DOWNLOAD_MB * 1024 * 1024))

# fetch_all LABEL PORT ENGINE...: waits for httpd on PORT (the container of ENGINE named web),
# fetches /big once untimed and DOWNLOADS times timed; MB/s (10^6 bytes) in SPEEDS.
fetch_all() {
  local label=$1 port=$2 i out code size speed
  shift 2
  local url=http://127.0.0.1:$port/big
  for i in $(seq 1 1200); do
    code=$(curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    [ "$code" != 000 ] && break
    if [ $((i % 20)) -eq 0 ] && [ "$("$@" inspect --format '{{.State.Running}}' web 2>/dev/null)" != true ]; then
      log "$label: the web container is not running:"
      "$@" logs web >&2 || true
      return 1
    fi
    sleep 0.1
  done
  [ "$code" != 000 ] || { log "$label: httpd did not answer on port $port"; return 1; }
  SPEEDS=()
  for i in $(seq 0 "$DOWNLOADS"); do
    out=$(curl -sS -o /dev/null --max-time 600 -w '%{http_code} %{size_download} %{speed_download}' "$url")
    read -r code size speed <<<"$out"
    if [ "$code" != 200 ] || [ "$size" != "$BYTES" ]; then
      log "$label: GET $url gave HTTP $code and $size bytes, not 200 and $BYTES"
      return 1
    fi
    [ "$i" -eq 0 ] && continue
    SPEEDS+=("$(awk -v s="$speed" 'BEGIN { printf "%.0f\n", s / 1e6 }')")
    log "$label download $i/$DOWNLOADS: ${SPEEDS[-1]} MB/s"
  done
}

# web_fact FIELD ENGINE...: one field of the container named web, empty where the engine has none
# ("<no value>", or an error for a field it does not know).
web_fact() {
  local field=$1
  shift
  "$@" container inspect --format "{{$field}}" web 2>/dev/null | sed -e 's/<no value>//g' -e 's/ *$//' || true
}
# web_facts PREFIX ENGINE...: sets PREFIX_id, _ip, _sandbox and _net (the network names).
web_facts() {
  local prefix=$1
  shift
  printf -v "${prefix}_id" '%s' "$(web_fact .Id "$@")"
  printf -v "${prefix}_ip" '%s' "$(web_fact .NetworkSettings.IPAddress "$@")"
  printf -v "${prefix}_sandbox" '%s' "$(web_fact .NetworkSettings.SandboxKey "$@")"
  printf -v "${prefix}_net" '%s' "$(web_fact 'range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end' "$@")"
}

# Two distinct free ports (the kernel's picks, so other users' ports are not taken).
BPORT=$(free_port)
PPORT=$(free_port)
while [ "$PPORT" = "$BPORT" ]; do PPORT=$(free_port); done

# podman first, then berth, one at a time: they would share the CPUs otherwise.
"${PM[@]}" run -d --name web -p "127.0.0.1:$PPORT:80" busybox sh -c "$WEB_SH" sh "$DOWNLOAD_MB" 80 >/dev/null
web_facts p "${PM[@]}"
p_veths=$(ip -o link show master "$BRIDGE" | awk -F': ' '{ print $2 }' | cut -d@ -f1 | paste -sd, -)
if [ "$p_net" != "$NET" ] || [ "${p_ip%.*}" != "$SUBNET" ] || [ -z "$p_veths" ]; then
  log "podman's web container is not on the bench's bridge: network '$p_net', address '$p_ip', veths on $BRIDGE '$p_veths'"
  exit 1
fi
log "podman: backend $backend, default network $NET (bridge $BRIDGE, $SUBNET.0/24), web at $p_ip (host side $p_veths), port $PPORT"
fetch_all podman "$PPORT" "${PM[@]}"
p_speeds=("${SPEEDS[@]}")
"${PM[@]}" rm -f -t 0 web >/dev/null

if [ "$BERTH_PUBLISH" = host ]; then
  b_publish="--network host, httpd on 127.0.0.1:$BPORT (stand-in: no -p)"
  "${B[@]}" run -d --name web --network host busybox sh -c "$WEB_SH" sh "$DOWNLOAD_MB" "127.0.0.1:$BPORT" >/dev/null
else
  b_publish="-p 127.0.0.1:$BPORT:80"
  "${B[@]}" run -d --name web -p "127.0.0.1:$BPORT:80" busybox sh -c "$WEB_SH" sh "$DOWNLOAD_MB" 80 >/dev/null
fi
web_facts b "${B[@]}"
b_bridge=
if [ -n "${b_net:-}" ] && [ "$b_net" = "${b_net%% *}" ]; then
  b_bridge=$("${B[@]}" network inspect --format '{{.NetworkInterface}}' "$b_net" 2>/dev/null || true)
fi
log "berth: web at ${b_ip:-?} on network ${b_net:-?} (bridge ${b_bridge:-?}), $b_publish"
fetch_all berth "$BPORT" "${B[@]}"
b_speeds=("${SPEEDS[@]}")
"${B[@]}" rm -f -t 0 web >/dev/null

# --- what is left on the host --------------------------------------------------------------------
# (podman refuses to remove its default network, hence the other conf)
CONTAINERS_CONF=$BENCH_TMP/containers-rm.conf pm "$PM_DIR" network rm -f "$NET" >/dev/null

# leftovers LABEL SANDBOXKEY PATTERN...: the host's links and iptables rules (nat and filter) that
# contain a PATTERN, and the netns if its path is still there; prints them, returns 1 if any.
leftovers() {
  local label=$1 sandbox=$2 p found
  shift 2
  local args=()
  for p in "$@"; do [ -n "$p" ] && args+=(-e "$p"); done
  found=$({ ip -o link show; iptables -t nat -S; iptables -S; } 2>/dev/null | grep -F "${args[@]}" || true)
  if [ -n "$sandbox" ] && [ -e "$sandbox" ]; then found+=$'\n'"netns $sandbox"; fi
  if [ -n "${found//$'\n'/}" ]; then
    log "$label left behind:"
    log "$found"
    echo "left behind"
    return 1
  fi
  echo none
}
status=0
# The bridge must be gone too: netavark deletes it with its last veth.
p_left=$(leftovers podman "$p_sandbox" "$BRIDGE" "$SUBNET.0/24" "$p_ip/" "$p_ip:" "--dport $PPORT " "$p_id") || status=1
b_patterns=("--dport $BPORT " "${b_id:-}")
[ -z "${b_ip:-}" ] || b_patterns+=("$b_ip/" "$b_ip:")
b_left=$(leftovers berth "${b_sandbox:-}" "${b_patterns[@]}") || status=1
if [ -n "$b_bridge" ] && ip link show dev "$b_bridge" >/dev/null 2>&1; then
  b_left+=", bridge $b_bridge still up with $(ip -o link show master "$b_bridge" | wc -l) ports (other stores' containers?)"
fi

# --- results ---------------------------------------------------------------------------------------
echo "== network: run --rm busybox true, default bridge network (no --network flag) and --network none, n=$RUNS (load average before: $LOAD_BEFORE)"
echo "podman: backend $backend (podman info); default network $NET (private containers.conf): bridge $BRIDGE, $SUBNET.0/24"
summary "$berth_label bridge" "${bb[@]}"
summary "podman bridge" "${pb[@]}"
echo "ratio podman/berth     $(ratio "$(median "${pb[@]}")" "$(median "${bb[@]}")") (bridge)"
summary "berth none" "${bn[@]}"
summary "podman none" "${pn[@]}"
echo "ratio podman/berth     $(ratio "$(median "${pn[@]}")" "$(median "${bn[@]}")") (none)"
awk -v label="$berth_label" -v bb="$(median "${bb[@]}")" -v bn="$(median "${bn[@]}")" -v pb="$(median "${pb[@]}")" -v pn="$(median "${pn[@]}")" \
  'BEGIN { printf "network cost (bridge - none, medians): %s %.1f ms, podman %.1f ms\n", label, bb - bn, pb - pn }'
echo "== network: throughput host -> container, busybox httpd, $DOWNLOAD_MB MiB file, curl, n=$DOWNLOADS (after 1 untimed)"
echo "berth:  $b_publish; the container at ${b_ip:-?} on network ${b_net:-?}, bridge ${b_bridge:-?}"
echo "podman: -p 127.0.0.1:$PPORT:80; the container at $p_ip on network $p_net, $p_veths on bridge $BRIDGE"
printf '%-22s median %9s MB/s (min %s, max %s, n=%d)\n' "berth" "$(median "${b_speeds[@]}")" "$(minimum "${b_speeds[@]}")" "$(maximum "${b_speeds[@]}")" "${#b_speeds[@]}"
printf '%-22s median %9s MB/s (min %s, max %s, n=%d)\n' "podman" "$(median "${p_speeds[@]}")" "$(minimum "${p_speeds[@]}")" "$(maximum "${p_speeds[@]}")" "${#p_speeds[@]}"
echo "ratio berth/podman     $(ratio "$(median "${b_speeds[@]}")" "$(median "${p_speeds[@]}")") (above 1: berth faster)"
echo "left on the host after rm: podman $p_left; berth $b_left"
echo "took ${SECONDS} s"
exit "$status"
