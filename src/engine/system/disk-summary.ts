import type { Store } from '../../store/store.js';
import { syncContainers } from '../containers/state.js';
import { imagesUsedBy } from '../images/records.js';
import { containerSize, volumeSize } from './disk-usage.js';
import { volumeUsers } from '../volumes/volumes.js';

/** One row of `system df`: how many, how many in use, their bytes and the bytes a prune would free. */
export interface DiskSummary {
  total: number;
  active: number;
  size: number;
  reclaimable: number;
}

/**
 * `system df`'s three rows, counted as podman counts them: an image is active when a container
 * uses it, a container when it runs, a volume when a container mounts it. Shared layers count once
 * in the images' size; what is reclaimable is the layers no image in use holds, the writable
 * layers of containers that do not run, and the content of volumes nothing mounts.
 */
export async function diskSummary(store: Store): Promise<{ images: DiskSummary; containers: DiskSummary; volumes: DiskSummary }> {
  const [images, containers, volumes] = await Promise.all([store.images(), syncContainers(store), store.volumes()]);

  const inUse = new Set(containers.flatMap(imagesUsedBy));
  const layerSizes = new Map<string, number>();
  for (const chain of new Set(images.flatMap((i) => i.layers))) layerSizes.set(chain, (await store.layers.get(chain))?.size ?? 0);
  const heldByUsed = new Set(images.filter((i) => inUse.has(i.id)).flatMap((i) => i.layers));
  const sum = (chains: Iterable<string>) => [...chains].reduce((n, c) => n + (layerSizes.get(c) ?? 0), 0);
  const imageRow: DiskSummary = {
    total: images.length,
    active: images.filter((i) => inUse.has(i.id)).length,
    size: sum(layerSizes.keys()),
    reclaimable: sum([...layerSizes.keys()].filter((c) => !heldByUsed.has(c))),
  };

  const containerRow: DiskSummary = { total: containers.length, active: 0, size: 0, reclaimable: 0 };
  for (const c of containers) {
    const size = await containerSize(store, c);
    containerRow.size += size;
    if (c.state.status === 'running') containerRow.active++;
    else containerRow.reclaimable += size;
  }

  const volumeRow: DiskSummary = { total: volumes.length, active: 0, size: 0, reclaimable: 0 };
  for (const v of volumes) {
    const size = await volumeSize(store, v.name);
    volumeRow.size += size;
    if (volumeUsers(containers, v.name).length > 0) volumeRow.active++;
    else volumeRow.reclaimable += size;
  }
  return { images: imageRow, containers: containerRow, volumes: volumeRow };
}
