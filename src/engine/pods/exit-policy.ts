import type { Store } from '../../store/store.js';
import type { ContainerRecord } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import { trace } from '../../util/trace.js';
import { stopContainer } from '../containers/lifecycle.js';
import { podEvent } from '../system/events.js';
import { findPod, listPodRecords, type PodExitPolicy } from './records.js';
import { podViews } from './state.js';

/** `pod create --exit-policy`: podman's two, `continue` by default. */
export function parseExitPolicy(value: string | undefined): PodExitPolicy {
  if (value === undefined || value === 'continue') return 'continue';
  if (value === 'stop') return 'stop';
  throw new BerthError('USAGE', `running pod create option: invalid pod exit policy: "${value}"`);
}

/**
 * A member's exit under `--exit-policy stop` (kube play's pods): once no container but the infra
 * runs, the pod stops, its infra with it, as podman's does. Called after the member's cleanup, with
 * no lock held; a pod being removed or stopped meanwhile is left to that.
 */
export async function stopPodIfOnlyInfraRemains(store: Store, member: ContainerRecord): Promise<void> {
  const membership = member.config.pod;
  if (!membership || membership.infra) return;
  const pod = findPod(await listPodRecords(store), membership.id);
  if (!pod?.infraId || pod.exitPolicy !== 'stop') return;
  const [view] = await podViews(store, [pod]);
  // The member itself may still read as stopping: its cleanup is what called this.
  const others = view!.containers.filter((c) => c.id !== pod.infraId && c.id !== member.id);
  if (others.some((c) => c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'stopping')) return;
  const infra = view!.containers.find((c) => c.id === pod.infraId);
  if (infra?.state.status !== 'running') return;
  trace('pod: the last container exited, the exit policy stops the pod');
  await stopContainer(store, infra.id);
  await podEvent(store, 'stop', pod);
}
