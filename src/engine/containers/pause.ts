/** Pause and unpause: the runtime freezes the container's processes (the cgroup freezer), and thaws them. */
import { containerEvent } from '../system/events.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { runtimeFor } from './current.js';
import { updateContainerState } from './state.js';
import { getContainer } from './lifecycle.js';

export function pauseContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  return setPaused(store, nameOrId, true);
}

export function unpauseContainer(store: Store, nameOrId: string): Promise<ContainerRecord> {
  return setPaused(store, nameOrId, false);
}

async function setPaused(store: Store, nameOrId: string, paused: boolean): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  const [from, verb] = paused ? (['running', 'pause'] as const) : (['paused', 'unpause'] as const);
  if (c.state.status !== from) throw new BerthError('CONTAINER_STATE', `"${c.name}" is not ${from}, can't ${verb}: container state improper`);
  const runtime = runtimeFor(store, c);
  await (paused ? runtime.pause(c.id) : runtime.resume(c.id));
  await containerEvent(store, c, verb);
  return updateContainerState(store, c, { status: paused ? 'paused' : 'running' });
}
