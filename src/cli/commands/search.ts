import { searchImages, searchTags } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import { formatOutput } from '../output/format.js';
import { registryOptions, type RegistryFlags } from './_registry-opts.js';
import type { GlobalOptions } from '../context.js';

interface SearchFlags extends RegistryFlags {
  filter: string[];
  format?: string;
  limit?: string;
  listTags?: boolean;
  trunc: boolean;
  noheading?: boolean;
}

/** `berth search [REGISTRY/]TERM`: podman's table (NAME, DESCRIPTION), `--list-tags` (NAME, TAG), templates and json. */
export async function run(_g: GlobalOptions, term: string, f: SearchFlags): Promise<void> {
  let limit: number | undefined;
  if (f.limit !== undefined) {
    limit = Number(f.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new BerthError('USAGE', `invalid --limit "${f.limit}": must be a positive whole number`);
  }
  const opts = { registry: registryOptions(f), filters: f.filter, ...(limit ? { limit } : {}) };
  if (f.listTags) {
    if (f.filter.length) throw new BerthError('USAGE', 'filters are not applicable to list tags result');
    const found = await searchTags(term, opts);
    const rows = found.Tags.map((Tag) => ({ Name: found.Name, Tag }));
    process.stdout.write(
      formatOutput(f.format, rows, {
        defaultTable: 'table {{.Name}}\t{{.Tag}}',
        headers: { Name: 'NAME', Tag: 'TAG' },
        json: () => [found],
        ...(f.noheading ? { noHeading: true } : {}),
        name: 'search',
      }),
    );
    return;
  }
  const results = await searchImages(term, opts);
  // podman prints no table at all when nothing matched.
  if (results.length === 0 && (f.format === undefined || f.format === 'table')) return;
  // podman cuts descriptions to 44 characters unless --no-trunc.
  const rows = results.map((r) => ({ ...r, Description: f.trunc && r.Description.length > 44 ? `${r.Description.slice(0, 44)}...` : r.Description }));
  process.stdout.write(
    formatOutput(f.format, rows, {
      defaultTable: 'table {{.Name}}\t{{.Description}}',
      headers: { Index: 'INDEX', Name: 'NAME', Description: 'DESCRIPTION', Stars: 'STARS', Official: 'OFFICIAL', Automated: 'AUTOMATED', Tag: 'TAG' },
      json: () => results,
      ...(f.noheading ? { noHeading: true } : {}),
      name: 'search',
    }),
  );
}
