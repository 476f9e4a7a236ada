// `update`: a container's cgroup limits and restart policy changed after create (Docker's POST
// /containers/{id}/update, podman's `update`). The record changes for every later start; a running
// container's cgroup changes at once through the runtime's `update`.
import { writeFile } from 'node:fs/promises';
import { parseCpus, parseMemory, parsePidsLimit } from '../../runtime/options.js';
import { limitResources } from '../../runtime/spec.js';
import { parseTuning, type TuningFlags } from '../../runtime/tuning.js';
import type { ContainerRecord, ContainerSpecConfig } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { parseRestartPolicy } from './process-config.js';
import { containerEvent } from '../system/events.js';
import { getContainer } from './lifecycle.js';
import { runtimeFor } from './current.js';
import { syncOne, withContainerLock } from './state.js';

/** The tuning flags an update may change: the cgroup's limits, not the namespaces or the process. */
export type UpdateTuningFlags = Pick<
  TuningFlags,
  'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'cpusetCpus' | 'cpusetMems' | 'memoryReservation' | 'memorySwap' | 'blkioWeight'
>;

/** What an update may change, in the words of `create`'s flags (absent: unchanged). */
export interface UpdateOptions {
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  /** no, on-failure[:N], always, unless-stopped. */
  restart?: string;
  tuning?: UpdateTuningFlags;
}

/** The container's settings with the update applied, each value checked as create checks it. */
export function updatedConfig(c: ContainerRecord, opts: UpdateOptions): ContainerSpecConfig {
  const config: ContainerSpecConfig = { ...c.config };
  if (opts.memory !== undefined) config.memory = parseMemory(opts.memory);
  if (opts.cpus !== undefined) config.cpus = parseCpus(opts.cpus);
  if (opts.pidsLimit !== undefined) config.pidsLimit = parsePidsLimit(opts.pidsLimit);
  if (opts.restart !== undefined) {
    config.restartPolicy = parseRestartPolicy(opts.restart);
    if (config.autoRemove && config.restartPolicy.name !== 'no')
      throw new BerthError('USAGE', 'restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  if (opts.tuning && Object.keys(opts.tuning).length) {
    const changed = parseTuning(opts.tuning, { hostNetwork: config.network.mode === 'host', ...(config.memory ? { memory: config.memory } : {}) });
    config.tuning = { ...config.tuning, ...changed };
  }
  return config;
}

/**
 * Updates the container's limits and restart policy: a running (or paused) container's cgroup
 * first, so that a limit the kernel refuses changes nothing; then its record.
 */
export async function updateContainer(store: Store, nameOrId: string, opts: UpdateOptions): Promise<ContainerRecord> {
  const found = await getContainer(store, nameOrId);
  return withContainerLock(store, found.id, async () => {
    // Read afresh under the lock (getContainer could clean an orphan up, which takes this lock).
    const stored = await store.containerById(found.id);
    if (!stored) throw new BerthError('CONTAINER_UNKNOWN', `no container with name or ID "${nameOrId}" found: no such container`);
    const c = await syncOne(store, stored);
    const config = updatedConfig(c, opts);
    const live = c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping';
    if (live) {
      const limits = {
        ...(config.memory ? { memory: config.memory } : {}),
        ...(config.cpus !== undefined ? { cpus: config.cpus } : {}),
        ...(config.pidsLimit !== undefined ? { pidsLimit: config.pidsLimit } : {}),
      };
      const resources = limitResources(limits, config.tuning ?? {});
      const file = await store.tmp.path('update-resources.json');
      await writeFile(file, JSON.stringify(resources));
      await runtimeFor(store, c).update(c.id, file);
    }
    await store.updateContainers((all) => {
      const rec = all.find((x) => x.id === c.id);
      if (!rec) throw new BerthError('CONTAINER_UNKNOWN', `no container with name or ID "${nameOrId}" found: no such container`);
      rec.config = config;
    });
    const updated = { ...c, config };
    await containerEvent(store, updated, 'update');
    return updated;
  });
}
