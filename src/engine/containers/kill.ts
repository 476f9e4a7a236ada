import { containerEvent } from '../system/events.js';
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { LIVE_STATES, runtimeFor } from './current.js';
import { updateContainerState } from './state.js';
import { getContainer } from './lifecycle.js';

/** Sends a signal to a running container's main process. */
export async function killContainer(store: Store, nameOrId: string, signal = 'KILL'): Promise<ContainerRecord> {
  const c = await getContainer(store, nameOrId);
  // A container being stopped is still running: podman kills it (its stop then sees it gone).
  if (!LIVE_STATES.has(c.state.status)) {
    throw new BerthError('CONTAINER_STATE', `can only kill running containers. ${c.id} is in state ${c.state.status}: container state improper`);
  }
  await updateContainerState(store, c, { stoppedByUser: true });
  await runtimeFor(store, c).kill(c.id, normalizeSignal(signal));
  await containerEvent(store, c, 'kill');
  return c;
}

/** `sigterm`, `SIGTERM` and `TERM` all name TERM for the runtime; a number stays a number. */
export function normalizeSignal(signal: string): string {
  return signal.toUpperCase().replace(/^SIG/, '');
}
