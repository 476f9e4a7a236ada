// A container's sizes as Docker's and podman's `ps --size` show them.
import type { ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { containerSize } from '../system/disk-usage.js';

/** Bytes in the writable layer, and in the whole root (the image's layers and the writable layer). */
export async function containerSizes(store: Store, c: ContainerRecord): Promise<{ rw: number; rootFs: number }> {
  const rw = await containerSize(store, c);
  let image = 0;
  for (const chain of c.layers) image += (await store.layers.get(chain))?.size ?? 0;
  return { rw, rootFs: image + rw };
}
