import { withStore } from '../../engine/engine.js';
import { inspectImage } from '../../engine/inspect.js';
import { requireImage } from '../../store/lookup.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';

export async function run(g: GlobalOptions, names: string[], opts: { format?: string }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const records = await store.images();
    const found = [];
    const missing: string[] = [];
    for (const n of names) {
      try {
        found.push(await inspectImage(store, requireImage(records, n)));
      } catch (e) {
        if (e instanceof BerthError && e.code === 'IMAGE_UNKNOWN') missing.push(n);
        else throw e;
      }
    }
    if (!opts.format || opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    } else {
      process.stdout.write(formatOutput(opts.format, found as unknown as object[], { defaultTable: '', headers: {} }));
    }
    if (missing.length > 0) throw new BerthError('IMAGE_UNKNOWN', missing.map((m) => `${m}: image not known`).join('\n'));
  });
}
