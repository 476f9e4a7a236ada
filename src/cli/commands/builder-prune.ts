import { pruneBuildCache } from '../../engine/build/index.js';
import { withStore } from '../../engine/index.js';
import { confirm } from '../confirm.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `builder prune [-a] [-f]`: the build cache's intermediate images and entries; prints the IDs removed, as buildah prune does. */
export async function run(g: GlobalOptions, opts: { all?: boolean; force?: boolean }): Promise<void> {
  // podman's `builder prune` is its image prune; berth's removes the build cache, so it warns in docker's words for that.
  const warning = opts.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
  if (!(await confirm('builder prune', warning, opts))) return;
  const { deleted } = await withStore(engineOptions(g), (store) => pruneBuildCache(store, opts));
  if (deleted.length) process.stdout.write(`${deleted.map((d) => d.slice(7)).join('\n')}\n`);
}
