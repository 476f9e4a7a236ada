import { readdir, rename, stat } from 'node:fs/promises';
import { makeDirsSync } from '../util/dirs.js';
import { join } from 'node:path';
import { copyJson } from '../util/json-copy.js';
import { DirLock } from '../util/lock.js';
import { BlobStore } from './blobs.js';
import type { ContainerRecord, ContainerState, StoredContainer } from './containers.js';
import { readStateFile, readStateFileSync, withState, writeStateFile } from './container-state.js';
import { FileCache } from './file-cache.js';
import { recordNamesHistory, type ImageRecord } from './images.js';
import { readImageSignatures, removeImageSignatures, writeImageSignatures, type SignaturesByDigest } from './image-signatures.js';
import { RecordFile } from './record-file.js';
import type { VolumeRecord } from './volumes.js';
import { LayerStore } from './layers.js';
import { TempSpace } from './tmp.js';
import { Trash } from './trash.js';

export interface StoreOptions {
  root: string;
  runRoot?: string;
  /**
   * Keep what is read often in memory while it is unchanged: the image records and the build
   * cache's index (revalidated by one stat per read, see file-cache.ts) and image configs (by
   * digest, immutable). For a process that keeps the store open and reads it on every request
   * (the API service); a command reads each once.
   */
  cacheReads?: boolean;
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
  readonly trash: Trash;
  readonly lock: DirLock;
  /** Parsed store files, kept in memory between reads with `cacheReads`. */
  readonly files: FileCache;
  private readonly index: RecordFile<ImageRecord>;
  private readonly containerIndex: RecordFile<StoredContainer>;
  private readonly volumeIndex: RecordFile<VolumeRecord>;

  private constructor(
    readonly root: string,
    readonly runRoot: string | undefined,
    cacheReads: boolean,
  ) {
    this.tmp = new TempSpace(join(root, 'tmp'));
    this.trash = new Trash(join(root, 'trash'));
    this.files = new FileCache(cacheReads);
    this.blobs = new BlobStore(join(root, 'blobs'), this.tmp, cacheReads);
    this.layers = new LayerStore(join(root, 'layers'), this.tmp);
    this.lock = new DirLock(join(root, 'store.lock'));
    this.index = new RecordFile<ImageRecord>(join(root, 'images.json'), 'images');
    this.containerIndex = new RecordFile<StoredContainer>(join(root, 'containers.json'), 'containers');
    this.volumeIndex = new RecordFile<VolumeRecord>(join(root, 'volumes.json'), 'volumes');
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const store = new Store(opts.root, opts.runRoot, opts.cacheReads ?? false);
    // Others may pass through the root (to reach a container's root file system as the container's
    // own root user, a subordinate ID, with `--userns`), never list it; its work space is private.
    // Synchronous: every command opens the store, and these are calls of microseconds each.
    makeDirsSync(opts.root, 0o711);
    makeDirsSync(join(opts.root, 'tmp'), 0o700);
    await store.tmp.cleanStale();
    await store.lock.sweepLeftovers();
    await store.trash.sweep();
    return store;
  }

  async close(): Promise<void> {
    await this.files.close();
    await this.tmp.cleanMine();
    await this.trash.empty();
  }

  /** Every image record: the caller's own copy, to change as it likes (only updateImages writes them back). */
  async images(): Promise<ImageRecord[]> {
    const records = await this.files.read(this.index.path, this.index.parse);
    // A cached list is shared by every reader; a plain read is this caller's alone already.
    return this.files.enabled ? copyJson(records) : records;
  }

  /** Every container with its state (each from its own state file). */
  async containers(): Promise<ContainerRecord[]> {
    const records = await this.containerIndex.read();
    return records.map((r) => withState(r, readStateFileSync(this.containerDir(r.id))));
  }

  /** The records alone (names, IDs, settings): enough to find a container, without reading any state. */
  containerRecords(): Promise<StoredContainer[]> {
    return this.containerIndex.read();
  }

  /** One container with its state: one state file read. */
  async containerWithState(record: StoredContainer): Promise<ContainerRecord> {
    return withState(record, await readStateFile(this.containerDir(record.id)));
  }

  /** The container with this full ID and its state, or undefined once it is removed. */
  async containerById(id: string): Promise<ContainerRecord | undefined> {
    const record = (await this.containerIndex.read()).find((r) => r.id === id);
    return record && this.containerWithState(record);
  }

  /** Replaces a container's state file; the caller holds that container's lock. `durable` false: not synced (a volatile container's). */
  writeContainerState(id: string, state: ContainerState, durable = true): Promise<void> {
    return writeStateFile(this.containerDir(id), state, durable);
  }

  /** A container's own files: its writable layer, its bundle, its logs. */
  containerDir(id: string): string {
    return join(this.root, 'containers', id);
  }

  /**
   * Read-modify-write of the container records (their fixed settings: a create, a rename, an rm)
   * under the store lock. States are not in them: see writeContainerState.
   */
  async updateContainers<T>(fn: (containers: StoredContainer[]) => Promise<T> | T): Promise<T> {
    return this.lock.with(async () => {
      const containers = await this.containerIndex.read();
      const result = await fn(containers);
      await this.containerIndex.write(containers);
      return result;
    });
  }

  volumes(): Promise<VolumeRecord[]> {
    return this.volumeIndex.read();
  }

  /** Where a volume's directory lives; its content is in `_data` below it, as podman lays it out. */
  volumeDir(name: string): string {
    return join(this.root, 'volumes', name);
  }

  /**
   * Read-modify-write of the volume records under the store lock, with the container records
   * read in the same critical section (a volume in use must not vanish under a starting container).
   */
  async updateVolumes<T>(fn: (volumes: VolumeRecord[], containers: readonly StoredContainer[]) => Promise<T> | T): Promise<T> {
    return this.lock.with(async () => {
      const volumes = await this.volumeIndex.read();
      const result = await fn(volumes, await this.containerIndex.read());
      await this.volumeIndex.write(volumes);
      return result;
    });
  }

  /**
   * Read-modify-write of the image records under the store lock. An image the change removes loses
   * its signature file with it (after the records are written: a kill -9 between leaves a file no
   * record names, which the next store of that image replaces).
   */
  async updateImages<T>(fn: (images: ImageRecord[]) => Promise<T> | T): Promise<T> {
    return this.lock.with(async () => {
      const images = await this.index.read();
      const names = new Map(images.map((i) => [i.id, [...i.names]]));
      const result = await fn(images);
      recordNamesHistory(names, images);
      await this.index.write(images);
      const kept = new Set(images.map((i) => i.id));
      for (const id of names.keys()) if (!kept.has(id)) await removeImageSignatures(this.root, id);
      return result;
    });
  }

  /** The signatures kept for the image `id`, by manifest digest (none for most images). */
  imageSignatures(id: string): Promise<SignaturesByDigest> {
    return readImageSignatures(this.root, id);
  }

  /**
   * Keeps `byDigest` as the image's signatures of those manifest digests, as containers-storage
   * does at a copy's commit: a digest given some replaces what it had, the others keep theirs. For
   * an image just added (`added`), the file is exactly `byDigest`: whatever a killed removal left
   * under its ID is not its. Called inside updateImages, so it and the record change under one lock.
   */
  async keepImageSignatures(id: string, byDigest: SignaturesByDigest, added: boolean): Promise<void> {
    const given = Object.entries(byDigest).filter(([, list]) => list.length > 0);
    if (!added && given.length === 0) return;
    const next = added ? {} : await readImageSignatures(this.root, id);
    for (const [digest, list] of given) next[digest] = list;
    await writeImageSignatures(this.root, id, next);
  }

  /**
   * Deletes the layers and blobs that no image uses. `candidates` limits the sweep to what a
   * removed image held; without it, everything unreferenced that is older than `graceMs` goes
   * (so that a concurrent load, which publishes blobs before it records its image, is not robbed).
   */
  async collectGarbage(
    opts: { candidates?: { layers: string[]; blobs: string[] }; graceMs?: number } = {},
  ): Promise<{ layers: number; blobs: number; bytes: number }> {
    const result = { layers: 0, blobs: 0, bytes: 0 };
    // Under the lock, what goes is only renamed into the trash (cheap, atomic); the slow part,
    // deleting the files, is left to a detached process at close (store/trash.ts), so no command
    // waits on it.
    await this.lock.with(async () => {
      const images = await this.index.read();
      // A container's layers stay while it exists, even if its image record were gone.
      const liveLayers = new Set([...images.flatMap((i) => i.layers), ...(await this.containerIndex.read()).flatMap((c) => c.layers)]);
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
        if (!(await this.layers.detach(chainID, await this.trash.path('layer')))) continue;
        result.layers++;
        result.bytes += rec.size;
      }
      for (const digest of new Set(blobCandidates)) {
        if (liveBlobs.has(digest)) continue;
        const st = await stat(this.blobs.path(digest)).catch(() => undefined);
        if (!st) continue;
        if (grace > 0 && now - st.mtimeMs < grace) continue;
        await rename(this.blobs.path(digest), await this.trash.path('blob'));
        result.blobs++;
        result.bytes += st.size;
      }
    });
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
