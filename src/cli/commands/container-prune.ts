import { withStore } from '../../engine/index.js';
import { containerPruneFilter, pruneContainers } from '../../engine/containers/index.js';
import { confirm } from '../confirm.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** podman's warning, word for word. */
export const CONTAINER_PRUNE_WARNING = 'WARNING! This will remove all non running containers.';

/** `berth container prune`: removes every container that is not running; prints their IDs. */
export async function run(g: GlobalOptions, f: { filter: string[]; force?: boolean }): Promise<void> {
  const keep = containerPruneFilter(f.filter);
  if (!(await confirm('container prune', CONTAINER_PRUNE_WARNING, f))) return;
  const { removed } = await withStore(engineOptions(g), (store) => pruneContainers(store, keep));
  process.stdout.write(removed.map((id) => `${id}\n`).join(''));
}
