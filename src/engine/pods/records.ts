import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordFile } from '../../store/record-file.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import type { PodResources } from './cgroup.js';

/** What a pod does when its last container (the infra aside) exits: stay up, or stop. */
export type PodExitPolicy = 'continue' | 'stop';

/** The namespaces a pod's containers may share, by podman's `--share` names. */
export type SharedNamespace = 'net' | 'ipc' | 'uts' | 'pid';

/**
 * A pod as the store keeps it: what was asked at `pod create`. Its containers are not listed here:
 * each container's record names its pod, so a container created or removed never rewrites this file.
 */
export interface PodRecord {
  id: string;
  name: string;
  created: string;
  labels: Record<string, string>;
  /** `--hostname`; empty: the pod's name is its containers' hostname. */
  hostname: string;
  share: SharedNamespace[];
  /** The infra container (absent with `--infra=false`). */
  infraId?: string;
  createCommand: string[];
  /** The pod's cgroup (`/berth/<ID>`), its containers' parent; absent for older pods and rootless on cgroup v1. */
  cgroupPath?: string;
  /** `--cpus`, `--memory`, `--cpu-shares`, `--cpuset-cpus`: the limits on that cgroup. */
  resources?: PodResources;
  /** `--exit-policy stop` (kube play's pods); absent: continue. */
  exitPolicy?: 'stop';
}

const file = (store: Store) => new RecordFile<PodRecord>(join(store.root, 'pods', 'pods.json'), 'pods');

export function listPodRecords(store: Store): Promise<PodRecord[]> {
  return file(store).read();
}

/** Read-modify-write of the pod records under the store lock, written atomically. */
export async function updatePods<T>(store: Store, fn: (pods: PodRecord[]) => Promise<T> | T): Promise<T> {
  await mkdir(join(store.root, 'pods'), { recursive: true });
  return store.lock.with(async () => {
    const records = file(store);
    const pods = await records.read();
    const result = await fn(pods);
    await records.write(pods);
    return result;
  });
}

/** A pod by full name, full ID or unique ID prefix, as podman looks pods up; undefined when none. */
export function findPod(pods: readonly PodRecord[], nameOrId: string): PodRecord | undefined {
  const exact = pods.find((p) => p.name === nameOrId || p.id === nameOrId);
  if (exact) return exact;
  if (!/^[0-9a-f]+$/.test(nameOrId)) return undefined;
  const prefixed = pods.filter((p) => p.id.startsWith(nameOrId));
  if (prefixed.length > 1) throw new BerthError('USAGE', `more than one result for pod ID ${nameOrId}`);
  return prefixed[0];
}

/** A pod that must exist: podman's "no such pod" otherwise. */
export async function requirePod(store: Store, nameOrId: string): Promise<PodRecord> {
  const pod = findPod(await listPodRecords(store), nameOrId);
  if (!pod) throw new BerthError('POD_UNKNOWN', `no pod with name or ID ${nameOrId} found: no such pod`);
  return pod;
}
