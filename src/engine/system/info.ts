import { isRootless } from '../../util/rootless.js';
import { execFileAsync as exec } from '../../util/exec-file.js';
import { existsSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import { cpus, freemem, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadRegistriesConf } from '../../config/registries.js';
import { DEFAULT_CAPABILITIES } from '../../runtime/capabilities.js';
import { findExecutable } from '../../runtime/oci-runtime.js';
import { DEFAULT_PROFILE_PATHS } from '../../runtime/seccomp.js';
import type { Store } from '../../store/store.js';
import { runRootOf } from '../containers/paths.js';
import { syncContainers } from '../containers/state.js';

/**
 * `berth info`: podman's `info` structure under its JSON names (host, store, registries, plugins,
 * version), with what berth knows of each. Fields podman fills from things berth does not have
 * (an events backend, a network backend, distribution packages) are left out rather than faked.
 */
export interface SystemInfo {
  host: Record<string, unknown>;
  store: Record<string, unknown>;
  registries: Record<string, unknown>;
  plugins: Record<string, unknown>;
  version: Record<string, unknown>;
}

/** Go's GOARCH for node's process.arch. */
export function goArch(arch: string = process.arch): string {
  return (
    ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch
  );
}

export async function systemInfo(store: Store, version: Record<string, unknown>): Promise<SystemInfo> {
  const [containers, images, host, disk, registries] = await Promise.all([
    syncContainers(store),
    store.images(),
    hostInfo(),
    statfs(store.root).catch(() => undefined),
    loadRegistriesConf().catch(() => undefined),
  ]);
  const count = (status: string) => containers.filter((c) => c.state.status === status).length;
  return {
    host,
    store: {
      containerStore: {
        number: containers.length,
        paused: count('paused'),
        running: count('running'),
        // podman counts every container neither running nor paused as stopped.
        stopped: containers.length - count('running') - count('paused'),
      },
      graphDriverName: 'overlay',
      graphOptions: {},
      graphRoot: store.root,
      ...(disk ? { graphRootAllocated: disk.blocks * disk.bsize, graphRootUsed: (disk.blocks - disk.bfree) * disk.bsize } : {}),
      imageCopyTmpDir: join(store.root, 'tmp'),
      imageStore: { number: images.length },
      runRoot: runRootOf(store),
      volumePath: join(store.root, 'volumes'),
    },
    registries: registries && registries.unqualifiedSearchRegistries.length > 0 ? { search: registries.unqualifiedSearchRegistries } : {},
    plugins: { log: ['k8s-file'], volume: ['local'] },
    version,
  };
}

async function hostInfo(): Promise<Record<string, unknown>> {
  const runtimePath = findExecutable('crun') ?? findExecutable('runc');
  const conmonPath = findExecutable('conmon');
  const slirpPath = findExecutable('slirp4netns');
  const [cgroups, distribution, meminfo, cpu, uptime, runtimeVersion, conmonVersion, slirpVersion] = await Promise.all([
    cgroupInfo(),
    osRelease(),
    readFile('/proc/meminfo', 'utf8').catch(() => ''),
    cpuUtilization(),
    uptimeText(),
    runtimePath ? versionOf(runtimePath) : undefined,
    conmonPath ? versionOf(conmonPath) : undefined,
    slirpPath ? versionOf(slirpPath) : undefined,
  ]);
  const memKb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const rootless = isRootless();
  const seccompProfile = DEFAULT_PROFILE_PATHS.find((p) => existsSync(p));
  return {
    arch: goArch(),
    cgroupControllers: cgroups.controllers,
    cgroupManager: 'cgroupfs',
    cgroupVersion: cgroups.version,
    ...(conmonPath ? { conmon: { path: conmonPath, version: (conmonVersion ?? '').split('\n').join(', ') } } : {}),
    ...(cpu ? { cpuUtilization: cpu } : {}),
    cpus: cpus().length,
    ...(distribution ? { distribution } : {}),
    hostname: hostname(),
    idMappings: rootless ? { gidmap: await idMap('gid_map'), uidmap: await idMap('uid_map') } : { gidmap: null, uidmap: null },
    kernel: release(),
    logDriver: 'k8s-file',
    memFree: freemem(),
    networkBackend: 'netavark',
    // podman 4.4's name for what a rootless container's default network is made with.
    ...(rootless ? { rootlessNetworkCmd: 'slirp4netns' } : {}),
    memTotal: totalmem(),
    ...(runtimePath ? { ociRuntime: { name: runtimePath.split('/').pop(), path: runtimePath, version: runtimeVersion ?? '' } } : {}),
    os: process.platform,
    security: {
      apparmorEnabled: false,
      capabilities: DEFAULT_CAPABILITIES.join(','),
      rootless,
      seccompEnabled: seccompProfile !== undefined,
      seccompProfilePath: seccompProfile ?? '',
      selinuxEnabled: false,
    },
    serviceIsRemote: false,
    ...(slirpPath ? { slirp4netns: { executable: slirpPath, version: slirpVersion ?? '' } } : {}),
    swapFree: memKb('SwapFree'),
    swapTotal: memKb('SwapTotal'),
    ...(uptime ? { uptime } : {}),
  };
}

/** Rootless: the user namespace's map as podman's info shows it (the user as 0, its subordinate ranges after). */
async function idMap(file: 'uid_map' | 'gid_map'): Promise<{ container_id: number; host_id: number; size: number }[]> {
  const text = await readFile(`/proc/self/${file}`, 'utf8').catch(() => '');
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isInteger))
    .map(([container_id, host_id, size]) => ({ container_id: container_id!, host_id: host_id!, size: size! }));
}

/** cgroup v2 lists its controllers in one file; on v1 they are the mounted hierarchies of /proc/cgroups. */
async function cgroupInfo(): Promise<{ version: string; controllers: string[] }> {
  const v2 = await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8').catch(() => undefined);
  if (v2 !== undefined) return { version: 'v2', controllers: v2.split(/\s+/).filter(Boolean) };
  const table = await readFile('/proc/cgroups', 'utf8').catch(() => '');
  const controllers = table
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter(([, hierarchy, , enabled]) => hierarchy !== '0' && enabled === '1')
    .map(([name]) => name!);
  return { version: 'v1', controllers };
}

async function osRelease(): Promise<Record<string, string> | undefined> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const get = (key: string) => new RegExp(`^${key}=("?)(.*)\\1$`, 'm').exec(text)?.[2] ?? '';
  const codename = get('VERSION_CODENAME');
  return { ...(codename ? { codename } : {}), distribution: get('ID'), version: get('VERSION_ID') };
}

/** Since boot, from /proc/stat's cpu line (user, system, idle), rounded to 2 places as podman does. */
async function cpuUtilization(): Promise<Record<string, number> | undefined> {
  const line = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0] ?? '';
  const f = line.split(/\s+/);
  if (f[0] !== 'cpu') return undefined;
  const [user, system, idle] = [Number(f[1]), Number(f[3]), Number(f[4])];
  const total = user + system + idle;
  if (!(total > 0)) return undefined;
  const pct = (n: number) => Math.round((n / total) * 100 * 100) / 100;
  return { idlePercent: pct(idle), systemPercent: pct(system), userPercent: pct(user) };
}

/** podman's words: `1h 18m 25.00s (Approximately 0.04 days)`, the days only after the first hour. */
export function formatUptime(seconds: number): string {
  const s = Math.trunc(seconds);
  const hours = Math.trunc(s / 3600);
  // Minutes are rounded (Go's %.0f), seconds whole: the hour and minute parts may overlap as in podman.
  const text = `${hours}h ${Math.round((s % 3600) / 60)}m ${(s % 60).toFixed(2)}s`;
  return hours > 0 ? `${text} (Approximately ${(hours / 24).toFixed(2)} days)` : text;
}

async function uptimeText(): Promise<string | undefined> {
  const text = await readFile('/proc/uptime', 'utf8').catch(() => undefined);
  const seconds = Number(text?.split(/\s+/)[0]);
  return Number.isFinite(seconds) ? formatUptime(seconds) : undefined;
}

/** `PROGRAM --version`, trimmed; '' when it fails (info must not fail for a broken helper). */
async function versionOf(path: string): Promise<string> {
  try {
    const { stdout } = await exec(path, ['--version'], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return '';
  }
}
