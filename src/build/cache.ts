import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/store.js';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode } from '../util/errors.js';

interface CacheFile {
  version: 1;
  /** Step key to the ID of the image that step made. */
  entries: Record<string, string>;
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
    const id = (await this.read()).entries[key];
    if (!id) return undefined;
    return (await this.store.images()).some((i) => i.id === id) ? id : undefined;
  }

  async record(key: string, imageId: string): Promise<void> {
    await this.store.lock.with(async () => {
      const file = await this.read();
      const live = new Set((await this.store.images()).map((i) => i.id));
      const entries: Record<string, string> = {};
      for (const [k, v] of Object.entries(file.entries)) if (live.has(v)) entries[k] = v;
      entries[key] = imageId;
      await writeFileAtomic(this.path, JSON.stringify({ version: 1, entries } satisfies CacheFile));
    });
  }
}
