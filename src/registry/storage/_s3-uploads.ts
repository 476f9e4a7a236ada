// Upload sessions on S3, kept wholly in the bucket so that a session started on one replica continues
// on any other: uploads/<id>/info names the repository, and each append streams its body into one
// segment object uploads/<id>/data/<offset> (lib-storage's Upload: a PUT, or a multipart upload for a
// large body, with a bounded buffer). The session's size is where its last segment ends. An append that
// fails leaves no segment (a multipart one is aborted), so the session stays at its previous size.
// Finishing hashes the segments (or takes the running hash of a session this process saw whole), and only
// then assembles them into blobs/<alg>/<hex> (_s3-assemble.ts): a blob is either absent or verified.
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseDigest, type Algorithm } from '../../oci/digest.js';
import { releaseTransferred } from '../_release-buffers.js';
import { isRegistryError, RegistryError } from '../errors.js';
import { assemble, type Segment } from './_s3-assemble.js';
import { isNotFound, mapLimit, type S3Bucket } from './_s3-bucket.js';
import type { S3Blobs, S3Links } from './_s3-blobs.js';
import { layout, parseUploadKey } from './_s3-layout.js';
import type { BlobInfo, UploadStatus, UploadStore } from './types.js';

const ID_RE = /^[a-f0-9-]{36}$/;
/** Running sha256 states of sessions this process received every byte of, so that finishing need not reread them. */
const MAX_RUNNING = 1024;

interface RunningHash {
  size: number;
  hash: Hash;
}

interface Session {
  repository: string;
  segments: Segment[];
  size: number;
}

export interface S3UploadOptions {
  partBytes: number;
  concurrency: number;
}

/** The segments that follow each other from offset 0 (any other is a leftover of a lost race) and where they end. */
function contiguous(all: Segment[]): { segments: Segment[]; size: number } {
  const segments: Segment[] = [];
  let size = 0;
  for (const s of all.sort((a, b) => a.offset - b.offset)) {
    if (s.offset !== size || s.size === 0) continue;
    segments.push(s);
    size += s.size;
  }
  return { segments, size };
}

export class S3Uploads implements UploadStore {
  private readonly busy = new Set<string>();
  private readonly running = new Map<string, RunningHash>();

  constructor(
    private readonly bucket: S3Bucket,
    private readonly blobs: S3Blobs,
    private readonly links: S3Links,
    private readonly opts: S3UploadOptions,
  ) {}

  async create(repository: string): Promise<UploadStatus> {
    const id = randomUUID();
    await this.bucket.put(layout.uploadInfo(id), JSON.stringify({ repository, started: new Date().toISOString() }), { contentType: 'application/json' });
    return { id, repository, size: 0 };
  }

  private async segments(id: string): Promise<Segment[]> {
    const out: Segment[] = [];
    for await (const o of this.bucket.list(layout.uploadData(id))) {
      const k = parseUploadKey(o.key);
      if (k?.offset !== undefined) out.push({ key: o.key, offset: k.offset, size: o.size });
    }
    return out;
  }

  private async session(repository: string, id: string): Promise<Session> {
    const unknown = () => new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is unknown to the registry`, { detail: { id } });
    if (!ID_RE.test(id)) throw unknown();
    const [info, all] = await Promise.all([this.bucket.get(layout.uploadInfo(id)), this.segments(id)]);
    let owner: unknown;
    try {
      owner = info && (JSON.parse(info.body.toString('utf8')) as { repository?: unknown }).repository;
    } catch {
      throw unknown();
    }
    if (owner !== repository) throw unknown();
    return { repository, ...contiguous(all) };
  }

  async status(repository: string, id: string): Promise<UploadStatus> {
    const s = await this.session(repository, id);
    return { id, repository, size: s.size };
  }

  async append(repository: string, id: string, offset: number, data: Readable): Promise<UploadStatus> {
    const before = await this.session(repository, id);
    if (offset !== before.size || this.busy.has(id)) {
      data.resume();
      throw new RegistryError('RANGE_INVALID', `upload ${id} is at offset ${before.size}, not ${offset}`, { detail: { size: before.size } });
    }
    this.busy.add(id);
    if (this.running.get(id)?.size !== offset) this.running.delete(id);
    if (offset === 0) {
      if (this.running.size >= MAX_RUNNING) this.running.delete(this.running.keys().next().value!);
      this.running.set(id, { size: 0, hash: createHash('sha256') });
    }
    const tracked = this.running.get(id);
    try {
      const written = await this.writeSegment(id, offset, data, (chunk) => {
        if (tracked) {
          tracked.hash.update(chunk);
          tracked.size += chunk.length;
        }
        releaseTransferred(chunk.length);
      });
      return { id, repository, size: offset + written };
    } catch (e) {
      this.running.delete(id);
      throw e;
    } finally {
      this.busy.delete(id);
    }
  }

  /** Streams `data` into the segment at `offset`; nothing is written for an empty body. The bytes written. */
  private async writeSegment(id: string, offset: number, data: Readable, onChunk: (chunk: Buffer) => void): Promise<number> {
    const source = data[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await source.next();
    if (first.done) return 0;
    let written = 0;
    const body = Readable.from(
      (async function* () {
        let r: IteratorResult<Buffer> = first;
        while (!r.done) {
          const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
          onChunk(chunk);
          written += chunk.length;
          yield chunk;
          r = await source.next();
        }
      })(),
      { objectMode: false },
    );
    const upload = new Upload({
      client: this.bucket.client,
      // Created only if absent: of two replicas appending at one offset, one wins and the other answers 416.
      // (RGW 16 ignores this on a multipart completion; the digest check at finish still guards the blob.)
      params: { Bucket: this.bucket.bucket, Key: this.bucket.key(layout.segment(id, offset)), Body: body, IfNoneMatch: '*' },
      partSize: Math.max(this.opts.partBytes, 5 << 20),
      queueSize: this.opts.concurrency,
    });
    try {
      await upload.done();
    } catch (e) {
      body.destroy();
      await source.return?.().catch(() => undefined);
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
        throw new RegistryError('RANGE_INVALID', `another append to upload ${id} at offset ${offset} came first`, { detail: { size: offset } });
      }
      throw e;
    }
    return written;
  }

  async finish(repository: string, id: string, digest: string): Promise<BlobInfo> {
    const s = await this.session(repository, id);
    if (this.busy.has(id)) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${id} is still receiving data`);
    this.busy.add(id);
    try {
      const { algorithm } = parseDigest(digest);
      const running = this.running.get(id);
      const actual =
        algorithm === 'sha256' && running?.size === s.size ? `sha256:${running.hash.copy().digest('hex')}` : await this.hash(s.segments, algorithm);
      if (actual !== digest) {
        await this.drop(id);
        throw new RegistryError('DIGEST_INVALID', `uploaded content has digest ${actual}, not ${digest}`, { detail: { digest } });
      }
      const info = await this.publish(repository, digest, s);
      await this.drop(id);
      return info;
    } finally {
      this.busy.delete(id);
    }
  }

  /** Puts the verified bytes at the blob's key (unless the same blob is there) and links it. */
  private async publish(repository: string, digest: string, s: Session): Promise<BlobInfo> {
    const existing = await this.blobs.stat(digest);
    if (existing?.size === s.size) {
      try {
        return await this.links.link(repository, digest);
      } catch (e) {
        // Collected between the look and the link: written anew below.
        if (!isRegistryError(e, 'BLOB_UNKNOWN')) throw e;
      }
    }
    await this.blobs.touch(digest);
    await assemble(this.bucket, s.segments, s.size, layout.blob(digest), this.opts);
    return this.links.link(repository, digest);
  }

  private async hash(segments: Segment[], algorithm: Algorithm): Promise<string> {
    const hash = createHash(algorithm);
    for (const seg of segments) {
      const got = await this.bucket.stream(seg.key);
      if (!got) throw new RegistryError('BLOB_UPLOAD_INVALID', 'a part of the upload disappeared; start it again');
      for await (const chunk of got.body) hash.update(chunk as Buffer);
    }
    return `${algorithm}:${hash.digest('hex')}`;
  }

  async cancel(repository: string, id: string): Promise<void> {
    // A session whose info is broken or gone can still be cancelled by garbage collection, which names no repository.
    if (repository !== '' || !ID_RE.test(id)) await this.session(repository, id);
    await this.drop(id);
  }

  async list(): Promise<(UploadStatus & { modified: number })[]> {
    const found = new Map<string, { info: boolean; segments: Segment[]; modified: number }>();
    for await (const o of this.bucket.list(layout.uploads)) {
      const k = parseUploadKey(o.key);
      if (!k || !ID_RE.test(k.id)) continue;
      let s = found.get(k.id);
      if (!s) found.set(k.id, (s = { info: false, segments: [], modified: 0 }));
      s.modified = Math.max(s.modified, o.modified);
      if (k.info) s.info = true;
      else s.segments.push({ key: o.key, offset: k.offset!, size: o.size });
    }
    return mapLimit([...found], 8, async ([id, s]) => {
      const info = s.info ? await this.bucket.get(layout.uploadInfo(id)).catch(() => undefined) : undefined;
      let repository = '';
      try {
        const r = info && (JSON.parse(info.body.toString('utf8')) as { repository?: unknown }).repository;
        if (typeof r === 'string') repository = r;
      } catch {
        // listed with no repository: GC cancels it as such
      }
      // A session being appended to right now counts as fresh, whatever its objects say.
      return { id, repository, size: contiguous(s.segments).size, modified: this.busy.has(id) ? Date.now() : s.modified };
    });
  }

  /**
   * Aborts the multipart uploads under the prefix begun before `olderThan` that no upload session holds:
   * the leftovers of a replica that died in an append or while assembling a blob. The keys aborted.
   */
  async abortAbandoned(olderThan: number): Promise<string[]> {
    const aborted: string[] = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const r = await this.bucket.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket.bucket, Prefix: this.bucket.prefix, ...(KeyMarker ? { KeyMarker, UploadIdMarker } : {}) }),
      );
      for (const u of r.Uploads ?? []) {
        if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) >= olderThan) continue;
        const rel = u.Key.slice(this.bucket.prefix.length);
        const session = /^uploads\/([^/]+)\//.exec(rel)?.[1];
        if (session !== undefined && (this.busy.has(session) || (await this.bucket.head(layout.uploadInfo(session))))) continue;
        try {
          await this.bucket.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket.bucket, Key: u.Key, UploadId: u.UploadId }));
          aborted.push(rel);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      if (!r.IsTruncated) return aborted;
      KeyMarker = r.NextKeyMarker;
      UploadIdMarker = r.NextUploadIdMarker;
      if (!KeyMarker) return aborted;
    }
  }

  /** Removes the session: its info first (so it is unknown at once), then its data and any multipart upload of it. */
  private async drop(id: string): Promise<void> {
    this.running.delete(id);
    await this.bucket.delete(layout.uploadInfo(id));
    const keys: string[] = [];
    for await (const o of this.bucket.list(layout.upload(id))) keys.push(o.key);
    await mapLimit(keys, 8, (k) => this.bucket.delete(k));
    const r = await this.bucket.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket.bucket, Prefix: this.bucket.key(layout.upload(id)) }));
    for (const u of r.Uploads ?? []) {
      await this.bucket.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket.bucket, Key: u.Key!, UploadId: u.UploadId! })).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
  }
}
