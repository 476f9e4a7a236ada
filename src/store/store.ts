import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DirLock } from '../util/lock.js';
import { BlobStore } from './blobs.js';
import { ImageIndexFile, type ImageRecord } from './images.js';
import { LayerStore } from './layers.js';
import { TempSpace } from './tmp.js';

export interface StoreOptions {
  root: string;
  runRoot?: string;
}

/**
 * The local store: content-addressed blobs, unpacked layers and image records under one root.
 * Metadata changes take the store lock; bulk work (downloads, unpacking) happens outside it in temp
 * space and is published by rename, so a kill -9 at any point leaves only temp files behind, and
 * those are swept on the next open.
 */
export class Store {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly tmp: TempSpace;
  readonly lock: DirLock;
  private readonly index: ImageIndexFile;

  private constructor(
    readonly root: string,
    readonly runRoot: string | undefined,
  ) {
    this.tmp = new TempSpace(join(root, 'tmp'));
    this.blobs = new BlobStore(join(root, 'blobs'), this.tmp);
    this.layers = new LayerStore(join(root, 'layers'), this.tmp);
    this.lock = new DirLock(join(root, 'store.lock'));
    this.index = new ImageIndexFile(join(root, 'images.json'));
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const store = new Store(opts.root, opts.runRoot);
    await mkdir(join(opts.root, 'tmp'), { recursive: true, mode: 0o700 });
    await store.tmp.cleanStale();
    await store.lock.sweepLeftovers();
    return store;
  }

  async close(): Promise<void> {
    await this.tmp.cleanMine();
  }

  images(): Promise<ImageRecord[]> {
    return this.index.read();
  }

  /** Read-modify-write of the image records under the store lock. */
  async updateImages<T>(fn: (images: ImageRecord[]) => Promise<T> | T): Promise<T> {
    return this.lock.with(async () => {
      const images = await this.index.read();
      const result = await fn(images);
      await this.index.write(images);
      return result;
    });
  }

  /**
   * Deletes the layers and blobs that no image uses. `candidates` limits the sweep to what a
   * removed image held; without it, everything unreferenced that is older than `graceMs` goes
   * (so that a concurrent load, which publishes blobs before it records its image, is not robbed).
   */
  async collectGarbage(opts: { candidates?: { layers: string[]; blobs: string[] }; graceMs?: number } = {}): Promise<{ layers: number; blobs: number; bytes: number }> {
    const result = { layers: 0, blobs: 0, bytes: 0 };
    // Under the lock, what goes is only renamed into temp space (cheap, atomic); the slow part,
    // deleting the files, runs after the lock is released and in parallel.
    const doomed: string[] = [];
    await this.lock.with(async () => {
      const images = await this.index.read();
      const liveLayers = new Set(images.flatMap((i) => i.layers));
      const liveBlobs = new Set(images.flatMap((i) => [i.id, i.manifestDigest, ...(i.indexDigest ? [i.indexDigest] : []), ...i.layerBlobs]));
      const grace = opts.graceMs ?? 0;
      const now = Date.now();
      const layerCandidates = opts.candidates?.layers ?? (await this.layers.list()).map((l) => l.chainID);
      const blobCandidates = opts.candidates?.blobs ?? (await this.allBlobs());
      for (const chainID of new Set(layerCandidates)) {
        if (liveLayers.has(chainID)) continue;
        const rec = await this.layers.get(chainID);
        if (!rec) continue;
        if (grace > 0 && now - Date.parse(rec.created) < grace) continue;
        const path = await this.layers.detach(chainID);
        if (!path) continue;
        doomed.push(path);
        result.layers++;
        result.bytes += rec.size;
      }
      for (const digest of new Set(blobCandidates)) {
        if (liveBlobs.has(digest)) continue;
        const st = await stat(this.blobs.path(digest)).catch(() => undefined);
        if (!st) continue;
        if (grace > 0 && now - st.mtimeMs < grace) continue;
        const path = await this.tmp.path('rm-blob');
        await rename(this.blobs.path(digest), path);
        doomed.push(path);
        result.blobs++;
        result.bytes += st.size;
      }
    });
    await Promise.all(doomed.map((p) => rm(p, { recursive: true, force: true })));
    return result;
  }

  async allBlobs(): Promise<string[]> {
    const out: string[] = [];
    for (const algo of ['sha256', 'sha512']) {
      const names = await readdir(join(this.blobs.dir, algo)).catch(() => [] as string[]);
      for (const n of names) out.push(`${algo}:${n}`);
    }
    return out;
  }
}
