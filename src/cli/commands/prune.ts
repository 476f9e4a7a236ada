import { withStore } from '../../engine/engine.js';
import { pruneImages } from '../../engine/images.js';
import { engineOptions, type GlobalOptions } from '../context.js';

export async function run(g: GlobalOptions, opts: { all?: boolean }): Promise<void> {
  const { deleted } = await withStore(engineOptions(g), (store) => pruneImages(store, opts));
  if (deleted.length) process.stdout.write(`${deleted.map((d) => d.slice(7)).join('\n')}\n`);
}
