import { pruneImagesAndCache } from '../../engine/build/index.js';
import { withStore } from '../../engine/index.js';
import { confirm } from '../confirm.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** podman's warnings, word for word. */
export const DANGLING_IMAGES_WARNING = 'WARNING! This command removes all dangling images.';
export const UNUSED_IMAGES_WARNING = 'WARNING! This command removes all images without at least one container associated with them.';

/** `image prune`: dangling images (with -a unused ones), never what a kept image was built on; the cache entries of what went. */
export async function run(g: GlobalOptions, opts: { all?: boolean; force?: boolean }): Promise<void> {
  if (!(await confirm('image prune', opts.all ? UNUSED_IMAGES_WARNING : DANGLING_IMAGES_WARNING, opts))) return;
  const { deleted } = await withStore(engineOptions(g), (store) => pruneImagesAndCache(store, opts));
  if (deleted.length) process.stdout.write(`${deleted.map((d) => d.slice(7)).join('\n')}\n`);
}
