import { pruneBuildCache, pruneImagesAndCache } from '../../engine/build/index.js';
import { volumeSize } from '../../engine/system/index.js';
import { withStore } from '../../engine/index.js';
import { pruneContainers } from '../../engine/containers/index.js';
import { pruneNetworks } from '../../engine/networks/index.js';
import { pruneVolumes, volumeUsers } from '../../engine/volumes/index.js';
import { confirm } from '../confirm.js';
import { engineOptions, type GlobalOptions } from '../context.js';
import { goHumanSize } from '../output/units.js';

/** podman's warning. */
export function systemPruneWarning(opts: { all?: boolean; volumes?: boolean }): string {
  return [
    'WARNING! This command removes:',
    '\t- all stopped containers',
    '\t- all networks not used by at least one container',
    ...(opts.volumes ? ['\t- all volumes not used by at least one container'] : []),
    opts.all ? '\t- all images without at least one container associated with them' : '\t- all dangling images',
    opts.all ? '\t- all build cache' : '\t- all dangling build cache',
    '',
  ].join('\n');
}

/**
 * `system prune`: stopped containers, networks no container uses, then (with --volumes) volumes no container uses, then
 * dangling images (with -a every image no container uses) and the build cache. A running
 * container, and without -a a tagged image, is never touched. Prints what went as podman does.
 */
export async function run(g: GlobalOptions, opts: { all?: boolean; volumes?: boolean; force?: boolean }): Promise<void> {
  if (!(await confirm('system prune', systemPruneWarning(opts), opts))) return;
  await withStore(engineOptions(g), async (store) => {
    const containers = await pruneContainers(store);
    const networks = await pruneNetworks(store);
    let volumes: string[] = [];
    let volumeBytes = 0;
    if (opts.volumes) {
      const users = await store.containers();
      const sizes = new Map<string, number>();
      for (const v of await store.volumes()) if (volumeUsers(users, v.name).length === 0) sizes.set(v.name, await volumeSize(store, v.name));
      volumes = await pruneVolumes(store);
      volumeBytes = volumes.reduce((n, name) => n + (sizes.get(name) ?? 0), 0);
    }
    const images = await pruneImagesAndCache(store, { ...(opts.all ? { all: true } : {}) });
    const cache = await pruneBuildCache(store, { ...(opts.all ? { all: true } : {}) });
    const deletedImages = [...images.deleted, ...cache.deleted];
    const section = (title: string, items: string[]) => (items.length > 0 ? [title, ...items] : []);
    const lines = [
      ...section('Deleted Containers', containers.removed),
      ...section('Deleted Networks', networks),
      ...section('Deleted Volumes', volumes),
      ...section(
        'Deleted Images',
        deletedImages.map((id) => id.slice(7)),
      ),
      `Total reclaimed space: ${goHumanSize(containers.reclaimed + volumeBytes + images.reclaimed + cache.reclaimed)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
