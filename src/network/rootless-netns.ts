import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { findExecutable } from '../runtime/oci-runtime.js';
import { BerthError } from '../util/errors.js';
import { DirLock } from '../util/lock.js';
import { isMounted } from '../util/mounts.js';
import { processStartTime } from '../util/process.js';
import { createNetns, removeNetns } from './netns.js';
import { privilegedPortLine, unprivilegedPortStart } from './port-assignment.js';
import { addHostForward, forwardsOf, listHostForwards, removeHostForward } from './slirp-api.js';
import type { PortMapping } from './types.js';

/**
 * Rootless, berth is UID 0 of the user's namespace but has no power over the host's network
 * namespace: no bridge, veth or firewall rule can go there. As rootless podman 4 does, a user's
 * bridge networks live in one network namespace of their own (the "rootless netns", one per run
 * root), pinned as a bind mount, reaching out through slirp4netns attached to it: netavark runs
 * inside it (netavark.ts), so the bridges, the containers' veths, the firewall rules and aardvark-dns
 * are all there, and a published port is a slirp4netns forward from the host to the same port in
 * the namespace, where netavark's own rules carry it on to the container.
 *
 * It lives as long as a container uses it: each container on a bridge network is listed in
 * `users/` while its network is up, and the last one to leave ends slirp4netns and the namespace.
 */

/** The rootless netns's own address on slirp4netns's tap0 (slirp4netns's default with --configure). */
export const ROOTLESS_NETNS_ADDRESS = '10.0.2.100';
/** slirp4netns's subnet inside the rootless netns: no bridge network may take it there. */
export const ROOTLESS_NETNS_SUBNET = '10.0.2.0/24';
/** slirp4netns's DNS forwarder, as the rootless netns reaches it. */
export const ROOTLESS_NETNS_DNS = '10.0.2.3';

interface Files {
  dir: string;
  netns: string;
  socket: string;
  pid: string;
  log: string;
  users: string;
  resolvConf: string;
  lock: DirLock;
}

/** Everything of the rootless netns sits under netavark's config directory (`<run root>/networks`). */
function filesOf(configDir: string): Files {
  const dir = join(configDir, 'rootless-netns');
  return {
    dir,
    netns: join(dir, 'netns'),
    socket: join(dir, 'slirp4netns.sock'),
    pid: join(dir, 'slirp4netns.pid'),
    log: join(dir, 'slirp4netns.log'),
    users: join(dir, 'users'),
    resolvConf: join(dir, 'resolv.conf'),
    lock: new DirLock(join(configDir, 'rootless-netns.lock')),
  };
}

/** The pinned rootless netns of this config directory, where netavark runs. */
export const rootlessNetnsPath = (configDir: string): string => filesOf(configDir).netns;

/**
 * The resolv.conf aardvark-dns is given in the rootless netns (netavark.ts mounts it over
 * /etc/resolv.conf for netavark, whose aardvark-dns reads its upstream servers there), when there
 * is one: the namespace is up and the host's own would not do.
 */
export const rootlessResolvConfPath = (configDir: string): string => filesOf(configDir).resolvConf;

/**
 * What aardvark-dns must see instead of the host's resolv.conf in the rootless netns, or undefined
 * when the host's serves as it is: a nameserver on the host's loopback (systemd-resolved's
 * 127.0.0.53, a local dnsmasq), or none at all (which means the loopback), is not there inside the
 * namespace, so, as podman does, slirp4netns's DNS stands in for it, forwarding from the host.
 */
export function rootlessResolvConf(hostResolv: string): string | undefined {
  const loopback = (ip: string) => ip.startsWith('127.') || ip === '::1';
  const servers = [...hostResolv.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  if (servers.length > 0 && !servers.some(loopback)) return undefined;
  const others = hostResolv.split('\n').filter((l) => l.trim() !== '' && !/^\s*nameserver\s/.test(l));
  const kept = [...new Set(servers.map((ip) => (loopback(ip) ? ROOTLESS_NETNS_DNS : ip)))];
  return `${[...others, ...(kept.length ? kept : [ROOTLESS_NETNS_DNS]).map((ip) => `nameserver ${ip}`)].join('\n')}\n`;
}

/**
 * Whether the process is still running: its start time matches, and it is not a zombie. A process
 * that ended is reaped by whoever inherited it (its berth is long gone), which may take a while
 * (seconds on this machine kind), and until then it would pass for alive.
 */
function running(pid: number, start: string | undefined): boolean {
  if (start === undefined || processStartTime(pid) !== start) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The running slirp4netns of the rootless netns (PID and start time match its file), if any. */
async function liveSlirp(f: Files): Promise<number | undefined> {
  const [pid, start] = (await readFile(f.pid, 'utf8').catch(() => '')).trim().split(/\s+/);
  if (!pid || !/^\d+$/.test(pid) || !running(Number(pid), start)) return undefined;
  return Number(pid);
}

/**
 * Makes the namespace and attaches slirp4netns to it, unless both are there already. Either one
 * alone (slirp4netns killed, or a namespace left by a user namespace made anew) is no use, so what
 * is left of it is taken down first.
 */
async function ensureUp(f: Files): Promise<void> {
  if ((await liveSlirp(f)) && (await isMounted(f.netns))) return;
  await takeDown(f);
  await createNetns(f.netns);
  try {
    const resolv = rootlessResolvConf(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    if (resolv) await writeFile(f.resolvConf, resolv, { mode: 0o644 });
    await startSlirp(f);
  } catch (e) {
    await removeNetns(f.netns).catch(() => undefined);
    throw e;
  }
}

async function startSlirp(f: Files): Promise<void> {
  const bin = findExecutable('slirp4netns');
  if (!bin) throw new BerthError('USAGE', 'slirp4netns not found: rootless bridge networks need it (apt install slirp4netns)');
  // A socket left by a slirp4netns that was killed would make its bind fail.
  await rm(f.socket, { force: true });
  const log = openSync(f.log, 'w', 0o600);
  // Detached, in a session of its own: it outlives this command and a terminal's signals.
  const child = spawn(
    bin,
    ['--configure', '--mtu=65520', '--disable-host-loopback', '--api-socket', f.socket, '--ready-fd=3', '--netns-type=path', f.netns, 'tap0'],
    { detached: true, stdio: ['ignore', log, log, 'pipe'] },
  );
  closeSync(log);
  const ready = child.stdio[3] as Readable;
  try {
    await new Promise<void>((resolve, reject) => {
      ready.once('data', () => resolve());
      child.once('error', (e) => reject(new BerthError('IO', `starting slirp4netns: ${e.message}`, { cause: e })));
      child.once('exit', (code, signal) => {
        void readFile(f.log, 'utf8')
          .catch(() => '')
          .then((text) => reject(slirpFailure(text, signal ?? `exit ${code}`)));
      });
    });
  } finally {
    ready.destroy();
  }
  child.removeAllListeners('exit');
  child.unref();
  const start = processStartTime(child.pid!);
  if (!start) throw new BerthError('IO', 'slirp4netns of the rootless network namespace ended as it started');
  await writeFile(f.pid, `${child.pid} ${start}\n`, { mode: 0o600 });
}

/** slirp4netns's failure in one line; a closed /dev/net/tun says what to do about it. */
function slirpFailure(log: string, how: string): BerthError {
  if (/\/dev\/net\/tun.*(Permission denied|Operation not permitted|No such file)/.test(log)) {
    return new BerthError(
      'USAGE',
      '/dev/net/tun is not accessible: rootless networks need it open to users (mode 0666, as Debian ships it: chmod 0666 /dev/net/tun)',
    );
  }
  const last = log.trim().split('\n').at(-1) ?? '';
  return new BerthError('IO', `slirp4netns of the rootless network namespace failed (${how}): ${last || 'no message'}`);
}

/** Ends slirp4netns, any aardvark-dns left in the namespace, and the namespace itself. */
async function takeDown(f: Files): Promise<void> {
  const slirp = await liveSlirp(f);
  const inside = await processesInNetns(f);
  for (const pid of [...(slirp ? [slirp] : []), ...inside]) signal(pid, 'SIGTERM');
  await removeNetns(f.netns);
  // aardvark-dns's PID file too: no aardvark-dns outlives the namespace, and netavark, finding a
  // PID there that is not yet reaped (a zombie answers kill 0), would signal it instead of starting
  // one for the next namespace's first network, and no name would resolve.
  await Promise.all([f.socket, f.pid, f.log, f.resolvConf, aardvarkPidFile(f)].map((p) => rm(p, { force: true })));
  for (const pid of [...(slirp ? [slirp] : []), ...inside]) await untilGone(pid);
}

/** Where netavark keeps the PID of the aardvark-dns it started (netavark's config directory). */
const aardvarkPidFile = (f: Files) => join(f.dir, '..', 'aardvark-dns', 'aardvark.pid');

/**
 * aardvark-dns of this config directory, when it still runs inside the namespace being ended:
 * netavark stops it with a network's last container, so this is what a killed command left.
 */
async function processesInNetns(f: Files): Promise<number[]> {
  const ino = await stat(f.netns).then(
    (s) => s.ino,
    () => undefined,
  );
  if (ino === undefined || !(await isMounted(f.netns))) return [];
  const pid = Number((await readFile(aardvarkPidFile(f), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return [];
  const ns = await readlink(`/proc/${pid}/ns/net`).catch(() => '');
  return ns === `net:[${ino}]` ? [pid] : [];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

async function untilGone(pid: number): Promise<void> {
  const start = processStartTime(pid);
  for (let i = 0; running(pid, start) && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
  if (running(pid, start)) signal(pid, 'SIGKILL');
}

/** The containers listed as using the namespace whose own namespace is still pinned; the others' entries are dropped. */
async function liveUsers(f: Files): Promise<string[]> {
  const names = await readdir(f.users).catch(() => [] as string[]);
  const live: string[] = [];
  for (const name of names) {
    const netns = await readFile(join(f.users, name), 'utf8').catch(() => '');
    if (netns && (await isMounted(netns))) live.push(name);
    else await rm(join(f.users, name), { force: true });
  }
  return live;
}

/**
 * The host ports a user may publish: slirp4netns binds them as the user, in the host's network
 * namespace, where a port below net.ipv4.ip_unprivileged_port_start needs a privilege the user has
 * not. `create` checked them already; the setting may have changed since.
 */
export function checkUnprivilegedPorts(ports: readonly PortMapping[], start = unprivilegedPortStart()): void {
  const low = ports.find((m) => m.host_port < start);
  if (low) throw new BerthError('USAGE', privilegedPortLine(low.host_port, start));
}

/**
 * A container joins the rootless netns before netavark sets it up: the namespace is made if need
 * be, the container listed (with its own pinned namespace, so an entry whose container died
 * without leaving is known for one), and its published ports forwarded from the host.
 */
export async function joinRootlessNetns(configDir: string, containerId: string, containerNetns: string, ports: readonly PortMapping[]): Promise<void> {
  checkUnprivilegedPorts(ports);
  const f = filesOf(configDir);
  await mkdir(f.users, { recursive: true, mode: 0o700 });
  await f.lock.with(async () => {
    await ensureUp(f);
    await writeFile(join(f.users, containerId), containerNetns);
    const added: number[] = [];
    try {
      for (const m of ports) for (const fwd of forwardsOf(m, ROOTLESS_NETNS_ADDRESS)) added.push(await addHostForward(f.socket, fwd));
    } catch (e) {
      for (const id of added) await removeHostForward(f.socket, id).catch(() => undefined);
      await rm(join(f.users, containerId), { force: true });
      if ((await liveUsers(f)).length === 0) await takeDown(f).catch(() => undefined);
      throw e;
    }
  });
}

/**
 * A container leaves after netavark's teardown: its forwards removed and its entry dropped; the
 * last container out ends slirp4netns and the namespace.
 */
export async function leaveRootlessNetns(configDir: string, containerId: string, ports: readonly PortMapping[]): Promise<void> {
  const f = filesOf(configDir);
  await f.lock.with(async () => {
    if (ports.length && (await liveSlirp(f))) {
      const mine = new Set(ports.flatMap((m) => forwardsOf(m, ROOTLESS_NETNS_ADDRESS)).map((x) => `${x.proto} ${x.host_addr} ${x.host_port}`));
      const entries = await listHostForwards(f.socket).catch(() => []);
      for (const e of entries) if (mine.has(`${e.proto} ${e.host_addr} ${e.host_port}`)) await removeHostForward(f.socket, e.id).catch(() => undefined);
    }
    await rm(join(f.users, containerId), { force: true });
    if ((await liveUsers(f)).length === 0) await takeDown(f);
  });
}

/**
 * Ends the rootless netns whatever uses it (`system migrate`, after its containers were stopped):
 * returns whether there was one.
 */
export async function endRootlessNetns(configDir: string): Promise<boolean> {
  const f = filesOf(configDir);
  if (!existsSync(f.dir)) return false;
  return f.lock.with(async () => {
    const was = (await liveSlirp(f)) !== undefined || (await isMounted(f.netns));
    await takeDown(f);
    await rm(f.users, { recursive: true, force: true });
    return was;
  });
}
