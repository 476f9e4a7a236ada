import { pruneImagesAndCache } from '../../build/index.js';
import { withStore } from '../../engine/engine.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `image prune`: dangling images (with -a unused ones), never what a kept image was built on; the cache entries of what went. */
export async function run(g: GlobalOptions, opts: { all?: boolean }): Promise<void> {
  const { deleted } = await withStore(engineOptions(g), (store) => pruneImagesAndCache(store, opts));
  if (deleted.length) process.stdout.write(`${deleted.map((d) => d.slice(7)).join('\n')}\n`);
}
