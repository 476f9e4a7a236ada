import { withStore } from '../../engine/index.js';
import { imageConfig, requireImage } from '../../engine/images/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { createdAgo, goTime, humanSize } from '../output/units.js';

interface HistoryOptions {
  format?: string;
  human: boolean;
  trunc: boolean;
  quiet?: boolean;
}

export async function run(g: GlobalOptions, name: string, opts: HistoryOptions): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const image = requireImage(await store.images(), name);
    const config = await imageConfig(store, image);
    const history = config.history ?? [];
    // Non-empty history entries map, in order, onto the layers.
    let layerIndex = 0;
    const entries = history.map((h) => ({ h, chain: h.empty_layer ? undefined : image.layers[layerIndex++] }));
    const now = Date.now();
    const rows: Record<string, string | string[]>[] = [];
    const json: object[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const { h, chain } = entries[i]!;
      const layer = chain ? await store.layers.get(chain) : undefined;
      const size = layer?.size ?? 0;
      const id = i === entries.length - 1 ? image.id.slice(7) : '<missing>';
      const createdBy = h.created_by ?? '';
      const created = new Date(h.created ?? 0);
      const tags = i === entries.length - 1 ? image.names : [];
      rows.push({
        ID: opts.trunc && id !== '<missing>' ? id.slice(0, 12) : id,
        Created: opts.human ? createdAgo(created, now) : rfc3339Seconds(created),
        CreatedAt: goTime(rfc3339Seconds(created)),
        CreatedSince: createdAgo(new Date(h.created ?? 0), now),
        CreatedBy: opts.trunc && createdBy.length > 45 ? `${createdBy.slice(0, 42)}...` : createdBy,
        Size: opts.human ? humanSize(size) : String(size),
        Comment: h.comment ?? '',
        Tags: tags,
      });
      // podman's JSON: whole IDs and commands, the size in bytes, both times, tags when there are any.
      json.push({
        id,
        created: h.created ?? '',
        CreatedBy: createdBy,
        size,
        comment: h.comment ?? '',
        ...(tags.length ? { tags } : {}),
        Created: rfc3339Seconds(created),
      });
    }
    if (opts.quiet) {
      process.stdout.write(`${rows.map((r) => String(r.ID)).join('\n')}\n`);
      return;
    }
    process.stdout.write(
      formatOutput(opts.format, rows, {
        defaultTable: 'table {{.ID}}\t{{.Created}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
        headers: { ID: 'ID', Created: 'CREATED', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED' },
        json: () => json,
      }),
    );
  });
}

/** A time as Go's RFC 3339 without fractions, as podman prints a history entry's time. */
function rfc3339Seconds(t: Date): string {
  return Number.isNaN(t.getTime()) ? '' : t.toISOString().replace(/\.\d+Z$/, 'Z');
}
