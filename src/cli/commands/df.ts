import { diskSummary, type DiskSummary } from '../../engine/system/index.js';
import { withStore } from '../../engine/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { goHumanSize as humanSize } from '../output/units.js';

/** podman's dfSummary row: raw numbers and the words it prints for them. */
function row(type: string, s: DiskSummary) {
  const percent = s.size > 0 ? Math.round((s.reclaimable / s.size) * 100) : 0;
  return {
    Type: type,
    Total: s.total,
    Active: s.active,
    RawSize: s.size,
    RawReclaimable: s.reclaimable,
    Size: humanSize(s.size),
    Reclaimable: `${humanSize(s.reclaimable)} (${percent}%)`,
  };
}

/** `system df`: images, containers and volumes, each with what is in use and what a prune would free. */
export async function run(g: GlobalOptions, opts: { format?: string }): Promise<void> {
  const summary = await withStore(engineOptions(g), (store) => diskSummary(store));
  const rows = [row('Images', summary.images), row('Containers', summary.containers), row('Local Volumes', summary.volumes)];
  process.stdout.write(
    formatOutput(opts.format, rows, {
      defaultTable: 'table {{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
      headers: { Type: 'TYPE', Total: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
    }),
  );
}
