// The filesystem storage backend: one directory holds the whole registry (layout in _fs-paths.ts).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from '../errors.js';
import { FsManifests, FsTags } from './_fs-manifests.js';
import { exists, fileSize, FsPaths, names, paginate, touchBlob, TOUCH_AFTER_MS } from './_fs-paths.js';
import { FsUploads } from './_fs-uploads.js';
import type { BlobContent, BlobEntry, BlobInfo, BlobStore, ByteRange, LinkStore, Page, PageRequest, RegistryStorage } from './types.js';
import type { Readable } from 'node:stream';
import { errnoCode } from '../../util/errors.js';
import { makeDirs } from '../../util/dirs.js';
import { compareStrings } from '../../util/compare.js';

const BLOB_READ_CHUNK = 1 << 20;

/** Files in tmp/ older than this are leftovers of a crash (or a killed writer) and are removed on open. */
const TMP_GRACE_MS = 60 * 60 * 1000;

class FsBlobContent implements BlobContent {
  constructor(
    private readonly digest: string,
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  async read(buffer: Buffer, position: number): Promise<number> {
    return (await this.fh.read(buffer, 0, buffer.length, position)).bytesRead;
  }

  stream(range?: ByteRange): Readable {
    if (range && (range.start < 0 || range.end < range.start || range.end >= this.size)) {
      throw new RegistryError('RANGE_INVALID', `range ${range.start}-${range.end} is outside blob ${this.digest} (${this.size} bytes)`, {
        detail: { size: this.size },
      });
    }
    // 1 MiB reads: Node's default 64 KiB makes a 200 MB blob 3,200 trips through a consumer instead of 200.
    return this.fh.createReadStream({ highWaterMark: BLOB_READ_CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

class FsBlobs implements BlobStore {
  constructor(private readonly paths: FsPaths) {}

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const size = await fileSize(this.paths.blob(digest));
    return size === undefined ? undefined : { digest, size };
  }

  async open(digest: string): Promise<BlobContent> {
    let fh;
    try {
      fh = await open(this.paths.blob(digest), 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to the registry`, { detail: { digest } });
      throw e;
    }
    try {
      return new FsBlobContent(digest, fh, (await fh.stat()).size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async *list(): AsyncIterable<BlobEntry> {
    const root = join(this.paths.root, 'blobs');
    for (const algorithm of await names(root)) {
      for (const prefix of await names(join(root, algorithm))) {
        for (const hex of await names(join(root, algorithm, prefix))) {
          const st = await stat(join(root, algorithm, prefix, hex)).catch(() => undefined);
          if (st?.isFile()) yield { digest: `${algorithm}:${hex}`, size: st.size, modified: st.mtimeMs };
        }
      }
    }
  }

  /**
   * With `unusedSince`: the blob is renamed away first, then its mtime looked at again, so that a link or
   * check that touched it in between (see touchBlob) puts it back; one that comes after finds it gone.
   */
  async delete(digest: string, opts: { unusedSince?: number } = {}): Promise<boolean> {
    const path = this.paths.blob(digest);
    const before = await stat(path).catch(() => undefined);
    if (!before) return false;
    const since = opts.unusedSince;
    if (since === undefined) {
      await rm(path, { force: true });
      return true;
    }
    if (before.mtimeMs >= since) return false;
    const trash = `${await this.paths.tmpFile()}-gc`;
    try {
      await rename(path, trash);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return false;
      throw e;
    }
    const after = await stat(trash);
    if (after.mtimeMs >= since) {
      await rename(trash, path);
      return false;
    }
    await rm(trash, { force: true });
    return true;
  }
}

class FsLinks implements LinkStore {
  constructor(
    private readonly paths: FsPaths,
    private readonly blobs: BlobStore,
  ) {}

  async link(repository: string, digest: string): Promise<BlobInfo> {
    const info = await this.blobs.stat(digest);
    if (!info) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to the registry`, { detail: { digest } });
    const path = this.paths.link(repository, digest);
    await mkdir(join(path, '..'), { recursive: true });
    await (await open(path, 'a')).close(); // an empty file: it either exists or not
    if (!(await touchBlob(this.paths.blob(digest))))
      throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to the registry`, { detail: { digest } });
    return info;
  }

  async stat(repository: string, digest: string): Promise<BlobInfo | undefined> {
    if (!(await exists(this.paths.link(repository, digest)))) return undefined;
    // A manifest push checks its blobs this way: they must outlive the grace period from now.
    if (!(await touchBlob(this.paths.blob(digest), TOUCH_AFTER_MS))) return undefined;
    return this.blobs.stat(digest);
  }

  async list(repository: string): Promise<string[]> {
    const dir = join(this.paths.repository(repository), '_layers');
    const out: string[] = [];
    for (const algorithm of await names(dir)) for (const hex of await names(join(dir, algorithm))) out.push(`${algorithm}:${hex}`);
    return out;
  }

  async unlink(repository: string, digest: string): Promise<boolean> {
    const path = this.paths.link(repository, digest);
    if (!(await exists(path))) return false;
    await rm(path, { force: true });
    return true;
  }
}

/** A registry stored under one directory. */
export class FsStorage implements RegistryStorage {
  readonly blobs: BlobStore;
  readonly uploads: FsUploads;
  readonly links: LinkStore;
  readonly manifests: FsManifests;
  readonly tags: FsTags;
  private readonly paths: FsPaths;

  private constructor(root: string) {
    this.paths = new FsPaths(root);
    this.blobs = new FsBlobs(this.paths);
    this.links = new FsLinks(this.paths, this.blobs);
    this.uploads = new FsUploads(this.paths, this.links);
    this.manifests = new FsManifests(this.paths);
    this.tags = new FsTags(this.paths, this.manifests, (name) => this.hasRepository(name));
  }

  /** Opens (creating if needed) the registry at `root`, removing temp files a crash left behind. */
  static async open(root: string): Promise<FsStorage> {
    const s = new FsStorage(root);
    // makeDirs, not mkdir -p: a storage path under /proc fails at once instead of spinning.
    for (const dir of [s.paths.tmp(), s.paths.uploads(), s.paths.repositories(), join(root, 'blobs')]) await makeDirs(dir);
    const now = Date.now();
    for (const name of await readdir(s.paths.tmp())) {
      const p = join(s.paths.tmp(), name);
      const st = await stat(p).catch(() => undefined);
      if (st && now - st.mtimeMs > TMP_GRACE_MS) await rm(p, { recursive: true, force: true });
    }
    return s;
  }

  async hasRepository(repository: string): Promise<boolean> {
    const dir = this.paths.repository(repository);
    return (await exists(join(dir, '_layers'))) || (await exists(join(dir, '_manifests')));
  }

  async repositories(page?: PageRequest): Promise<Page<string>> {
    const found: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') return;
        throw e;
      }
      if (entries.some((e) => e.isDirectory() && (e.name === '_layers' || e.name === '_manifests'))) found.push(prefix);
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.'))
          await walk(join(dir, e.name), prefix === '' ? e.name : `${prefix}/${e.name}`);
      }
    };
    await walk(this.paths.repositories(), '');
    return paginate(found.filter((n) => n !== '').sort(compareStrings), page);
  }

  /** The root and its directories are there, and a file can be written and removed in tmp/. */
  async check(): Promise<void> {
    for (const dir of [this.paths.root, this.paths.tmp(), this.paths.uploads(), this.paths.repositories(), join(this.paths.root, 'blobs')]) {
      if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    }
    // Not tmpFile(): it would create tmp/ again when it went missing.
    const probe = join(this.paths.tmp(), `${Date.now()}-${randomBytes(8).toString('hex')}-ready`);
    await writeFile(probe, '', { flag: 'wx' });
    await rm(probe, { force: true });
  }

  async close(): Promise<void> {}
}

export function openFsStorage(root: string): Promise<FsStorage> {
  return FsStorage.open(root);
}
