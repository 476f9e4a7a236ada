import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { isBerthError } from '../../util/errors.js';
import { removeContainer } from './lifecycle.js';
import { syncContainers } from './state.js';
import { containerSize } from '../system/disk-usage.js';

/** States in which a container holds no process: what `container prune` takes. */
const STOPPED = new Set(['created', 'exited']);

/**
 * `container prune`: every container that is not running (created or exited), of those `keep`
 * lets through (the filters). Never a running, paused or stopping one: their state is read
 * fresh first, and `removeContainer` without force refuses one that started in the meantime.
 */
export async function pruneContainers(store: Store, keep: (c: ContainerRecord) => boolean = () => true): Promise<{ removed: string[]; reclaimed: number }> {
  const candidates = (await syncContainers(store)).filter((c) => STOPPED.has(c.state.status) && keep(c));
  const removed: string[] = [];
  let reclaimed = 0;
  for (const c of candidates) {
    const size = await containerSize(store, c);
    try {
      await removeContainer(store, c.id, { force: false });
    } catch (e) {
      // Gone already (another prune, an --rm cleanup), or started since: either way not ours to take.
      if (isBerthError(e, 'CONTAINER_UNKNOWN') || isBerthError(e, 'CONTAINER_STATE')) continue;
      throw e;
    }
    removed.push(c.id);
    reclaimed += size;
  }
  return { removed, reclaimed };
}
