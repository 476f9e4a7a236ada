import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCpus, parseMemory } from '../../runtime/options.js';
import { parseCpuset } from '../../runtime/tuning.js';
import { cgroupsDisabled, refuseLimitsWithoutCgroups } from '../../runtime/rootless-cgroups.js';
import { BerthError } from '../../util/errors.js';

/**
 * A pod's cgroup, as podman makes one with the cgroupfs manager: a parent under which the infra and
 * every member get their own (`/berth/<pod ID>/berth-<container ID>`), the pod's limits on the
 * parent, so that together its containers never take more than the pod was given.
 */

/** Where berth's cgroups go (podman's `/libpod_parent`): a pod's cgroup parent. */
export const POD_CGROUP_PARENT = '/berth';

const ROOT = '/sys/fs/cgroup';
/** The CFS period podman sets with `--cpus`. */
const CPU_PERIOD = 100_000;

/** `pod create --cpus/--memory/--cpu-shares/--cpuset-cpus`, parsed. */
export interface PodResources {
  /** Bytes; podman's `memory_limit`. */
  memory?: number;
  /** Bytes of memory and swap together: twice the memory, as podman sets it. */
  memorySwap?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpusetCpus?: string;
}

export interface PodResourceFlags {
  cpus?: string;
  memory?: string;
  cpuShares?: string;
  cpusetCpus?: string;
}

/** The pod's limits from its flags, checked up front (nothing is made when one is wrong). */
export function parsePodResources(f: PodResourceFlags): PodResources {
  const out: PodResources = {};
  if (f.memory !== undefined) {
    const bytes = parseMemory(f.memory);
    if (bytes > 0) Object.assign(out, { memory: bytes, memorySwap: 2 * bytes });
  }
  if (f.cpus !== undefined) Object.assign(out, { cpuPeriod: CPU_PERIOD, cpuQuota: Math.round(parseCpus(f.cpus) * CPU_PERIOD) });
  if (f.cpuShares !== undefined) {
    const n = Number(f.cpuShares);
    if (!Number.isInteger(n) || n < 2 || n > 262_144 || f.cpuShares.trim() === '')
      throw new BerthError('USAGE', `invalid --cpu-shares "${f.cpuShares}": must be between 2 and 262144`);
    out.cpuShares = n;
  }
  if (f.cpusetCpus !== undefined) out.cpusetCpus = parseCpuset(f.cpusetCpus, '--cpuset-cpus');
  const given = Object.entries({ '--memory': f.memory, '--cpus': f.cpus, '--cpu-shares': f.cpuShares, '--cpuset-cpus': f.cpusetCpus })
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  refuseLimitsWithoutCgroups(given);
  return out;
}

/** The pod's cgroup path, or none where this process may not make cgroups (rootless on v1). */
export function podCgroupPath(podId: string): string | undefined {
  return cgroupsDisabled() ? undefined : `${POD_CGROUP_PARENT}/${podId}`;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const unified = () => exists(join(ROOT, 'cgroup.controllers'));

/** On cgroup v1, a new cpuset cgroup has no CPUs or memory nodes: each level takes its parent's. */
async function cpusetLevels(path: string): Promise<string> {
  let parent = join(ROOT, 'cpuset');
  for (const part of path.split('/').filter(Boolean)) {
    const dir = join(parent, part);
    await mkdir(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if ((await readFile(join(dir, file), 'utf8')).trim() === '') await writeFile(join(dir, file), await readFile(join(parent, file), 'utf8'));
    }
    parent = dir;
  }
  return parent;
}

async function writeV1(path: string, r: PodResources): Promise<void> {
  if (r.memory !== undefined) {
    const dir = join(ROOT, 'memory', path);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'memory.limit_in_bytes'), String(r.memory));
    // Only with swap accounting on; the limit first, since memsw may not go below it.
    if (r.memorySwap !== undefined && (await exists(join(dir, 'memory.memsw.limit_in_bytes'))))
      await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(r.memorySwap));
  }
  if (r.cpuQuota !== undefined || r.cpuShares !== undefined) {
    const dir = join(ROOT, 'cpu', path);
    await mkdir(dir, { recursive: true });
    if (r.cpuQuota !== undefined) {
      await writeFile(join(dir, 'cpu.cfs_period_us'), String(r.cpuPeriod ?? CPU_PERIOD));
      await writeFile(join(dir, 'cpu.cfs_quota_us'), String(r.cpuQuota));
    }
    if (r.cpuShares !== undefined) await writeFile(join(dir, 'cpu.shares'), String(r.cpuShares));
  }
  if (r.cpusetCpus !== undefined) await writeFile(join(await cpusetLevels(path), 'cpuset.cpus'), r.cpusetCpus);
}

async function writeV2(path: string, r: PodResources): Promise<void> {
  // Each level hands the controllers down to the next, as the runtime does for its own cgroups.
  const wanted = [r.memory !== undefined && '+memory', (r.cpuQuota ?? r.cpuShares) !== undefined && '+cpu', r.cpusetCpus !== undefined && '+cpuset'].filter(
    (c): c is string => typeof c === 'string',
  );
  let dir = ROOT;
  for (const part of path.split('/').filter(Boolean)) {
    await writeFile(join(dir, 'cgroup.subtree_control'), wanted.join(' '));
    dir = join(dir, part);
    await mkdir(dir, { recursive: true });
  }
  if (r.memory !== undefined) {
    await writeFile(join(dir, 'memory.max'), String(r.memory));
    if (r.memorySwap !== undefined && (await exists(join(dir, 'memory.swap.max'))))
      await writeFile(join(dir, 'memory.swap.max'), String(r.memorySwap - r.memory));
  }
  if (r.cpuQuota !== undefined) await writeFile(join(dir, 'cpu.max'), `${r.cpuQuota} ${r.cpuPeriod ?? CPU_PERIOD}`);
  // cgroup v2's weight from v1's shares, the conversion crun and runc use.
  if (r.cpuShares !== undefined) await writeFile(join(dir, 'cpu.weight'), String(1 + Math.floor(((r.cpuShares - 2) * 9999) / 262_142)));
  if (r.cpusetCpus !== undefined) await writeFile(join(dir, 'cpuset.cpus'), r.cpusetCpus);
}

/**
 * Makes the pod's cgroup with its limits. Without limits nothing is made now: the runtime makes
 * the parent with the first member's cgroup, and `removePodCgroup` takes it away.
 */
export async function createPodCgroup(path: string, r: PodResources): Promise<void> {
  if (!Object.keys(r).length) return;
  try {
    await ((await unified()) ? writeV2(path, r) : writeV1(path, r));
  } catch (e) {
    await removePodCgroup(path);
    throw new BerthError('IO', `setting the pod's limits on cgroup ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Whether processes are in the cgroup (a container of the pod still runs). */
const holdsProcesses = (dir: string) =>
  readFile(join(dir, 'cgroup.procs'), 'utf8').then(
    (procs) => procs.trim() !== '',
    () => false,
  );

/**
 * Removes a cgroup directory and any (empty) children the runtime left, deepest first. One that
 * still holds processes fails at once; an empty one that is still busy (a killed process leaving
 * it) is tried again for a while.
 */
async function removeTree(dir: string): Promise<void> {
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  await Promise.all(children.filter((d) => d.isDirectory()).map((d) => removeTree(join(dir, d.name))));
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 20 || (await holdsProcesses(dir))) throw e;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Removes the pod's cgroup in every hierarchy (each v1 controller and the unified one). */
export async function removePodCgroup(path: string): Promise<void> {
  const hierarchies = (await unified())
    ? [ROOT]
    : (await readdir(ROOT, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => join(ROOT, d.name));
  await Promise.all(hierarchies.map((h) => removeTree(join(h, path))));
}
