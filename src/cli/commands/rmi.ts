import { withStore } from '../../engine/index.js';
import { combineErrors, removeImages } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

/** `rmi`: prints what it untagged and deleted, image by image, then any failure (podman's exit codes: 1 unknown, 2 in use). */
export async function run(g: GlobalOptions, images: string[], opts: { all?: boolean; force?: boolean; ignore?: boolean }): Promise<void> {
  if (images.length === 0 && !opts.all) throw new BerthError('USAGE', 'image name or ID must be specified');
  if (images.length > 0 && opts.all) throw new BerthError('USAGE', 'when using the --all switch, you may not pass any images names or IDs');
  await withStore(engineOptions(g), async (store) => {
    const { reports, failures } = await removeImages(store, images, opts);
    const lines = reports.flatMap((r) => [...r.untagged.map((n) => `Untagged: ${n}`), ...(r.deleted ? [`Deleted: ${r.deleted.slice(7)}`] : [])]);
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
    const failure = combineErrors(failures);
    if (failure) throw failure;
  });
}
