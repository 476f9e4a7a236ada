import { withStore } from '../../engine/index.js';
import { type ContainerRecord, pruneContainers } from '../../engine/containers/index.js';
import { BerthError } from '../../util/errors.js';
import { confirm } from '../confirm.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** podman's warning, word for word. */
export const CONTAINER_PRUNE_WARNING = 'WARNING! This will remove all non running containers.';

/** `--filter label=K[=V]` and `until=TIME`: a container must pass every one. */
export function containerPruneFilter(filters: string[]): (c: ContainerRecord) => boolean {
  const tests = filters.map((filter): ((c: ContainerRecord) => boolean) => {
    const [key, value = ''] = filter.split(/=(.*)/s, 2) as [string, string?];
    if (key === 'label') {
      const [k = '', v] = value.split(/=(.*)/s, 2) as [string?, string?];
      return (c) => k in c.config.labels && (v === undefined || c.config.labels[k] === v);
    }
    if (key === 'until') {
      const t = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
      if (Number.isNaN(t)) throw new BerthError('USAGE', `invalid until filter "${value}"`);
      return (c) => Date.parse(c.created) < t;
    }
    throw new BerthError('USAGE', `invalid filter "${key}": supported are label and until`);
  });
  return (c) => tests.every((test) => test(c));
}

/** `berth container prune`: removes every container that is not running; prints their IDs. */
export async function run(g: GlobalOptions, f: { filter: string[]; force?: boolean }): Promise<void> {
  const keep = containerPruneFilter(f.filter);
  if (!(await confirm('container prune', CONTAINER_PRUNE_WARNING, f))) return;
  const { removed } = await withStore(engineOptions(g), (store) => pruneContainers(store, keep));
  process.stdout.write(removed.map((id) => `${id}\n`).join(''));
}
