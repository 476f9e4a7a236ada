import { pruneBuildCache } from '../../build/index.js';
import { withStore } from '../../engine/engine.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `builder prune [-a] [-f]`: the build cache's intermediate images and entries; prints the IDs removed, as buildah prune does. */
export async function run(g: GlobalOptions, opts: { all?: boolean; force?: boolean }): Promise<void> {
  const { deleted } = await withStore(engineOptions(g), (store) => pruneBuildCache(store, opts));
  if (deleted.length) process.stdout.write(`${deleted.map((d) => d.slice(7)).join('\n')}\n`);
}
