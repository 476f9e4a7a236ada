import { type Command, Option } from 'commander';

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * The rest of podman 4.3's `run`/`create` flags. Each one berth honours says what it does; each
 * one it cannot honour on this host is still declared (so it is not "unknown") and fails with one
 * line saying why (see commands/_create-refusals.ts), never accepted silently.
 */
export function withMoreCreateFlags(cmd: Command): Command {
  return (
    bareBoolsAsTrue(cmd, BOOL_FLAGS)
      // What the container is made of and where its image comes from.
      .option('--platform <os/arch[/variant]>', 'pull the image for this platform (conflicts with --arch and --os)')
      .option('--arch <arch>', "pull the image for this architecture instead of the host's")
      .option('--os <os>', "pull the image for this OS instead of the host's")
      .option('--variant <variant>', 'pull the image for this architecture variant')
      .option('--disable-content-trust', 'a docker option that does nothing (accepted as podman does)')
      .option('--rootfs', 'the first argument is an exploded root file system (not supported)')
      .option('--image-volume <mode>', "the image's VOLUMEs: bind (anonymous volumes, default), tmpfs or ignore")
      .option('--volumes-from <container[:ro|rw]>', 'mount the volumes and binds of another container', collect, [])
      // The process and its environment.
      .option('--env-host', "copy the host's environment into the container")
      .option('--env-merge <KEY=VALUE>', "set a variable from the image's, e.g. PATH=${PATH}:/opt/bin", collect, [])
      .option('--unsetenv <name>', "remove a default variable (the image's or berth's)", collect, [])
      .option('--unsetenv-all', "remove all default variables (the image's and berth's)")
      .option('--http-proxy [bool]', "pass the host's proxy variables (http_proxy, https_proxy, ftp_proxy, no_proxy) (default true)")
      .option('--label-file <file>', 'read labels from a file of KEY=VALUE lines', collect, [])
      .option('--group-add <group>', 'add a supplementary group (a name in the image or a GID)', collect, [])
      .option('--umask <mask>', "the process's umask (default 0022)")
      .option('--tz <zone>', 'time zone inside the container (an IANA name or local)')
      .option('--init-path <path>', 'the init binary for --init')
      .option('--personality <domain>', 'execution domain: LINUX or LINUX32')
      .option('--passwd-entry <entry>', 'a line for /etc/passwd (not supported)')
      .option('--hostuser <user>', 'add a host user to /etc/passwd (not supported)', collect, [])
      .option('--chrootdirs <dir>', 'chroot directories inside the container (not supported)', collect, [])
      .option('-a, --attach <stream>', 'attach STDIN, STDOUT or STDERR (run: any of them; create: the set start -a attaches)', collect, [])
      .option('--seccomp-policy <policy>', 'seccomp profile choice: default (image is not supported)')
      .option('--systemd <mode>', 'systemd mode: true (default; only when the command is systemd or init), false, always')
      .option('--sdnotify <mode>', 'sd-notify: container (default), conmon or ignore')
      .option('--timeout <seconds>', 'kill the container after it has run this many seconds (its exit code then -1)')
      .option('--requires <container>', 'containers to start first (not supported yet)', collect, [])
      .option('--pidfile <path>', "write the container's PID to this file at each start")
      .option('--conmon-pidfile <path>', "write the PID of the container's monitor (conmon) to this file at each start")
      .option('--cidfile <path>', 'write the container ID to this file')
      // /etc files.
      .option('--no-hosts', "leave the image's /etc/hosts as it is")
      .option('--read-only-tmpfs [bool]', 'with --read-only, mount tmpfs on /run, /tmp and /var/tmp (default true)')
      .option('--shm-size <size>', 'size of /dev/shm (default 64m)')
      .option('--sysctl <key=value>', 'set a namespaced kernel parameter', collect, [])
      // Namespaces.
      .option('--pid <mode>', 'PID namespace: private (default) or host')
      .option('--ipc <mode>', 'IPC namespace: private (default), shareable, none or host')
      .option('--uts <mode>', 'UTS namespace: private (default) or host')
      .option('--cgroupns <mode>', 'cgroup namespace: private (default) or host')
      .option('--userns <mode>', 'user namespace: host (default); others are not supported yet')
      .option('--uidmap <map>', 'UID mapping for a user namespace (not supported yet)', collect, [])
      .option('--gidmap <map>', 'GID mapping for a user namespace (not supported yet)', collect, [])
      .option('--subuidname <name>', 'subordinate UIDs from /etc/subuid (not supported yet)')
      .option('--subgidname <name>', 'subordinate GIDs from /etc/subgid (not supported yet)')
      // Devices and cgroup resources.
      .option('--device <host[:container][:rwm]>', 'give the container a host device', collect, [])
      .option('--device-cgroup-rule <rule>', 'allow devices in the device cgroup: "c|b|a MAJOR:MINOR rwm"', collect, [])
      .option('--cgroups <mode>', 'cgroup mode: enabled (default); others are not supported')
      .option('--cgroup-parent <path>', 'parent cgroup (not supported yet)')
      .option('--cgroup-conf <key=value>', 'cgroup v2 settings (not supported: this host has cgroup v1)', collect, [])
      .option('--cpu-shares <shares>', 'CPU shares (relative weight)')
      .option('--cpu-period <us>', 'CPU CFS period in microseconds')
      .option('--cpu-quota <us>', 'CPU CFS quota in microseconds')
      .option('--cpuset-cpus <list>', 'CPUs the container may run on (0-3, 0,1)')
      .option('--cpuset-mems <list>', 'memory nodes the container may use (0-3, 0,1)')
      .option('--cpu-rt-period <us>', 'real-time period (not supported: no real-time group scheduling here)')
      .option('--cpu-rt-runtime <us>', 'real-time runtime (not supported: no real-time group scheduling here)')
      .option('--memory-swap <size>', 'memory plus swap limit (-1 for unlimited swap)')
      .option('--memory-reservation <size>', 'memory soft limit')
      .option('--memory-swappiness <0-100>', "how readily the container's pages are swapped")
      .addOption(new Option('--kernel-memory <size>', 'no longer supported: ignored with a warning').hideHelp())
      .option('--oom-kill-disable', "do not OOM-kill the container's processes")
      .option('--oom-score-adj <n>', "the processes' OOM score adjustment (-1000 to 1000)")
      .option('--blkio-weight <10-1000>', "block IO weight (needs blkio.weight in the host's cgroup)")
      .option('--blkio-weight-device <device:weight>', 'block IO weight of a device (needs blkio.weight)', collect, [])
      .option('--device-read-bps <device:rate>', 'limit reads from a device (bytes per second)', collect, [])
      .option('--device-write-bps <device:rate>', 'limit writes to a device (bytes per second)', collect, [])
      .option('--device-read-iops <device:rate>', 'limit reads from a device (IO per second)', collect, [])
      .option('--device-write-iops <device:rate>', 'limit writes to a device (IO per second)', collect, [])
      // Logging.
      .option('--log-driver <driver>', 'logging driver: k8s-file (default; json-file is its alias) or none')
      .option('--log-opt <opt>', 'logging driver options (not supported yet)', collect, [])
      // Networks.
      .option('--ip <address>', 'a static IPv4 address on the (one) network')
      .option('--ip6 <address>', 'a static IPv6 address on the (one) network')
      .option('--mac-address <address>', 'a static MAC address on the (one) network')
      .option('--network-alias <alias>', 'another name the container is found by on its networks', collect, [])
      .option('-p, --publish <spec>', 'publish a port: [ip:][hostPort[-end]:]containerPort[-end][/tcp|udp|sctp]', collect, [])
      .option('-P, --publish-all', 'publish every exposed port on a random host port')
      .option('--expose <port>', 'expose a port or range (published by -P)', collect, [])
      .option('--pod <name>', "run in a pod (NAME or ID), sharing its infra container's namespaces; new:NAME makes the pod")
      .option('--pod-id-file <file>', 'run in the pod whose ID is in this file (pod create --pod-id-file)')
  );
}

/** The `--flag[=bool]` options of run/create: podman's booleans, which never take the next word. */
const BOOL_FLAGS = ['--http-proxy', '--read-only-tmpfs', '--passwd', '--sig-proxy', '--tls-verify'];

/**
 * commander gives an optional option-argument the next word (`--read-only-tmpfs busybox` would
 * take the image as the value); podman's booleans take a value only after `=`. So a bare one
 * before the image becomes `--flag=true`; everything from the image on is the container's.
 */
export function bareBoolsAsTrue(cmd: Command, names: readonly string[]): Command {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (args: string[]) => {
    const out = [...args];
    for (let i = 0; i < out.length; i++) {
      const a = out[i]!;
      if (a === '--' || !a.startsWith('-') || a === '-') break;
      if (names.includes(a)) {
        out[i] = `${a}=true`;
        continue;
      }
      // A flag whose value is the next word: skip that word too.
      const opt = cmd.options.find((o) => o.long === a || o.short === a);
      if (opt?.required) i++;
    }
    return parse(out);
  };
  return cmd;
}

/** `run`'s own flags beyond create's. */
export function withMoreRunFlags(cmd: Command): Command {
  return cmd
    .option('--rmi', 'remove the image once the container has exited (with --rm)')
    .option('--passwd [bool]', 'add the user to /etc/passwd when missing (only false is supported)')
    .option('--preserve-fds <n>', 'pass more file descriptors into the container (not supported)');
}
