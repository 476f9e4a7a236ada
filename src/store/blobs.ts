import { createReadStream, readFileSync } from 'node:fs';
import { open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { digestOf, parseDigest, type Algorithm } from '../oci/digest.js';
import { publishFile } from '../util/atomic.js';
import { createStreamHash } from '../util/hash.js';
import { receiveInto } from '../util/receive-into.js';
import { BerthError, errnoCode } from '../util/errors.js';
import type { TempSpace } from './tmp.js';

/**
 * Read size of a blob opened as a stream. Node's default (64 KiB) made a 150 MB push ~2,400 reads,
 * each a trip through the thread pool and one socket write; 1 MiB reads cost less CPU per byte and
 * keep memory flat (one buffer per open blob).
 */
const READ_HIGH_WATER = 1024 * 1024;

/**
 * Bounds of the small blobs kept in memory (readSmall): image configs are a few kB, so hundreds of
 * images fit; a blob above the per-blob bound is read each time.
 */
const KEPT_BLOBS = { count: 512, bytes: 8 * 1024 * 1024, each: 256 * 1024 };

/** Passes bytes through, counting them. */
export class CountingStream extends Transform {
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    cb(null, chunk);
  }
}

export interface BlobInfo {
  digest: string;
  size: number;
}

/**
 * Content-addressed blobs under blobs/ALGO/HEX. A blob is written to temp space while its digest
 * is computed, and renamed into place only when it matches: a reader never sees a partial or
 * wrong blob, and identical content is stored once.
 */
export class BlobStore {
  /** readSmall's blobs, least recently read first, and their bytes in all. */
  private readonly kept = new Map<string, Buffer>();
  private keptBytes = 0;

  constructor(
    readonly dir: string,
    private readonly tmp: TempSpace,
    /** Whether readSmall keeps what it reads (a long-lived process). */
    private readonly keep = false,
  ) {}

  path(digest: string): string {
    const d = parseDigest(digest);
    return join(this.dir, d.algorithm, d.hex);
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  open(digest: string): Readable {
    return createReadStream(this.path(digest), { highWaterMark: READ_HIGH_WATER });
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (e) {
      throw this.readError(digest, e);
    }
  }

  private readError(digest: string, e: unknown): unknown {
    return errnoCode(e) === 'ENOENT' ? new BerthError('IO', `blob ${digest} is missing from the store`, { cause: e }) : e;
  }

  /**
   * A small blob read often (an image config, which every image list and inspect reads), kept in
   * memory with `keep`: a blob's bytes never change, as its name is their digest, so nothing needs
   * checking again. The least recently read go first beyond KEPT_BLOBS. The bytes are shared: not to be changed.
   */
  async readSmall(digest: string): Promise<Buffer> {
    const kept = this.kept.get(digest);
    if (kept) {
      this.kept.delete(digest);
      this.kept.set(digest, kept);
      return kept;
    }
    // One synchronous read: a config is a few kB, the pool's readFile four round trips.
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path(digest));
    } catch (e) {
      throw this.readError(digest, e);
    }
    if (this.keep && bytes.length <= KEPT_BLOBS.each) {
      this.kept.set(digest, bytes);
      this.keptBytes += bytes.length;
      for (const [d, b] of this.kept) {
        if (this.kept.size <= KEPT_BLOBS.count && this.keptBytes <= KEPT_BLOBS.bytes) break;
        this.kept.delete(d);
        this.keptBytes -= b.length;
      }
    }
    return bytes;
  }

  /**
   * Streams `input` into the store. With `expected`, the content must hash to it (and have that
   * size) or nothing is kept. With `expected.verifiedBySource`, `input` is a stream that itself
   * fails unless its bytes match `expected.digest` (a registry download checks as it goes): the
   * bytes are counted but not hashed again, and nothing is kept unless the stream ends cleanly.
   */
  async put(input: Readable, expected?: { digest?: string; size?: number; verifiedBySource?: boolean }, algorithm?: Algorithm): Promise<BlobInfo> {
    const algo = algorithm ?? (expected?.digest ? parseDigest(expected.digest).algorithm : 'sha256');
    const tmpPath = await this.tmp.path('blob');
    const trusted = expected?.verifiedBySource === true && expected.digest !== undefined ? expected.digest : undefined;
    const hash = trusted ? undefined : createStreamHash(algo);
    let fh: FileHandle | undefined;
    try {
      fh = await open(tmpPath, 'wx');
      // In 1 MiB writes with the kernel asked to write back as it goes: the fsync that makes the blob
      // durable then waits on the last few MiB, not on the whole layer after its last byte.
      const size = await receiveInto(input, fh, 0, (chunk) => hash?.update(chunk));
      await fh.sync();
      await fh.close();
      fh = undefined;
      return await this.publish(tmpPath, trusted ?? `${algo}:${hash!.hex()}`, size, expected, true);
    } finally {
      await fh?.close().catch(() => undefined);
      await rm(tmpPath, { force: true });
    }
  }

  async putBytes(data: Uint8Array, expectedDigest?: string): Promise<BlobInfo> {
    const digest = digestOf(data, expectedDigest ? parseDigest(expectedDigest).algorithm : 'sha256');
    if (expectedDigest && digest !== expectedDigest) {
      throw new BerthError('DIGEST_MISMATCH', `content does not match its digest: expected ${expectedDigest}, got ${digest}`);
    }
    if (await this.has(digest)) return { digest, size: data.length };
    const tmpPath = await this.tmp.path('blob');
    const fh = await open(tmpPath, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      return await this.publish(tmpPath, digest, data.length, undefined, true);
    } finally {
      await rm(tmpPath, { force: true });
    }
  }

  /** Verifies a finished temp file and renames it into place. */
  async publish(tmpPath: string, digest: string, size: number, expected?: { digest?: string; size?: number }, synced = false): Promise<BlobInfo> {
    if (expected?.digest && expected.digest !== digest) {
      throw new BerthError('DIGEST_MISMATCH', `content does not match its digest: expected ${expected.digest}, got ${digest}`);
    }
    if (expected?.size !== undefined && expected.size >= 0 && expected.size !== size) {
      throw new BerthError('SIZE_MISMATCH', `blob ${digest} has ${size} bytes, expected ${expected.size}`);
    }
    await publishFile(tmpPath, this.path(digest), { synced });
    return { digest, size };
  }

  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }
}
