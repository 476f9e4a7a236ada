import { inspectContainer } from '../../engine/containers/inspect.js';
import { findContainer } from '../../engine/containers/lookup.js';
import { syncContainers } from '../../engine/containers/state.js';
import { withStore } from '../../engine/engine.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';

/** `berth container inspect`: podman's JSON array, or a Go template per container. */
export async function run(g: GlobalOptions, names: string[], opts: { format?: string }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const all = await syncContainers(store);
    const found: Record<string, unknown>[] = [];
    const missing: string[] = [];
    for (const n of names) {
      const c = findContainer(all, n);
      if (c) found.push(await inspectContainer(store, c));
      else missing.push(n);
    }
    if (!opts.format || opts.format === 'json') process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
    else process.stdout.write(formatOutput(opts.format, found, { defaultTable: '', headers: {}, name: 'inspect' }));
    if (missing.length > 0) throw new BerthError('CONTAINER_UNKNOWN', missing.map((m) => `no such container ${m}`).join('\n'));
  });
}
