import { BuildCache } from '../../engine/build/index.js';
import { withStore } from '../../engine/index.js';
import { filterImages, imageConfig, type ImageRecord, namesHistory, repoAndTag, repoDigests } from '../../engine/images/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { formatOutput } from '../output/format.js';
import { createdAgo, goTime, humanSize } from '../output/units.js';
import { compareStrings } from '../../util/compare.js';

interface ImagesOptions {
  all?: boolean;
  digests?: boolean;
  filter: string[];
  format?: string;
  trunc: boolean;
  noheading?: boolean;
  quiet?: boolean;
  sort: string;
}

/**
 * One row per name, as podman prints them (a nameless image is one `<none>` row). podman's row
 * embeds the image's JSON summary, so a template reaches those fields too (`.Names`, `.History`,
 * `.VirtualSize`...); `.Created` is the human time there, `.Size` the human size.
 */
interface ImageRow {
  ID: string;
  Id: string;
  ParentId: string;
  Repository: string;
  Tag: string;
  Digest: string;
  Digests: string[];
  RepoTags: string[];
  RepoDigests: string[];
  Names: string[];
  History: string;
  Created: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  SharedSize: number;
  VirtualSize: number;
  Containers: number;
  Dangling: boolean;
  Labels: Record<string, string>;
  ReadOnly: boolean;
  IsReadOnly: boolean;
}

export async function run(g: GlobalOptions, name: string | undefined, opts: ImagesOptions): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const all = await store.images();
    const configs = new Map<string, Awaited<ReturnType<typeof imageConfig>>>();
    const configOf = async (i: ImageRecord) => {
      let c = configs.get(i.id);
      if (!c) {
        c = await imageConfig(store, i);
        configs.set(i.id, c);
      }
      return c;
    };
    const labelsOf = async (i: ImageRecord) => ((await configOf(i)).config?.Labels as Record<string, string> | undefined) ?? {};
    const filters = [...opts.filter, ...(name ? [`reference=${name}`] : [])];
    let images = await filterImages(all, filters, labelsOf);
    if (!opts.all) {
      // Intermediate images (a build's steps, each the parent of a later one) show only with --all.
      const parents = await new BuildCache(store).parents();
      images = images.filter((i) => i.names.length > 0 || !parents.has(i.id));
    }
    images = sortImages(images, opts.sort);
    // Labels live in each image's config, one file read per image: only when something shows them.
    const wantLabels = opts.format !== undefined && (opts.format === 'json' || opts.format.includes('Labels') || opts.format.includes('json'));
    const now = Date.now();
    const containers = containerCounts(await store.containers());
    const rows: ImageRow[] = [];
    for (const i of images) {
      const names = i.names.length > 0 ? i.names : ['<none>:<none>'];
      for (const n of names) {
        const { repository, tag } = n === '<none>:<none>' ? { repository: '<none>', tag: '<none>' } : repoAndTag(n);
        const created = createdAgo(new Date(i.created), now);
        rows.push({
          ID: opts.trunc ? i.id.slice(7, 19) : i.id,
          Id: i.id.slice(7),
          ParentId: '',
          Repository: repository,
          Tag: tag,
          Digest: i.digests[0] ?? '',
          Digests: i.digests,
          RepoTags: i.names.filter((x) => !x.includes('@')),
          RepoDigests: repoDigests(i),
          Names: i.names,
          History: namesHistory(i).join(', '),
          Created: created,
          CreatedSince: created,
          // Whole seconds, as podman prints an image's time.
          CreatedAt: goTime(Math.floor(Date.parse(i.created) / 1000) * 1000),
          Size: humanSize(i.size),
          SharedSize: 0,
          VirtualSize: i.size,
          Containers: containers.get(i.id) ?? 0,
          Dangling: i.names.length === 0,
          Labels: wantLabels ? await labelsOf(i) : {},
          ReadOnly: false,
          IsReadOnly: false,
        });
      }
    }
    // podman sorts the rows (one per name) by repository or tag, not the images by their first name.
    if (opts.sort === 'repository' || opts.sort === 'tag') {
      rows.sort((a, b) => (opts.sort === 'tag' ? compareStrings(a.Tag, b.Tag) : compareStrings(a.Repository, b.Repository) || compareStrings(a.Tag, b.Tag)));
    }
    if (opts.quiet) {
      const ids = [...new Set(images.map((i) => (opts.trunc ? i.id.slice(7, 19) : i.id)))];
      if (ids.length) process.stdout.write(`${ids.join('\n')}\n`);
      return;
    }
    const digestCol = opts.digests ? '\t{{.Digest}}' : '';
    const text = formatOutput(opts.format, rows, {
      defaultTable: `table {{.Repository}}\t{{.Tag}}${digestCol}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`,
      headers: { ID: 'IMAGE ID', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', Size: 'SIZE' },
      json: () => images.map((i) => podmanJson(i, configs, containers)),
      ...(opts.noheading ? { noHeading: true } : {}),
    });
    process.stdout.write(text);
  });
}

function sortImages(images: ImageRecord[], by: string): ImageRecord[] {
  const sorted = [...images];
  switch (by) {
    case 'created':
      return sorted.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
    case 'id':
      return sorted.sort((a, b) => compareStrings(a.id, b.id));
    case 'repository':
    case 'tag':
      return sorted.sort((a, b) => compareStrings(a.names[0] ?? '~', b.names[0] ?? '~'));
    case 'size':
      return sorted.sort((a, b) => a.size - b.size);
    default:
      throw new BerthError('USAGE', `invalid sort "${by}": choose created, id, repository, size or tag`);
  }
}

/** podman images --format json's shape. */
function podmanJson(i: ImageRecord, configs: Map<string, { config?: { Labels?: unknown } }>, containers: Map<string, number>): object {
  return {
    Id: i.id.slice(7),
    ParentId: '',
    RepoTags: i.names.filter((n) => !n.includes('@')),
    RepoDigests: repoDigests(i),
    Size: i.size,
    SharedSize: 0,
    VirtualSize: i.size,
    Labels: configs.get(i.id)?.config?.Labels ?? null,
    Containers: containers.get(i.id) ?? 0,
    Names: i.names,
    Digest: i.digests[0] ?? '',
    Digests: i.digests,
    History: namesHistory(i),
    Created: Math.floor(Date.parse(i.created) / 1000),
    CreatedAt: i.created,
  };
}

/** How many containers each image has, by image ID. */
function containerCounts(containers: readonly { image: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of containers) counts.set(c.image, (counts.get(c.image) ?? 0) + 1);
  return counts;
}
