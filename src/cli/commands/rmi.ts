import { withStore } from '../../engine/engine.js';
import { removeImages } from '../../engine/images.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

export async function run(g: GlobalOptions, images: string[], opts: { all?: boolean; force?: boolean; ignore?: boolean }): Promise<void> {
  if (images.length === 0 && !opts.all) throw new BerthError('USAGE', 'image name or ID must be specified');
  if (images.length > 0 && opts.all) throw new BerthError('USAGE', 'when using the --all switch, you may not pass any images names or IDs');
  await withStore(engineOptions(g), async (store) => {
    let targets = images;
    if (opts.ignore) {
      const { findImage } = await import('../../store/lookup.js');
      const known = await store.images();
      targets = images.filter((i) => findImage(known, i) !== undefined);
    }
    const result = await removeImages(store, targets, opts);
    const lines = [...result.untagged.map((n) => `Untagged: ${n}`), ...result.deleted.map((id) => `Deleted: ${id.slice(7)}`)];
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  });
}
