import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pruneImages } from '../images/records.js';
import type { Store } from '../../store/store.js';
import { BuildCache } from './cache.js';

/**
 * `builder prune` (buildah's `prune`): the build cache goes. That is the intermediate images the
 * cached steps made (those without a name) unless a kept image needs them (it was built on them,
 * or shares their layers: see neededImages), the cache entries whose image went, and the
 * directories of `RUN --mount=type=cache`. With `all` every cache entry goes as well, so that
 * every step runs again; the images a tagged image needs stay even then.
 */
export async function pruneBuildCache(store: Store, opts: { all?: boolean } = {}): Promise<{ deleted: string[]; reclaimed: number; entries: number }> {
  const cache = new BuildCache(store);
  const named = new Set((await store.images()).filter((i) => i.names.length > 0).map((i) => i.id));
  const intermediates = new Set([...(await cache.images())].filter((id) => !named.has(id)));
  const result = await pruneImages(store, { only: intermediates, parents: await cache.links() });
  const entries = await cache.sweep(opts);
  await rm(join(store.root, 'build-mount-cache'), { recursive: true, force: true });
  return { ...result, entries };
}

/** `image prune`: as pruneImages, sparing what kept images were built on, then the cache entries of what went. */
export async function pruneImagesAndCache(store: Store, opts: { all?: boolean } = {}): Promise<{ deleted: string[]; reclaimed: number }> {
  const cache = new BuildCache(store);
  const result = await pruneImages(store, { ...opts, parents: await cache.links() });
  await cache.sweep();
  return result;
}
