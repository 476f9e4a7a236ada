import { existsSync } from 'node:fs';
import { logDriverOf } from '../../engine/containers/index.js';
import { BerthError } from '../../util/errors.js';

/**
 * The `run`/`create` flags podman has and berth cannot honour on this host yet. Each fails with
 * one line naming the flag and why, before anything is pulled or made: a flag accepted and then
 * ignored would leave a container that is not what was asked for.
 */
export interface RefusableFlags {
  rootfs?: boolean;
  passwd?: boolean | string;
  passwdEntry?: string;
  hostuser?: string[];
  chrootdirs?: string[];
  preserveFds?: string;
  attach?: string[];
  interactive?: boolean;
  seccompPolicy?: string;
  systemd?: string;
  sdnotify?: string;
  requires?: string[];
  cgroups?: string;
  cgroupParent?: string;
  cgroupConf?: string[];
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  blkioWeight?: string;
  blkioWeightDevice?: string[];
  logDriver?: string;
  logOpt?: string[];
  podIdFile?: string;
}

/** Whether this host's cgroup v1 blkio controller has the proportional weight file. */
const hasBlkioWeight = () => existsSync('/sys/fs/cgroup/blkio/blkio.weight') || existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight');

function given(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== false;
}

const isSystemdCommand = (cmd: string[]) => /(^|\/)(init|systemd)$/.test(cmd[0] ?? '');

/** Throws for the first flag given that berth cannot honour; `command` is the user's command. */
export function refuseUnsupported(f: RefusableFlags, command: string[]): void {
  const no = (flag: string, why: string): never => {
    throw new BerthError('USAGE', `${flag} is not supported: ${why}`);
  };
  const simple: [keyof RefusableFlags, string, string][] = [
    ['rootfs', '--rootfs', 'berth runs images from its store, not exploded root file systems'],
    ['passwdEntry', '--passwd-entry', "berth does not edit the container's /etc/passwd"],
    ['hostuser', '--hostuser', "berth does not edit the container's /etc/passwd"],
    ['chrootdirs', '--chrootdirs', 'berth does not manage /etc files inside chroots'],
    ['preserveFds', '--preserve-fds', 'berth cannot pass extra file descriptors through conmon yet'],
    ['requires', '--requires', 'container dependencies are not implemented yet'],
    ['cgroupParent', '--cgroup-parent', 'berth places every container under its own /berth cgroup'],
    ['cgroupConf', '--cgroup-conf', 'it sets cgroup v2 files, and this host has cgroup v1'],
    ['cpuRtPeriod', '--cpu-rt-period', 'this kernel has no real-time group scheduling to give the container'],
    ['cpuRtRuntime', '--cpu-rt-runtime', 'this kernel has no real-time group scheduling to give the container'],
    ['logOpt', '--log-opt', "berth's k8s-file log takes no options yet"],
  ];
  for (const [key, flag, why] of simple) if (given(f[key])) no(flag, why);
  if (f.passwd !== undefined && !/^(false|0|no)$/i.test(String(f.passwd)))
    no('--passwd', "berth does not add the user to the container's /etc/passwd (only --passwd=false)");
  attachedStreams(f);
  if (f.seccompPolicy !== undefined && f.seccompPolicy !== 'default') {
    if (f.seccompPolicy === 'image') no('--seccomp-policy image', 'berth does not read seccomp profiles from image annotations');
    throw new BerthError('USAGE', `invalid seccomp policy "${f.seccompPolicy}": valid policies are default and image`);
  }
  if (f.systemd !== undefined) {
    if (!['true', 'false', 'always'].includes(f.systemd)) throw new BerthError('USAGE', `invalid --systemd "${f.systemd}": expected true, false or always`);
    // podman's default `true` only changes anything when the command is systemd itself.
    if (f.systemd === 'always' || (f.systemd === 'true' && isSystemdCommand(command)))
      no(`--systemd ${f.systemd}`, 'berth cannot run systemd in a container yet');
  }
  if (f.sdnotify !== undefined) {
    if (!['container', 'conmon', 'ignore'].includes(f.sdnotify))
      throw new BerthError('USAGE', `invalid --sdnotify "${f.sdnotify}": expected container, conmon or ignore`);
    // Without a NOTIFY_SOCKET there is nobody to notify, whatever the mode.
    if (f.sdnotify !== 'ignore' && process.env['NOTIFY_SOCKET'])
      no(`--sdnotify ${f.sdnotify}`, 'berth does not pass sd-notify messages on yet (use --sdnotify ignore)');
  }
  if (f.cgroups !== undefined && f.cgroups !== 'enabled') {
    if (!['disabled', 'no-conmon', 'split'].includes(f.cgroups))
      throw new BerthError('USAGE', `invalid cgroup mode "${f.cgroups}": expected enabled, disabled, no-conmon or split`);
    no(`--cgroups ${f.cgroups}`, 'berth always gives the container its own cgroup (enabled)');
  }
  if ((given(f.blkioWeight) || given(f.blkioWeightDevice)) && !hasBlkioWeight()) {
    no(
      given(f.blkioWeight) ? '--blkio-weight' : '--blkio-weight-device',
      "this kernel's blkio cgroup has no weight file (blkio.weight): the weight would be discarded",
    );
  }
  if (given(f.blkioWeightDevice)) no('--blkio-weight-device', 'per-device block IO weights are not implemented yet');
  // k8s-file (json-file its alias, as podman has it) and none; the others refused with why.
  logDriverOf(f.logDriver);
}

export type Stream = 'stdin' | 'stdout' | 'stderr';

/**
 * The streams `--attach` names (`-a stdout -a stderr`, `-a stdin,stdout`), checked: undefined
 * without the flag, when a foreground run attaches its output (and its input with -i).
 */
export function attachedStreams(f: { attach?: string[] }): Set<Stream> | undefined {
  if (!f.attach?.length) return undefined;
  const streams = new Set(f.attach.flatMap((a) => a.split(',')).map((a) => a.toLowerCase()));
  for (const s of streams)
    if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr')
      throw new BerthError('USAGE', `invalid stream "${s}" for --attach - must be one of stdin, stdout, or stderr`);
  return streams as Set<Stream>;
}

/**
 * `create --attach`: podman keeps the streams for a later `start -a`; berth's `start -a` attaches
 * the default set, so a container is made only with that set (all three with -i, else the output).
 */
export function refuseCreateAttach(f: { attach?: string[]; interactive?: boolean }): void {
  const streams = attachedStreams(f);
  if (!streams) return;
  const wanted: Stream[] = f.interactive ? ['stdin', 'stdout', 'stderr'] : ['stdout', 'stderr'];
  if (streams.size !== wanted.length || !wanted.every((s) => streams.has(s))) {
    throw new BerthError(
      'USAGE',
      `--attach ${[...streams].join(',')} is not supported by create: berth's start -a attaches ${wanted.join(', ')} together (${f.interactive ? 'with' : 'without'} -i), not a part of them`,
    );
  }
}
