import { BerthError } from '../util/errors.js';
import type { ContainerTuning, DeviceRule, NamespaceJoin } from './tuning-types.js';
import { parseSize } from './options.js';

/**
 * The kernel-side settings of `run`/`create` beyond the basics, parsed as podman parses them (each
 * bad value fails with one line naming its flag), and turned into config.json's resources.
 */

/** The flags as commander hands them over (strings, or true for a bare boolean flag). */
export interface TuningFlags {
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  blkioWeight?: string;
  shmSize?: string;
  sysctl?: string[];
  umask?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  cgroupns?: string;
  personality?: string;
  deviceCgroupRule?: string[];
}

/**
 * `--device-cgroup-rule 'c 1:3 rwm'`, `'a *:* rwm'`, `'c 13:* rwm'`, `'a 7 rwm'` (no minor: all of
 * them): docker's rule syntax, with podman's messages for what it refuses.
 */
export function parseDeviceRule(rule: string): DeviceRule {
  const fields = rule.split(' ');
  if (fields.length !== 3) throw new BerthError('USAGE', `invalid device cgroup rule requires type, major:Minor, and access rules: ${JSON.stringify(rule)}`);
  const [type, numbers, access] = fields as [string, string, string];
  if (type !== 'a' && type !== 'b' && type !== 'c') throw new BerthError('USAGE', `invalid device type in device-access-add: ${type}`);
  const [major, minor] = numbers.split(':', 2) as [string, string | undefined];
  const number = (v: string) => {
    if (!/^\d+$/.test(v)) throw new BerthError('USAGE', `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  for (const c of access) if (c !== 'r' && c !== 'w' && c !== 'm') throw new BerthError('USAGE', `invalid device access in device-access-add: ${c}`);
  if (access === '') throw new BerthError('USAGE', `invalid device cgroup rule requires type, major:Minor, and access rules: ${JSON.stringify(rule)}`);
  return {
    type,
    ...(major === '*' ? {} : { major: number(major) }),
    ...(minor === undefined || minor === '*' ? {} : { minor: number(minor) }),
    access: [...new Set(access)].join(''),
  };
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n)) throw new BerthError('USAGE', `invalid ${flag} "${value}": expected a whole number`);
  if (n < min || n > max) throw new BerthError('USAGE', `invalid ${flag} "${value}": must be between ${min} and ${max}`);
  return n;
}

/** `0-3`, `0,2`, `1-2,5`: the cpuset list syntax the kernel takes. */
export function parseCpuset(value: string, flag: string): string {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) throw new BerthError('USAGE', `invalid ${flag} "${value}": expected a list such as 0-3 or 0,2`);
  for (const range of value.split(',')) {
    const [a, b] = range.split('-').map(Number);
    if (b !== undefined && b < a!) throw new BerthError('USAGE', `invalid ${flag} "${value}": range ${range} runs backwards`);
  }
  return value;
}

/** `--memory-swap`: a size, or -1 for unlimited swap. */
export function parseMemorySwap(value: string): number {
  if (value.trim() === '-1') return -1;
  return parseSize(value, '--memory-swap');
}

/**
 * The sysctls a container may set: the namespaced ones (IPC's kernel.* and fs.mqueue.*, and
 * net.* in its own network namespace), as podman checks them; anything else is the host's.
 */
export function parseSysctl(entry: string, opts: { hostNetwork: boolean; hostIpc: boolean; hostUts: boolean }): [string, string] {
  const eq = entry.indexOf('=');
  if (eq <= 0) throw new BerthError('USAGE', `invalid --sysctl "${entry}": expected KEY=VALUE`);
  const key = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (ipc.includes(key) || key.startsWith('fs.mqueue.')) {
    if (opts.hostIpc) throw new BerthError('USAGE', `sysctl "${key}" is not allowed with the host's IPC namespace (--ipc host)`);
  } else if (key.startsWith('net.')) {
    if (opts.hostNetwork) throw new BerthError('USAGE', `sysctl "${key}" is not allowed with the host's network (--network host)`);
  } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
    if (opts.hostUts) throw new BerthError('USAGE', `sysctl "${key}" is not allowed with the host's UTS namespace (--uts host)`);
  } else {
    throw new BerthError(
      'USAGE',
      `sysctl "${key}" is not allowed: only namespaced sysctls (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*) can be set in a container`,
    );
  }
  return [key, value];
}

/** `--umask 077` / `0022`: an octal mask of at most 0777. */
export function parseUmask(value: string): number {
  if (!/^[0-7]{1,4}$/.test(value) || parseInt(value, 8) > 0o777)
    throw new BerthError('USAGE', `invalid umask string ${value}: must be an octal number such as 0022`);
  return parseInt(value, 8);
}

/**
 * `--pid`/`--ipc`/`--uts`/`--cgroupns`: the host's, the container's own, another container's
 * (`container:NAME`, resolved to its ID at create) or a path's (`ns:PATH`).
 */
function namespaceMode(value: string | undefined, flag: string, privateNames: string[]): 'host' | 'private' | NamespaceJoin | undefined {
  if (value === undefined) return undefined;
  if (value === 'host') return 'host';
  if (privateNames.includes(value)) return 'private';
  if (value.startsWith('container:') && value.length > 'container:'.length) return { container: value.slice('container:'.length) };
  if (value.startsWith('ns:')) {
    const path = value.slice('ns:'.length);
    if (!path.startsWith('/')) throw new BerthError('USAGE', `invalid ${flag} "${value}": the namespace path must be absolute`);
    return { path };
  }
  throw new BerthError('USAGE', `invalid ${flag} "${value}": expected host, ${privateNames.join(', ')}, container:NAME or ns:PATH`);
}

export function parseTuning(f: TuningFlags, opts: { hostNetwork: boolean; memory?: number }): ContainerTuning {
  const out: ContainerTuning = {};
  if (f.cpuShares !== undefined) out.cpuShares = integer(f.cpuShares, '--cpu-shares', 2, 262_144);
  if (f.cpuPeriod !== undefined) out.cpuPeriod = integer(f.cpuPeriod, '--cpu-period', 1000, 1_000_000);
  if (f.cpuQuota !== undefined) out.cpuQuota = integer(f.cpuQuota, '--cpu-quota', 1000, Number.MAX_SAFE_INTEGER);
  if (f.cpusetCpus !== undefined) out.cpusetCpus = parseCpuset(f.cpusetCpus, '--cpuset-cpus');
  if (f.cpusetMems !== undefined) out.cpusetMems = parseCpuset(f.cpusetMems, '--cpuset-mems');
  if (f.memorySwap !== undefined) {
    out.memorySwap = parseMemorySwap(f.memorySwap);
    // Checked now rather than at start, with what --memory asked for.
    tunedResources(out, opts.memory ? { memory: { limit: opts.memory } } : {});
  }
  if (f.memoryReservation !== undefined) out.memoryReservation = parseSize(f.memoryReservation, '--memory-reservation');
  if (f.memorySwappiness !== undefined) out.memorySwappiness = integer(f.memorySwappiness, '--memory-swappiness', 0, 100);
  if (f.oomKillDisable) out.oomKillDisable = true;
  if (f.oomScoreAdj !== undefined) out.oomScoreAdj = integer(f.oomScoreAdj, '--oom-score-adj', -1000, 1000);
  if (f.blkioWeight !== undefined) out.blkioWeight = integer(f.blkioWeight, '--blkio-weight', 10, 1000);
  if (f.shmSize !== undefined) {
    out.shmSize = parseSize(f.shmSize, '--shm-size');
    if (out.shmSize === 0) throw new BerthError('USAGE', `invalid --shm-size "${f.shmSize}": must be greater than 0`);
  }
  if (f.umask !== undefined) out.umask = parseUmask(f.umask);
  const modes = {
    pid: namespaceMode(f.pid, '--pid', ['private']),
    ipc: namespaceMode(f.ipc, '--ipc', ['private', 'shareable', 'none']),
    uts: namespaceMode(f.uts, '--uts', ['private']),
    cgroup: namespaceMode(f.cgroupns, '--cgroupns', ['private']),
  };
  if (f.personality !== undefined) {
    if (f.personality !== 'LINUX' && f.personality !== 'LINUX32')
      throw new BerthError('USAGE', `invalid --personality "${f.personality}": expected LINUX or LINUX32`);
    out.personality = f.personality;
  }
  if (f.deviceCgroupRule?.length) out.deviceRules = f.deviceCgroupRule.map(parseDeviceRule);
  const hostNamespaces = (['pid', 'ipc', 'uts', 'cgroup'] as const).filter((ns) => modes[ns] === 'host');
  if (hostNamespaces.length) out.hostNamespaces = hostNamespaces;
  const joins = (['pid', 'ipc', 'uts', 'cgroup'] as const).flatMap((ns) => {
    const m = modes[ns];
    return typeof m === 'object' ? [[ns, m] as const] : [];
  });
  if (joins.length) out.joinNamespaces = Object.fromEntries(joins);
  if (f.sysctl?.length) {
    const ctx = { hostNetwork: opts.hostNetwork, hostIpc: modes.ipc === 'host', hostUts: modes.uts === 'host' };
    out.sysctls = Object.fromEntries(f.sysctl.flatMap((v) => v.split(',')).map((e) => parseSysctl(e, ctx)));
  }
  return out;
}

export interface OciTunedResources {
  memory?: { limit?: number; swap?: number; reservation?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  blockIO?: { weight?: number } & ContainerTuning['blkioThrottle'];
}

/** The cgroup part of config.json, merged over what --memory and --cpus already set. */
export function tunedResources(t: ContainerTuning, base: OciTunedResources): OciTunedResources {
  const memory: NonNullable<OciTunedResources['memory']> = { ...base.memory };
  if (t.memorySwap !== undefined) {
    if (memory.limit === undefined && t.memorySwap !== -1) {
      throw new BerthError('USAGE', 'you must provide a memory limit (--memory) when setting --memory-swap');
    }
    if (t.memorySwap !== -1 && memory.limit !== undefined && t.memorySwap < memory.limit) {
      throw new BerthError('USAGE', 'minimum memoryswap limit should be larger than memory limit, see usage');
    }
    memory.swap = t.memorySwap;
  } else if (memory.limit !== undefined) {
    // docker's and podman's default: as much swap again as memory.
    memory.swap = memory.limit * 2;
  }
  if (t.memoryReservation !== undefined) memory.reservation = t.memoryReservation;
  if (t.memorySwappiness !== undefined) memory.swappiness = t.memorySwappiness;
  if (t.oomKillDisable) memory.disableOOMKiller = true;
  const cpu: NonNullable<OciTunedResources['cpu']> = { ...base.cpu };
  if (t.cpuShares !== undefined) cpu.shares = t.cpuShares;
  if (t.cpuPeriod !== undefined) cpu.period = t.cpuPeriod;
  if (t.cpuQuota !== undefined) cpu.quota = t.cpuQuota;
  if (t.cpusetCpus !== undefined) cpu.cpus = t.cpusetCpus;
  if (t.cpusetMems !== undefined) cpu.mems = t.cpusetMems;
  return {
    ...(Object.keys(memory).length ? { memory } : {}),
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(t.blkioWeight !== undefined || t.blkioThrottle
      ? { blockIO: { ...(t.blkioWeight !== undefined ? { weight: t.blkioWeight } : {}), ...t.blkioThrottle } }
      : {}),
  };
}
