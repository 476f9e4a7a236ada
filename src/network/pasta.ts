import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from '../runtime/oci-runtime.js';
import { makeDirs } from '../util/dirs.js';
import { BerthError } from '../util/errors.js';
import {
  checkForwardedProtocols,
  FORWARDER_READY_MS,
  lastLine,
  requireTunForUsers,
  stopForwarder,
  type ForwarderState,
  type StartingForwarder,
} from './forwarder.js';
import type { PortMapping } from './types.js';

/**
 * pasta (Debian's `passt` package) for a container's pinned network namespace, as podman 4.4+ runs
 * it: `--config-net` copies the host's addresses and routes into the namespace, `-t`/`-u` publish
 * ports (pasta binds them on the host), and nothing else is forwarded unless asked. The options of
 * `--network pasta:OPTIONS` are pasta's own, passed through; `--map-gw` is podman's word for
 * leaving out `--no-map-gw` (the gateway's address then reaches the host).
 */

/** The options berth sets itself: given again, they would take the namespace or the process out of its hands. */
const OWN_OPTIONS = new Set(['--netns', '--netns-only', '--userns', '-P', '--pid', '-f', '--foreground', '--runas', '--config-net']);

/** podman's pseudo-option: keep pasta's gateway mapping (its default) instead of `--no-map-gw`. */
const MAP_GW = '--map-gw';

/** The options of `pasta:OPTIONS` (split at commas), refused in one line when berth sets them itself. */
export function parsePastaOptions(words: readonly string[]): string[] {
  for (const w of words) {
    const name = w.startsWith('--') ? w.split('=')[0]! : w;
    if (OWN_OPTIONS.has(name)) throw new BerthError('USAGE', `--network pasta: berth sets ${name} itself; it cannot be given as an option`);
  }
  return [...words];
}

/** `-p` checked for what pasta publishes: TCP and UDP. */
export function checkPastaPorts(ports: readonly PortMapping[]): void {
  checkForwardedProtocols('pasta', ports);
}

/** pasta's port spec for a mapping: `[ADDRESS/]HOST[-HOSTEND]:CONTAINER[-CONTAINEREND]`. */
function portSpec(m: PortMapping): string {
  const range = (start: number) => (m.range > 1 ? `${start}-${start + m.range - 1}` : `${start}`);
  return `${m.host_ip ? `${m.host_ip}/` : ''}${range(m.host_port)}:${range(m.container_port)}`;
}

/** Whether any of the options is one of these flags (as a word of its own or `--flag=…`). */
const given = (options: readonly string[], ...flags: string[]) =>
  options.some((o) => flags.includes(o) || flags.some((f) => f.startsWith('--') && o.startsWith(`${f}=`)));

/**
 * pasta's arguments: the ports, the user's options, and `none` for every direction nobody asked to
 * forward (pasta's default, `auto`, would forward every port the container binds).
 */
export function pastaArgs(options: readonly string[], ports: readonly PortMapping[], netns: string, pidFile: string): string[] {
  const own = options.filter((o) => o !== MAP_GW);
  const publish = ports.flatMap((m) => [m.protocol === 'udp' ? '-u' : '-t', portSpec(m)]);
  const all = [...publish, ...own];
  return [
    '--config-net',
    // This pasta (2023-03-09), started as root, drops to `nobody` before it joins the namespace and
    // then cannot: as its own user it can. In a user namespace 0 is the user who owns it.
    '--runas',
    '0',
    // Errors only (pasta refuses --quiet beside its debugging options).
    ...(given(all, '-d', '--debug', '--trace') ? [] : ['--quiet']),
    ...all,
    ...(given(all, '-t', '--tcp-ports') ? [] : ['-t', 'none']),
    ...(given(all, '-u', '--udp-ports') ? [] : ['-u', 'none']),
    ...(given(all, '-T', '--tcp-ns') ? [] : ['-T', 'none']),
    ...(given(all, '-U', '--udp-ns') ? [] : ['-U', 'none']),
    ...(options.includes(MAP_GW) || given(all, '--no-map-gw') ? [] : ['--no-map-gw']),
    '--pid',
    pidFile,
    '--netns',
    netns,
  ];
}

/** The host's default IPv4 route: its interface and gateway (/proc/net/route, little-endian hex). */
function defaultRoute(): { iface: string; gateway: string } | undefined {
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const [iface, destination, gateway] = line.trim().split(/\s+/);
      if (iface && destination === '00000000' && gateway) {
        const n = Number.parseInt(gateway, 16);
        return { iface, gateway: [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24].join('.') };
      }
    }
  } catch {
    // no procfs
  }
  return undefined;
}

/** The value of a pasta option given as `-x VALUE` or `--long VALUE`/`--long=VALUE`. */
function optionValue(options: readonly string[], short: string, long: string): string | undefined {
  for (const [i, o] of options.entries()) {
    if (o === short || o === long) return options[i + 1];
    if (o.startsWith(`${long}=`)) return o.slice(long.length + 1);
  }
  return undefined;
}

/**
 * The container's IPv4 address under pasta (the host's own, on the interface of its default route,
 * unless `-a` names one) and the host as the container reaches it: the gateway, when it is mapped
 * to the host (`--map-gw`); otherwise nothing reaches the host.
 */
export function pastaAddresses(options: readonly string[]): { container?: string; host?: string } {
  const route = defaultRoute();
  const asked = optionValue(options, '-a', '--address');
  const own = asked && isIP(asked) === 4 ? asked : networkInterfaces()[route?.iface ?? '']?.find((a) => a.family === 'IPv4')?.address;
  const gateway = optionValue(options, '-g', '--gateway') ?? route?.gateway;
  return { ...(own ? { container: own } : {}), ...(options.includes(MAP_GW) && gateway && isIP(gateway) === 4 ? { host: gateway } : {}) };
}

/**
 * Starts pasta on the pinned namespace `netns`: it configures the namespace, binds the published
 * ports and then forks into the background, its first process leaving 0 when all went well. It
 * ends by itself when the namespace file is removed (teardown). Returns with its state when ready.
 */
export async function startPasta(opts: {
  netns: string;
  dir: string;
  name: string;
  options: readonly string[];
  ports: readonly PortMapping[];
}): Promise<StartingForwarder> {
  const bin = findExecutable('pasta');
  if (!bin) throw new BerthError('USAGE', 'pasta not found: install it (apt install passt) or use --network slirp4netns|none|host');
  await requireTunForUsers('pasta');
  await makeDirs(opts.dir);
  const pidFile = join(opts.dir, `${opts.name}.pid`);
  await rm(pidFile, { force: true });
  const state: ForwarderState = { program: 'pasta', pid: 0, files: [pidFile] };
  const ready = (async () => {
    const child = spawn(bin, pastaArgs(opts.options, opts.ports, opts.netns, pidFile), { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    // 'exit', not 'close': the daemon it forks may hold the pipe a moment longer.
    let timer: NodeJS.Timeout | undefined;
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', (e) => reject(new BerthError('IO', `starting pasta: ${e.message}`, { cause: e })));
      child.once('exit', (c, s) => resolve([c, s]));
      // Killed, it exits by the signal and is reported as failed below.
      timer = setTimeout(() => child.kill('SIGKILL'), FORWARDER_READY_MS);
    }).finally(() => clearTimeout(timer));
    child.stderr!.destroy();
    const pid = Number.parseInt(await readFile(pidFile, 'utf8').catch(() => ''), 10);
    state.pid = Number.isNaN(pid) ? 0 : pid;
    if (code !== 0) {
      await stopForwarder(state);
      throw new BerthError('IO', `pasta failed (${signal ?? `exit ${code}`}): ${lastLine(stderr) || 'no message'}`);
    }
    return state;
  })();
  ready.catch(() => undefined);
  return { state, release: () => undefined, ready };
}
