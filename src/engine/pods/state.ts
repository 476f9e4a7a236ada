import type { Store } from '../../store/store.js';
import type { ContainerRecord } from '../../store/containers.js';
import { syncContainers } from '../containers/state.js';
import type { PodRecord } from './records.js';
import { compareStrings } from '../../util/compare.js';

/** A pod's state, by podman's names. */
export type PodState = 'Created' | 'Running' | 'Degraded' | 'Paused' | 'Exited' | 'Stopped' | 'Error';

/**
 * The pod's state from its containers' (the infra's included), as podman computes it: every one
 * running is Running, some running Degraded, all paused Paused, all exited Exited, some exited
 * (the others created) Stopped, none or all created Created.
 */
export function podState(containers: readonly Pick<ContainerRecord, 'state'>[]): PodState {
  const n = containers.length;
  if (n === 0) return 'Created';
  const count = { running: 0, paused: 0, exited: 0, created: 0, other: 0 };
  for (const c of containers) {
    const s = c.state.status;
    if (s === 'running') count.running++;
    else if (s === 'paused') count.paused++;
    else if (s === 'exited' || s === 'stopping') count.exited++;
    else if (s === 'created') count.created++;
    else count.other++;
  }
  if (count.running === n) return 'Running';
  if (count.running > 0) return 'Degraded';
  if (count.paused === n) return 'Paused';
  if (count.exited === n) return 'Exited';
  if (count.exited > 0) return 'Stopped';
  if (count.other > 0) return 'Error';
  return 'Created';
}

/** A pod with its containers (true states), the infra first, then by creation. */
export interface PodView {
  pod: PodRecord;
  containers: ContainerRecord[];
  state: PodState;
}

/** Every pod's view from one read of the containers. */
export async function podViews(store: Store, pods: readonly PodRecord[]): Promise<PodView[]> {
  const ids = new Set(pods.map((p) => p.id));
  const all = await syncContainers(store, (c) => c.config.pod !== undefined && ids.has(c.config.pod.id));
  return pods.map((pod) => {
    const containers = all
      .filter((c) => c.config.pod?.id === pod.id)
      .sort((a, b) => Number(b.config.pod?.infra === true) - Number(a.config.pod?.infra === true) || compareStrings(a.created, b.created));
    return { pod, containers, state: podState(containers) };
  });
}
