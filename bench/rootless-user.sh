# Shared by bench/rootless.sh and bench/floor.sh: an ordinary user for rootless runs, made by
# src/testing/rootless-user.ts (through dist/lib/testing/rootless-user-cli.js, so `npm run build`
# first) with a subordinate range of its own, /run/user/UID as XDG_RUNTIME_DIR, and /dev/net/tun and
# /dev/fuse opened for the run (0600 on this machine kind). Sourced after lib.sh, as root.
#
#   rootless_user_make      sets RL_NAME RL_UID RL_GID RL_HOME RL_RUNTIME RL_CONF RL_RANGE
#   as_user [VAR=VALUE...] -- CMD...
#   pm_rl NAME ARGS...      rootless podman on the store NAME
#   bt_rl NAME ARGS...      berth as the user on the store NAME
#   rootless_user_remove    the user and everything of it (call from the EXIT trap)

RL_CLI=$REPO_DIR/dist/lib/testing/rootless-user-cli.js
RL_NAME=''

rootless_user_make() {
  [ -f "$RL_CLI" ] || { log "rootless: $RL_CLI not found: build first (npm run build)"; return 1; }
  [ "$(id -u)" = 0 ] || { log "rootless: run as root (it makes a user)"; return 1; }
  # Owned by this shell: if the script is killed, the next harness run (a test or a bench) sweeps it.
  read -r RL_NAME RL_UID RL_GID RL_HOME RL_RUNTIME < <(node "$RL_CLI" create --owner $$) || true
  [ -n "$RL_NAME" ] || { log "rootless: making the user failed"; return 1; }
  RL_CONF=$(node "$RL_CLI" podman-conf "$RL_NAME")
  RL_RANGE=$(awk -F: -v u="$RL_NAME" '$1 == u { print $2 "+" $3 }' /etc/subuid)
  RL_ENV=(HOME="$RL_HOME" USER="$RL_NAME" LOGNAME="$RL_NAME" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin XDG_RUNTIME_DIR="$RL_RUNTIME")
  # The user reads berth's snapshot and the files under the scratch directory.
  chmod 755 "$BENCH_TMP"
  log "rootless: user $RL_NAME (uid $RL_UID, subordinate ids $RL_RANGE)"
}

rootless_user_remove() {
  if [ -n "$RL_NAME" ]; then node "$RL_CLI" remove "$RL_NAME" || log "rootless: removing $RL_NAME failed (the next harness run sweeps it)"; fi
  RL_NAME=''
}

# as_user [VAR=VALUE...] -- CMD...: CMD as the user, in its home, with only RL_ENV and the VARs.
as_user() {
  local vars=()
  while [ "$1" != -- ]; do vars+=("$1") && shift; done
  shift
  env -i -C "$RL_HOME" "${RL_ENV[@]}" "${vars[@]+"${vars[@]}"}" setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups -- "$@"
}

# pm_rl NAME ARGS...: rootless podman on the store NAME (as src/testing/rootless-podman.ts).
pm_rl() {
  local n=$1
  shift
  as_user CONTAINERS_CONF="$RL_CONF" -- "$PODMAN" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
    --root "$RL_HOME/$n/root" --runroot "$RL_RUNTIME/$n" "$@"
}

# bt_rl NAME ARGS...: berth as the user on the store NAME.
bt_rl() {
  local n=$1
  shift
  as_user -- "$BERTH" --root "$RL_HOME/$n/root" --runroot "$RL_RUNTIME/$n" "$@"
}
