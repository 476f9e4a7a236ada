import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../store/store.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { errnoCode } from '../../util/errors.js';

interface CacheFile {
  version: 1;
  /** Step key to the image that step made and the image it started from. */
  entries: Record<string, { image: string; parent: string }>;
}

/**
 * The build cache: an explicit index from a step's key to the (intermediate) image it made, in
 * `build-cache.json` at the store's root. Written whole under the store lock; an entry whose image
 * is gone (removed, pruned) is a miss and is dropped on the next write.
 */
export class BuildCache {
  private readonly path: string;

  constructor(private readonly store: Store) {
    this.path = join(store.root, 'build-cache.json');
  }

  /** The key of one step: the image it starts from and what it does (expanded text, content hashes). */
  static key(parentImageId: string, step: string): string {
    return createHash('sha256').update(`${parentImageId}\n${step}`).digest('hex');
  }

  private async read(): Promise<CacheFile> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as CacheFile;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { version: 1, entries: {} };
      throw e;
    }
  }

  /** The image a step made before, if it is still in the store. */
  async lookup(key: string): Promise<string | undefined> {
    const id = (await this.read()).entries[key]?.image;
    if (!id) return undefined;
    return (await this.store.images()).some((i) => i.id === id) ? id : undefined;
  }

  /**
   * Images that a cached step started from and whose result is still here: podman's intermediate
   * images, which `images` hides without --all when they have no name.
   */
  async parents(): Promise<Set<string>> {
    const live = new Set((await this.store.images()).map((i) => i.id));
    return new Set(Object.values((await this.read()).entries).flatMap((e) => (live.has(e.image) ? [e.parent] : [])));
  }

  /** Each cached step's image to the image it started from: which images a kept image was built on. */
  async links(): Promise<Map<string, string>> {
    return new Map(Object.values((await this.read()).entries).map((e) => [e.image, e.parent] as const));
  }

  /** The images the cache's steps made. */
  async images(): Promise<Set<string>> {
    return new Set(Object.values((await this.read()).entries).map((e) => e.image));
  }

  /** Drops the entries whose image is gone, or with `all` every entry (every step then runs again). */
  async sweep(opts: { all?: boolean } = {}): Promise<number> {
    return this.store.lock.with(async () => {
      const file = await this.read();
      const live = new Set((await this.store.images()).map((i) => i.id));
      const entries: CacheFile['entries'] = {};
      if (!opts.all) for (const [k, v] of Object.entries(file.entries)) if (typeof v === 'object' && live.has(v.image)) entries[k] = v;
      const dropped = Object.keys(file.entries).length - Object.keys(entries).length;
      if (dropped > 0) await writeFileAtomic(this.path, JSON.stringify({ version: 1, entries } satisfies CacheFile));
      return dropped;
    });
  }

  async record(key: string, imageId: string, parentId: string): Promise<void> {
    await this.store.lock.with(async () => {
      const file = await this.read();
      const live = new Set((await this.store.images()).map((i) => i.id));
      const entries: CacheFile['entries'] = {};
      for (const [k, v] of Object.entries(file.entries)) if (typeof v === 'object' && live.has(v.image)) entries[k] = v;
      entries[key] = { image: imageId, parent: parentId };
      await writeFileAtomic(this.path, JSON.stringify({ version: 1, entries } satisfies CacheFile));
    });
  }
}
