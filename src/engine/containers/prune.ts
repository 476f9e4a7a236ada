import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import { parseGoDuration } from '../../util/go-duration.js';
import { removeContainer } from './lifecycle.js';
import { syncContainers } from './state.js';
import { containerSize } from '../system/disk-usage.js';

/**
 * `--filter label=K[=V]`, `label!=K[=V]` and `until=TIME` (a Unix time, an RFC 3339 time or, as
 * Docker takes it, a Go duration before now): a container must pass every one.
 */
export function containerPruneFilter(filters: string[]): (c: ContainerRecord) => boolean {
  const tests = filters.map((filter): ((c: ContainerRecord) => boolean) => {
    const [key, value = ''] = filter.split(/=(.*)/s, 2) as [string, string?];
    if (key === 'label' || key === 'label!') {
      const [k = '', v] = value.split(/=(.*)/s, 2) as [string?, string?];
      const has = (c: ContainerRecord) => k in c.config.labels && (v === undefined || c.config.labels[k] === v);
      return key === 'label' ? has : (c) => !has(c);
    }
    if (key === 'until') {
      const ago = parseGoDuration(value);
      const t = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : ago !== undefined ? Date.now() - ago / 1e6 : Date.parse(value);
      if (Number.isNaN(t)) throw new BerthError('USAGE', `invalid until filter "${value}"`);
      return (c) => Date.parse(c.created) < t;
    }
    throw new BerthError('USAGE', `invalid filter "${key}": supported are label, label! and until`);
  });
  return (c) => tests.every((test) => test(c));
}

/** States in which a container holds no process: what `container prune` takes. */
const STOPPED = new Set(['created', 'exited']);

/**
 * `container prune`: every container that is not running (created or exited), of those `keep`
 * lets through (the filters). Never a running, paused or stopping one: their state is read
 * fresh first, and `removeContainer` without force refuses one that started in the meantime.
 */
export async function pruneContainers(store: Store, keep: (c: ContainerRecord) => boolean = () => true): Promise<{ removed: string[]; reclaimed: number }> {
  // A pod's infra goes with its pod (`pod prune`), as podman's container prune leaves it.
  const candidates = (await syncContainers(store)).filter((c) => STOPPED.has(c.state.status) && !c.config.pod?.infra && keep(c));
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
