// Blobs and repository links on S3. An object's time cannot be touched without rewriting it, so each
// blob has a small `_used` marker that links, puts and manifest checks rewrite, and GC's delete works
// against it with a `_deleting` tombstone (see delete). Reads are one GET per response, or none for a
// small blob whose bytes this process holds (_s3-cache.ts) while its existence is recent.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PassThrough, type Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { mapLimit, type S3Bucket } from './_s3-bucket.js';
import { ByteCache, EXISTENCE_MS } from './_s3-cache.js';
import { digestOfKey, layout } from './_s3-layout.js';
import type { BlobContent, BlobEntry, BlobInfo, BlobStore, ByteRange, LinkStore } from './types.js';

/** What the cache holds: a blob's bytes, or a manifest's with its media type and subject. */
export interface CachedBytes {
  bytes: Buffer;
  mediaType?: string;
  subject?: string;
}

/** Markers written within this long are not rewritten by a mere check (a pull must not write on every GET). */
const TOUCH_AFTER_MS = 10_000;
/** A `_deleting` tombstone older than this was left by a collector that died: it no longer holds anyone up. */
const TOMBSTONE_STALE_MS = 60_000;
/** How long a link waits for a collector to finish deciding about the blob it wants. */
const TOMBSTONE_WAIT_MS = 10_000;
/** How long a presigned URL stays good (as distribution's redirect). */
const PRESIGN_SECONDS = 20 * 60;
/**
 * How long a link this process found or made is taken as still there without asking the bucket. A blob
 * GET then makes one request (the GET) instead of four, and RGW serves a few hundred a second in all.
 * Another replica's unlink or collection is seen within this long (this process's own at once).
 */
const RECENT_LINK_MS = EXISTENCE_MS;
const RECENT_LINKS_MAX = 10_000;

/** Links found or made within RECENT_LINK_MS, by blob and repository. */
export class RecentLinks {
  private readonly byBlob = new Map<string, Map<string, { size: number; at: number }>>();

  constructor(private readonly now: () => number = Date.now) {}

  get(repository: string, digest: string): BlobInfo | undefined {
    const hit = this.byBlob.get(digest)?.get(repository);
    return hit && this.now() - hit.at < RECENT_LINK_MS ? { digest, size: hit.size } : undefined;
  }

  set(repository: string, digest: string, size: number): void {
    if (this.byBlob.size >= RECENT_LINKS_MAX && !this.byBlob.has(digest)) this.byBlob.delete(this.byBlob.keys().next().value!);
    let repos = this.byBlob.get(digest);
    if (!repos) this.byBlob.set(digest, (repos = new Map()));
    repos.set(repository, { size, at: this.now() });
  }

  forget(repository: string, digest: string): void {
    this.byBlob.get(digest)?.delete(repository);
  }

  forgetBlob(digest: string): void {
    this.byBlob.delete(digest);
  }
}

function unknown(digest: string): RegistryError {
  return new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to the registry`, { detail: { digest } });
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * An open blob: one GET of the whole object, made by open(), is read in order by read() and stream();
 * a read elsewhere (a Range request) replaces it with a GET from there to the end. So a response makes
 * one request whatever size its reads are.
 */
class S3BlobContent implements BlobContent {
  private body: Readable | undefined;
  private iterator: AsyncIterator<Buffer> | undefined;
  private rest: Buffer | undefined;
  private position = 0;

  constructor(
    private readonly bucket: S3Bucket,
    private readonly digest: string,
    body: Readable,
    readonly size: number,
  ) {
    this.body = body;
  }

  async read(buffer: Buffer, position: number): Promise<number> {
    if (position >= this.size) return 0;
    if (!this.body || position !== this.position) {
      this.drop();
      const got = await this.bucket.stream(layout.blob(this.digest), { start: position });
      if (!got) throw unknown(this.digest);
      this.body = got.body;
      this.position = position;
    }
    this.iterator ??= this.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let n = 0;
    while (n < buffer.length && this.position < this.size) {
      if (!this.rest || this.rest.length === 0) {
        const r = await this.iterator.next();
        if (r.done) break;
        this.rest = r.value;
      }
      const k = Math.min(this.rest.length, buffer.length - n);
      this.rest.copy(buffer, n, 0, k);
      this.rest = this.rest.subarray(k);
      n += k;
      this.position += k;
    }
    return n;
  }

  stream(range?: ByteRange): Readable {
    if (range && (range.start < 0 || range.end < range.start || range.end >= this.size)) {
      throw new RegistryError('RANGE_INVALID', `range ${range.start}-${range.end} is outside blob ${this.digest} (${this.size} bytes)`, {
        detail: { size: this.size },
      });
    }
    if (!range && this.body && this.position === 0 && !this.iterator) {
      // The GET open() made is the whole blob: hand it over.
      const body = this.body;
      this.body = undefined;
      return body;
    }
    this.drop();
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    this.bucket.stream(layout.blob(this.digest), range ? { start: range.start, end: range.end } : undefined).then(
      (got) => {
        if (!got) out.destroy(unknown(this.digest));
        else {
          got.body.on('error', (e) => out.destroy(e));
          out.on('close', () => got.body.destroy());
          got.body.pipe(out);
        }
      },
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  }

  private drop(): void {
    this.body?.destroy();
    this.body = undefined;
    this.iterator = undefined;
    this.rest = undefined;
  }

  async close(): Promise<void> {
    this.drop();
  }
}

/** A blob whose bytes are in memory: reads and streams cost no request. */
class CachedBlobContent implements BlobContent {
  readonly size: number;

  constructor(
    private readonly digest: string,
    private readonly bytes: Buffer,
  ) {
    this.size = bytes.length;
  }

  async read(buffer: Buffer, position: number): Promise<number> {
    if (position >= this.size) return 0;
    return this.bytes.copy(buffer, 0, position, Math.min(this.size, position + buffer.length));
  }

  stream(range?: ByteRange): Readable {
    if (range && (range.start < 0 || range.end < range.start || range.end >= this.size)) {
      throw new RegistryError('RANGE_INVALID', `range ${range.start}-${range.end} is outside blob ${this.digest} (${this.size} bytes)`, {
        detail: { size: this.size },
      });
    }
    const out = new PassThrough();
    out.end(range ? this.bytes.subarray(range.start, range.end + 1) : this.bytes);
    return out;
  }

  async close(): Promise<void> {}
}

/** The whole of a body of `size` bytes, or undefined if it ended short (the object changed under us). */
async function gather(body: Readable, size: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n === size ? Buffer.concat(chunks, n) : undefined;
}

/** The cache key of a blob's bytes (manifests' are keyed by repository too, see _s3-manifests.ts). */
export const blobCacheKey = (digest: string) => `blob ${digest}`;

export class S3Blobs implements BlobStore {
  readonly recent: RecentLinks;

  constructor(
    private readonly bucket: S3Bucket,
    private readonly redirect: boolean,
    /** Small blobs' (and manifests') bytes; capacity 0 keeps none. */
    readonly cache: ByteCache<CachedBytes> = new ByteCache(0),
  ) {
    this.recent = new RecentLinks(cache.now);
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const h = await this.bucket.head(layout.blob(digest));
    return h ? { digest, size: h.size } : undefined;
  }

  /** The blob, unless it is gone or being removed: waits while a collector decides about it. */
  async statLive(digest: string): Promise<BlobInfo | undefined> {
    for (const deadline = Date.now() + TOMBSTONE_WAIT_MS; ; ) {
      const [blob, tomb] = await Promise.all([this.bucket.head(layout.blob(digest)), this.bucket.head(layout.deleting(digest))]);
      if (!blob) return undefined;
      if (!tomb || tomb.modified < Date.now() - TOMBSTONE_STALE_MS || Date.now() > deadline) return { digest, size: blob.size };
      await sleep(100);
    }
  }

  /** Marks the blob used now (GC's grace counts from here). */
  async touch(digest: string): Promise<void> {
    await this.bucket.put(layout.used(digest), '');
  }

  /**
   * The blob's bytes: from memory while a GET or a link check confirmed it within the existence window,
   * else one GET, which a small blob is read whole from (and kept).
   */
  async open(digest: string): Promise<BlobContent> {
    const key = blobCacheKey(digest);
    const cached = this.cache.get(key);
    if (cached) return new CachedBlobContent(digest, cached.bytes);
    const got = await this.bucket.stream(layout.blob(digest));
    if (!got) throw unknown(digest);
    if (this.cache.fits(got.size)) {
      const bytes = await gather(got.body, got.size);
      if (bytes) {
        this.cache.set(key, { bytes }, bytes.length);
        return new CachedBlobContent(digest, bytes);
      }
      const again = await this.bucket.stream(layout.blob(digest));
      if (!again) throw unknown(digest);
      return new S3BlobContent(this.bucket, digest, again.body, again.size);
    }
    return new S3BlobContent(this.bucket, digest, got.body, got.size);
  }

  /** The bucket just said the blob exists (a link check): its cached bytes may be served a while longer. */
  confirm(digest: string): void {
    this.cache.confirm(blobCacheKey(digest));
  }

  /** This process removes the blob: its bytes are served no more. */
  private forget(digest: string): void {
    this.recent.forgetBlob(digest);
    this.cache.delete(blobCacheKey(digest));
  }

  async *list(): AsyncIterable<BlobEntry> {
    const used = new Map<string, number>();
    for await (const o of this.bucket.list(layout.usedAll)) {
      const d = digestOfKey(o.key, layout.usedAll);
      if (d) used.set(d, o.modified);
    }
    for await (const o of this.bucket.list(layout.blobs)) {
      const digest = digestOfKey(o.key, layout.blobs);
      if (digest) yield { digest, size: o.size, modified: Math.max(o.modified, used.get(digest) ?? 0) };
    }
  }

  /**
   * With `unusedSince`, the S3 form of the filesystem's rename-then-recheck: a `_deleting` tombstone is
   * written, then the blob's times are read again, and the blob removed only if still unused. A link
   * writes `_used` first and checks blob and tombstone after (statLive): if its mark came before the
   * re-read, the collector keeps the blob; if after, the link finds the tombstone (and waits) or the
   * blob gone, and fails instead of linking what is being removed.
   */
  async delete(digest: string, opts: { unusedSince?: number } = {}): Promise<boolean> {
    // The bucket gives an object's time to the second (Last-Modified): a mark written in the second
    // the collection's cutoff falls in reads as older than the cutoff. Compared with the cutoff's
    // whole second, such a mark keeps the blob (a grace of 0 lost a blob a manifest had just been
    // accepted with, its mark written after the collection began, in the same second).
    const since = opts.unusedSince === undefined ? undefined : Math.floor(opts.unusedSince / 1000) * 1000;
    const times = async () => {
      const [blob, used] = await Promise.all([this.bucket.head(layout.blob(digest)), this.bucket.head(layout.used(digest))]);
      return blob && Math.max(blob.modified, used?.modified ?? 0);
    };
    this.forget(digest);
    const before = await times();
    if (before === undefined) return false;
    if (since === undefined) {
      await this.bucket.delete(layout.blob(digest));
      await this.bucket.delete(layout.used(digest));
      this.forget(digest);
      return true;
    }
    if (before >= since) return false;
    const started = Date.now();
    await this.bucket.put(layout.deleting(digest), '');
    try {
      const after = await times();
      // A collector that took this long may have a stale tombstone: linkers no longer wait for it.
      if (after === undefined || after >= since || Date.now() - started > TOMBSTONE_STALE_MS / 2) return false;
      await this.bucket.delete(layout.blob(digest));
      await this.bucket.delete(layout.used(digest));
      this.forget(digest);
      return true;
    } finally {
      await this.bucket.delete(layout.deleting(digest));
    }
  }

  /**
   * Removes the `_used` marks, written before `olderThan`, of blobs that are gone (what a link or a manifest
   * put that touched a blob a collection was taking, or a collector that died between its two deletes, left).
   * What a mark protects is a blob's time: GC's grace counts from the later of the blob's and its mark's. A
   * mark is removed only after a HEAD found no blob, and a link or check touches a mark only of a blob it
   * found, so a touch lost to the delete was made by a push re-creating the blob (which marks, then writes
   * it) or by a link to a blob re-created meanwhile. So the blob is looked for again after the delete: if it
   * is there, the mark is written anew (later than any touch lost); if not, the blob's own time when it
   * is written will be later than the lost touch. Either way no blob's time goes back. The digests cleared.
   */
  async sweepMarks(olderThan: number): Promise<string[]> {
    const marks: { digest: string; modified: number }[] = [];
    for await (const o of this.bucket.list(layout.usedAll)) {
      const digest = digestOfKey(o.key, layout.usedAll);
      if (digest && o.modified < olderThan) marks.push({ digest, modified: o.modified });
    }
    const blobs = new Set<string>();
    for await (const o of this.bucket.list(layout.blobs)) {
      const digest = digestOfKey(o.key, layout.blobs);
      if (digest) blobs.add(digest);
    }
    const cleared = await mapLimit(
      marks.filter((m) => !blobs.has(m.digest)),
      8,
      async ({ digest }) => {
        if (await this.bucket.head(layout.blob(digest))) return undefined;
        await this.bucket.delete(layout.used(digest));
        if (!(await this.bucket.head(layout.blob(digest)))) return digest;
        await this.touch(digest);
        return undefined;
      },
    );
    return cleared.filter((d): d is string => d !== undefined);
  }

  /** A URL the client may GET the blob from directly, when redirects are configured. */
  async presign(digest: string): Promise<string | undefined> {
    if (!this.redirect) return undefined;
    return getSignedUrl(this.bucket.client, new GetObjectCommand({ Bucket: this.bucket.bucket, Key: this.bucket.key(layout.blob(digest)) }), {
      expiresIn: PRESIGN_SECONDS,
    });
  }
}

/** Repository links, and the catalog entry a repository gets with its first link or manifest. */
export class S3Links implements LinkStore {
  /** Repositories whose catalog entry this process wrote or saw: entries are never removed, so this only saves a PUT. */
  private readonly known = new Set<string>();

  constructor(
    private readonly bucket: S3Bucket,
    private readonly blobs: S3Blobs,
  ) {}

  /** Whether this process wrote or saw the repository's catalog entry (so it exists: entries are never removed). */
  isKnown(repository: string): boolean {
    return this.known.has(repository);
  }

  /** The bucket said the catalog entry exists. */
  remember(repository: string): void {
    if (this.known.size >= 10_000) this.known.clear();
    this.known.add(repository);
  }

  async ensureRepository(repository: string): Promise<void> {
    if (this.known.has(repository)) return;
    await this.bucket.put(layout.catalogEntry(repository), '');
    this.remember(repository);
  }

  async link(repository: string, digest: string): Promise<BlobInfo> {
    if (!(await this.blobs.stat(digest))) throw unknown(digest);
    await this.blobs.touch(digest);
    const info = await this.blobs.statLive(digest);
    if (!info) throw unknown(digest);
    await this.ensureRepository(repository);
    await this.bucket.put(layout.link(repository, digest), '');
    this.blobs.recent.set(repository, digest, info.size);
    this.blobs.confirm(digest);
    return info;
  }

  async stat(repository: string, digest: string): Promise<BlobInfo | undefined> {
    // Found within the last seconds, when its `_used` mark was also fresh: nothing to check or touch.
    const recent = this.blobs.recent.get(repository, digest);
    if (recent) return recent;
    const info = await this.check(repository, digest);
    if (info) {
      this.blobs.recent.set(repository, digest, info.size);
      this.blobs.confirm(digest);
    }
    return info;
  }

  private async check(repository: string, digest: string): Promise<BlobInfo | undefined> {
    const [link, blob, used] = await Promise.all([
      this.bucket.head(layout.link(repository, digest)),
      this.bucket.head(layout.blob(digest)),
      this.bucket.head(layout.used(digest)),
    ]);
    if (!link || !blob) return undefined;
    // A manifest push checks its blobs this way: they must outlive the grace period from now.
    if (used && Date.now() - used.modified < TOUCH_AFTER_MS) return { digest, size: blob.size };
    await this.blobs.touch(digest);
    return this.blobs.statLive(digest);
  }

  async unlink(repository: string, digest: string): Promise<boolean> {
    const key = layout.link(repository, digest);
    this.blobs.recent.forget(repository, digest);
    this.blobs.cache.delete(blobCacheKey(digest));
    if (!(await this.bucket.head(key))) return false;
    await this.bucket.delete(key);
    return true;
  }

  async list(repository: string): Promise<string[]> {
    const under = layout.links(repository);
    const out: string[] = [];
    for await (const o of this.bucket.list(under)) {
      const d = digestOfKey(o.key, under);
      if (d) out.push(d);
    }
    return out;
  }
}
