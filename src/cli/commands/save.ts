import { type SaveFormat, saveImages } from '../../engine/images/index.js';
import { withStore } from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

export async function run(g: GlobalOptions, images: string[], opts: { format: string; output?: string }): Promise<void> {
  if (opts.format === 'docker-dir') throw new BerthError('USAGE', 'the docker-dir format is not supported: use oci-dir');
  if (!opts.output && process.stdout.isTTY) {
    throw new BerthError('USAGE', 'refusing to save to a terminal: use -o FILE or redirect stdout');
  }
  await withStore(engineOptions(g), (store) =>
    saveImages(store, images, opts.format as SaveFormat, opts.output ? { path: opts.output } : { stream: process.stdout }),
  );
}
