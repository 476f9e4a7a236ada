import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { settleAll } from '../../util/settle-all.js';
import type { ContainerRecord } from '../../store/containers.js';
import { removeContainer, startContainer, stopContainer } from '../containers/lifecycle.js';
import { killContainer } from '../containers/kill.js';
import { pauseContainer, unpauseContainer } from '../containers/pause.js';
import { podEvent } from '../system/events.js';
import { forgetPod } from './create.js';
import { listPodRecords, requirePod, type PodRecord } from './records.js';
import { podViews, type PodView } from './state.js';

const live = (c: ContainerRecord) => c.state.status === 'running' || c.state.status === 'paused';
const isInfra = (c: ContainerRecord) => c.config.pod?.infra === true;

async function view(store: Store, nameOrId: string): Promise<PodView> {
  return (await podViews(store, [await requirePod(store, nameOrId)]))[0]!;
}

/** Runs `op` on each container, all of them even when one fails; the first error is thrown after. */
async function each(containers: readonly ContainerRecord[], op: (c: ContainerRecord) => Promise<unknown>): Promise<void> {
  await settleAll(containers.map(op));
}

/**
 * `pod start`: every container at once. The infra holds the namespaces the others join: a member's
 * start starts it first (under its lock, so once), mounting the member's root meanwhile.
 */
export async function startPod(store: Store, nameOrId: string, warn?: (message: string) => void): Promise<PodRecord> {
  const { pod, containers } = await view(store, nameOrId);
  const hooks = warn ? { warn } : {};
  await each(
    containers.filter((c) => c.state.status !== 'running' && !(isInfra(c) && c.state.status === 'paused')),
    (c) => (c.state.status === 'paused' ? unpauseContainer(store, c.id) : startContainer(store, c.id, hooks)),
  );
  await podEvent(store, 'start', pod);
  return pod;
}

/**
 * `pod stop`: the containers first (in parallel), the infra last, so that nothing loses its
 * network while it shuts down. With a zero timeout (`kube down`'s) every process is killed at
 * once and none shuts down: the infra goes with the others, its network's teardown overlapping
 * their ends.
 */
export async function stopPod(store: Store, nameOrId: string, opts: { timeout?: number; warn?: (message: string) => void } = {}): Promise<PodRecord> {
  const { pod, containers } = await view(store, nameOrId);
  const members = containers.filter((c) => !isInfra(c) && live(c));
  const infra = containers.filter((c) => isInfra(c) && live(c));
  const stop = (c: ContainerRecord) => stopContainer(store, c.id, opts);
  if (opts.timeout === 0) {
    await each([...members, ...infra], stop);
  } else {
    await each(members, stop);
    await each(infra, stop);
  }
  await podEvent(store, 'stop', pod);
  return pod;
}

export async function restartPod(store: Store, nameOrId: string, opts: { timeout?: number; warn?: (message: string) => void } = {}): Promise<PodRecord> {
  await stopPod(store, nameOrId, opts);
  return startPod(store, nameOrId, opts.warn);
}

/** `pod kill`: the signal to every running container; an error when none runs, as podman's. */
export async function killPod(store: Store, nameOrId: string, signal = 'KILL'): Promise<PodRecord> {
  const { pod, containers } = await view(store, nameOrId);
  const running = containers.filter((c) => c.state.status === 'running');
  if (!running.length) throw new BerthError('CONTAINER_STATE', `no containers in pod ${pod.id} are running: container state improper`);
  await each(running, (c) => killContainer(store, c.id, signal));
  await podEvent(store, 'kill', pod);
  return pod;
}

export async function pausePod(store: Store, nameOrId: string): Promise<PodRecord> {
  const { pod, containers } = await view(store, nameOrId);
  const running = containers.filter((c) => c.state.status === 'running');
  if (!running.length) throw new BerthError('CONTAINER_STATE', `no containers in pod ${pod.id} are running: container state improper`);
  await each(running, (c) => pauseContainer(store, c.id));
  await podEvent(store, 'pause', pod);
  return pod;
}

export async function unpausePod(store: Store, nameOrId: string): Promise<PodRecord> {
  const { pod, containers } = await view(store, nameOrId);
  const paused = containers.filter((c) => c.state.status === 'paused');
  if (!paused.length) throw new BerthError('CONTAINER_STATE', `no containers in pod ${pod.id} are paused: container state improper`);
  await each(paused, (c) => unpauseContainer(store, c.id));
  await podEvent(store, 'unpause', pod);
  return pod;
}

/**
 * `pod rm`: its containers (running ones only with `force`, as podman refuses otherwise; the infra
 * running alone is no reason to refuse, as in podman: it is stopped), then the record.
 */
export async function removePod(
  store: Store,
  nameOrId: string,
  opts: { force?: boolean; timeout?: number; warn?: (message: string) => void } = {},
): Promise<PodRecord> {
  const { pod, containers } = await view(store, nameOrId);
  const running = containers.filter((c) => live(c) && c.id !== pod.infraId);
  if (running.length && !opts.force)
    throw new BerthError(
      'CONTAINER_STATE',
      `pod ${pod.id} has containers that are not ready to be removed: cannot remove container ${running[0]!.id} as it is running - running or paused containers cannot be removed without force: container state improper`,
    );
  const rmOpts = { force: true, removingPod: true, podRemovesItself: true, timeout: opts.timeout ?? 10, ...(opts.warn ? { warn: opts.warn } : {}) };
  // All at once, the infra too: its namespace is pinned by a mount (and by the members' processes
  // while they live), so ending it first takes nothing from them, and the pod goes in one round.
  trace('pod rm: begin');
  await each(containers, (c) => removeContainer(store, c.id, rmOpts));
  trace('pod rm: containers removed');
  await forgetPod(store, pod.id, pod);
  trace('pod rm: record, cgroup, event');
  return pod;
}

/** `pod prune`: every pod whose containers all are stopped (none running or paused). */
export async function prunePods(store: Store): Promise<PodRecord[]> {
  const views = await podViews(store, await listPodRecords(store));
  const removed: PodRecord[] = [];
  for (const v of views) {
    if (v.containers.some(live)) continue;
    await removePod(store, v.pod.id, { force: true });
    removed.push(v.pod);
  }
  return removed;
}
