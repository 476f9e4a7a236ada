import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { containerCgroupPath, type ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import { cgroupsDisabled } from '../../runtime/rootless-cgroups.js';

/** One interface's counters, as /proc/net/dev has them. */
export interface InterfaceCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** One reading of a container's cgroup and network counters (zeros for one not running). */
export interface StatsReading {
  /** Wall clock of the reading, in ns. */
  at: number;
  /** CPU time used by the container, in ns: all, in user and kernel mode, per CPU. */
  cpuNs: number;
  cpuUserNs: number;
  cpuSystemNs: number;
  perCpuNs: number[];
  /** The host's CPU time (all CPUs, all modes), in ns: what a share of the machine is taken against. */
  systemCpuNs: number;
  onlineCpus: number;
  /** Memory in use and its limit (the host's memory when unlimited), in bytes; the cgroup's memory.stat. */
  mem: number;
  limit: number;
  memStats: Record<string, number>;
  pids: number;
  /** The pids limit; 0 when unlimited. */
  pidsLimit: number;
  /** Per interface but loopback, in the container's network namespace. */
  networks: Record<string, InterfaceCounters>;
  /** Bytes by device and operation (Read, Write, Sync, Async, Discard, Total). */
  blkio: { major: number; minor: number; op: string; value: number }[];
}

async function cgroupFile(c: ContainerRecord, controller: string, file: string): Promise<string | undefined> {
  // v1 (each controller its own hierarchy) or v2 (one unified hierarchy); see runtime/spec's cgroupsPath.
  const path = containerCgroupPath(c);
  const candidates = [join('/sys/fs/cgroup', controller, path, file), join('/sys/fs/cgroup', path, file)];
  for (const p of candidates) {
    const v = await readFile(p, 'utf8').catch(() => undefined);
    if (v !== undefined) return v.trim();
  }
  return undefined;
}

/** The interfaces of the namespace the container's process is in, loopback left out. */
async function netCounters(pid: number): Promise<Record<string, InterfaceCounters>> {
  const dev = pid > 0 ? await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => '') : '';
  const out: Record<string, InterfaceCounters> = {};
  for (const line of dev.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name!.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    const n = (i: number) => f[i] ?? 0;
    out[name!.trim()] = { rxBytes: n(0), rxPackets: n(1), rxErrors: n(2), rxDropped: n(3), txBytes: n(8), txPackets: n(9), txErrors: n(10), txDropped: n(11) };
  }
  return out;
}

/** Block I/O bytes by device (v1 blkio.throttle.io_service_bytes, or v2 io.stat's rbytes/wbytes). */
async function blockCounters(c: ContainerRecord): Promise<StatsReading['blkio']> {
  const v1 = await cgroupFile(c, 'blkio', 'blkio.throttle.io_service_bytes');
  const out: StatsReading['blkio'] = [];
  if (v1 !== undefined) {
    for (const line of v1.split('\n')) {
      const [dev, op, n] = line.split(/\s+/);
      const [major, minor] = (dev ?? '').split(':').map(Number);
      if (op && n !== undefined && major !== undefined && minor !== undefined && !Number.isNaN(major)) out.push({ major, minor, op, value: Number(n) });
    }
    return out;
  }
  for (const line of ((await cgroupFile(c, '', 'io.stat')) ?? '').split('\n')) {
    const [dev, ...fields] = line.split(/\s+/);
    const [major, minor] = (dev ?? '').split(':').map(Number);
    if (major === undefined || minor === undefined || Number.isNaN(major)) continue;
    const kv = Object.fromEntries(fields.map((f) => f.split('=')));
    out.push({ major, minor, op: 'Read', value: Number(kv.rbytes ?? 0) }, { major, minor, op: 'Write', value: Number(kv.wbytes ?? 0) });
  }
  return out;
}

/** The host's CPU time in ns from /proc/stat's first line (in clock ticks: 100 a second on Linux). */
async function hostCpuNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n', 1)[0] ?? '';
  return (
    line
      .split(/\s+/)
      .slice(1, 9)
      .reduce((sum, v) => sum + (Number(v) || 0), 0) * 1e7
  );
}

function keyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** The host's memory in bytes, the limit of a container without one. */
export async function hostMemory(): Promise<number> {
  return Number(/^MemTotal:\s+(\d+)/m.exec(await readFile('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
}

/** Reads a container's counters now, for `stats` and the API's stats. */
export async function readContainerStats(c: ContainerRecord, hostMem: number): Promise<StatsReading> {
  // Its counters are its cgroup's, which a rootless container on cgroup v1 does not have (podman's words).
  if (cgroupsDisabled()) throw new BerthError('USAGE', 'stats is not supported in rootless mode without cgroups v2');
  const at = Date.now() * 1e6;
  const [systemCpuNs, onlineCpus] = [await hostCpuNs(), cpus().length];
  if (c.state.status !== 'running' && c.state.status !== 'paused')
    return {
      at,
      cpuNs: 0,
      cpuUserNs: 0,
      cpuSystemNs: 0,
      perCpuNs: [],
      systemCpuNs,
      onlineCpus,
      mem: 0,
      limit: 0,
      memStats: {},
      pids: 0,
      pidsLimit: 0,
      networks: {},
      blkio: [],
    };
  const mem = Number((await cgroupFile(c, 'memory', 'memory.usage_in_bytes')) ?? (await cgroupFile(c, '', 'memory.current')) ?? 0);
  const limitRaw = (await cgroupFile(c, 'memory', 'memory.limit_in_bytes')) ?? (await cgroupFile(c, '', 'memory.max'));
  const limit = !limitRaw || limitRaw === 'max' || Number(limitRaw) > hostMem ? hostMem : Number(limitRaw);
  const memStats = keyValues((await cgroupFile(c, 'memory', 'memory.stat')) ?? (await cgroupFile(c, '', 'memory.stat')));
  const v2cpu = keyValues(await cgroupFile(c, '', 'cpu.stat'));
  const usage = await cgroupFile(c, 'cpuacct', 'cpuacct.usage');
  const cpuNs = usage !== undefined ? Number(usage) : (v2cpu.usage_usec ?? 0) * 1000;
  const cpuUserNs = Number((await cgroupFile(c, 'cpuacct', 'cpuacct.usage_user')) ?? (v2cpu.user_usec ?? 0) * 1000);
  const cpuSystemNs = Number((await cgroupFile(c, 'cpuacct', 'cpuacct.usage_sys')) ?? (v2cpu.system_usec ?? 0) * 1000);
  const perCpuNs = ((await cgroupFile(c, 'cpuacct', 'cpuacct.usage_percpu')) ?? '').split(/\s+/).filter(Boolean).map(Number);
  const pids = Number((await cgroupFile(c, 'pids', 'pids.current')) ?? 0);
  const pidsMax = await cgroupFile(c, 'pids', 'pids.max');
  const pidsLimit = pidsMax && pidsMax !== 'max' ? Number(pidsMax) : 0;
  const networks = await netCounters(c.state.pid);
  const blkio = await blockCounters(c);
  return { at, cpuNs, cpuUserNs, cpuSystemNs, perCpuNs, systemCpuNs, onlineCpus, mem, limit, memStats, pids, pidsLimit, networks, blkio };
}
