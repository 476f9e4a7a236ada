// The few object operations the S3 backend is made of, over one bucket and key prefix: every key the
// backend names is relative to the prefix (see _s3-layout.ts), and "absent" is undefined, not an error.
import type { Readable } from 'node:stream';
import pLimit from 'p-limit';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { metadataOf, type LeanObject, type LeanS3 } from './_s3-lean.js';

export interface ObjectHead {
  size: number;
  /** Last-Modified, ms since the epoch (the server's clock). */
  modified: number;
  metadata: Record<string, string>;
  /** The object's ETag as the server sends it (quotes included): a new one with every write of new bytes. */
  etag?: string;
}

export interface ListedObject {
  /** The key relative to the prefix. */
  key: string;
  size: number;
  modified: number;
}

/** Whether an SDK error says the object (or upload) is not there. */
export function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return err?.$metadata?.httpStatusCode === 404 || err?.name === 'NoSuchKey' || err?.name === 'NotFound' || err?.name === 'NoSuchUpload';
}

export class S3Bucket {
  readonly prefix: string;

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    prefix: string | undefined,
    /** HEADs and small GETs without the SDK, where the config allows (see _s3-lean.ts). */
    private readonly lean?: LeanS3,
  ) {
    const p = (prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = p === '' ? '' : `${p}/`;
  }

  key(rel: string): string {
    return this.prefix + rel;
  }

  /** The lean path's answer: a 2xx or a 404 (null); undefined (the SDK is to try) for anything else. */
  private async leanSend(method: 'HEAD' | 'GET', rel: string): Promise<LeanObject | null | undefined> {
    if (!this.lean) return undefined;
    try {
      const r = await this.lean.send(method, this.key(rel));
      if (r.status === 404) return null;
      return r.status >= 200 && r.status < 300 ? r : undefined;
    } catch {
      return undefined;
    }
  }

  private static leanHead(r: LeanObject, size: number): ObjectHead {
    const modified = Date.parse(String(r.headers['last-modified'] ?? ''));
    const head: ObjectHead = { size, modified: Number.isNaN(modified) ? 0 : modified, metadata: metadataOf(r.headers) };
    if (typeof r.headers.etag === 'string') head.etag = r.headers.etag;
    return head;
  }

  async head(rel: string): Promise<ObjectHead | undefined> {
    const lean = await this.leanSend('HEAD', rel);
    if (lean === null) return undefined;
    if (lean) return S3Bucket.leanHead(lean, Number(lean.headers['content-length'] ?? 0));
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      return { size: r.ContentLength ?? 0, modified: r.LastModified?.getTime() ?? 0, metadata: r.Metadata ?? {}, ...(r.ETag ? { etag: r.ETag } : {}) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The whole object, for small ones (metadata documents, manifests). */
  async get(rel: string): Promise<{ body: Buffer; head: ObjectHead } | undefined> {
    const lean = await this.leanSend('GET', rel);
    if (lean === null) return undefined;
    if (lean) return { body: lean.body, head: S3Bucket.leanHead(lean, lean.body.length) };
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      const body = Buffer.from(await r.Body!.transformToByteArray());
      return { body, head: { size: body.length, modified: r.LastModified?.getTime() ?? 0, metadata: r.Metadata ?? {} } };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The object's bytes as a stream (from `start` to `end` inclusive when given), with the whole object's size. */
  async stream(rel: string, range?: { start: number; end?: number }): Promise<{ body: Readable; size: number } | undefined> {
    const Range = range ? `bytes=${range.start}-${range.end ?? ''}` : undefined;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel), ...(Range ? { Range } : {}) }));
      const total = /\/(\d+)$/.exec(r.ContentRange ?? '')?.[1];
      return { body: r.Body as Readable, size: total !== undefined ? Number(total) : (r.ContentLength ?? 0) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async put(rel: string, body: string | Buffer | Uint8Array, opts: { metadata?: Record<string, string>; contentType?: string } = {}): Promise<void> {
    const input: PutObjectCommandInput = { Bucket: this.bucket, Key: this.key(rel), Body: body, ContentLength: Buffer.byteLength(body) };
    if (opts.metadata) input.Metadata = opts.metadata;
    if (opts.contentType) input.ContentType = opts.contentType;
    await this.client.send(new PutObjectCommand(input));
  }

  /** Removes the object; S3 answers the same whether it was there or not. */
  async delete(rel: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
  }

  /**
   * One page of the keys under `under`, in lexical (byte) order, after `startAfter` (a relative key):
   * at most `max` (S3 gives at most 1000 a request). `more` when the listing was cut short.
   */
  async page(under: string, opts: { startAfter?: string; max?: number } = {}): Promise<{ items: ListedObject[]; more: boolean }> {
    const want = opts.max ?? Number.POSITIVE_INFINITY;
    const items: ListedObject[] = [];
    let startAfter = opts.startAfter === undefined ? undefined : this.key(opts.startAfter);
    let token: string | undefined;
    for (;;) {
      const r = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.key(under),
          MaxKeys: Math.min(1000, Math.max(want - items.length, 1)),
          ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
        }),
      );
      for (const o of r.Contents ?? []) {
        if (items.length >= want) return { items, more: true };
        items.push({ key: o.Key!.slice(this.prefix.length), size: o.Size ?? 0, modified: o.LastModified?.getTime() ?? 0 });
      }
      if (!r.IsTruncated) return { items, more: false };
      if (items.length >= want) return { items, more: true };
      token = r.NextContinuationToken;
      if (!token) startAfter = this.key(items[items.length - 1]!.key);
    }
  }

  /** Every key under `under`, in lexical order, a page at a time. */
  async *list(under: string): AsyncIterable<ListedObject> {
    let startAfter: string | undefined;
    for (;;) {
      const { items, more } = await this.page(under, { max: 1000, ...(startAfter ? { startAfter } : {}) });
      yield* items;
      if (!more || items.length === 0) return;
      startAfter = items[items.length - 1]!.key;
    }
  }
}

/** Runs `fn` over `items`, at most `limit` at once; the results in order. */
export function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  return pLimit(limit).map(items, fn);
}
