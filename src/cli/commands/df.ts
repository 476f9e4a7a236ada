import { withStore } from '../../engine/engine.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { goHumanSize as humanSize } from '../output/units.js';

/** `system df`: shared layers count once, as podman counts them. */
export async function run(g: GlobalOptions, opts: { format?: string }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const images = await store.images();
    const seen = new Set<string>();
    let size = 0;
    for (const i of images) {
      for (const chain of i.layers) {
        if (seen.has(chain)) continue;
        seen.add(chain);
        size += (await store.layers.get(chain))?.size ?? 0;
      }
    }
    // No containers or volumes exist yet, so nothing is active and everything is reclaimable.
    const rows = [
      { Type: 'Images', Total: images.length, Active: 0, RawSize: size, RawReclaimable: size, Size: humanSize(size), Reclaimable: `${humanSize(size)} (${images.length ? 100 : 0}%)` },
      { Type: 'Containers', Total: 0, Active: 0, RawSize: 0, RawReclaimable: 0, Size: humanSize(0), Reclaimable: `${humanSize(0)} (0%)` },
      { Type: 'Local Volumes', Total: 0, Active: 0, RawSize: 0, RawReclaimable: 0, Size: humanSize(0), Reclaimable: `${humanSize(0)} (0%)` },
    ];
    process.stdout.write(
      formatOutput(opts.format, rows, {
        defaultTable: 'table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
        headers: { Type: 'TYPE', Total: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
      }),
    );
  });
}
