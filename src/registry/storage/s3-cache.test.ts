// The S3 backend's in-memory cache and the requests its reads make, against an in-memory bucket that
// counts the requests it is sent (request counts are stable where timings are not). Two S3Storage over
// one bucket are two replicas; the clock is the test's, so existence windows pass without waiting.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { isRegistryError } from '../errors.js';
import { S3Bucket } from './_s3-bucket.js';
import { ByteCache, EXISTENCE_MS } from './_s3-cache.js';
import { layout } from './_s3-layout.js';
import { MAX_AGE_MS } from './_s3-tag-listings.js';
import { S3Storage } from './s3.js';
import { imageManifest } from './storage.case.js';

const MiB = 1 << 20;

interface StoredObject {
  body: Buffer;
  metadata: Record<string, string>;
  modified: Date;
}

function notFound(): Error {
  return Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
}

/** Just enough of S3 for the backend's reads and small writes, counting every request by command. */
class MemoryS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly sent: string[] = [];
  /** Runs before a request is served (a test interleaves another replica's work there). */
  before: ((request: string, key: string) => Promise<void>) | undefined;

  async send(command: { input: Record<string, unknown> }): Promise<unknown> {
    const input = command.input;
    const key = input['Key'] as string;
    this.sent.push(command.constructor.name.replace(/Command$/, ''));
    await this.before?.(command.constructor.name.replace(/Command$/, ''), key);
    if (command instanceof HeadObjectCommand) {
      const o = this.objects.get(key);
      if (!o) throw notFound();
      return { ContentLength: o.body.length, LastModified: o.modified, Metadata: o.metadata, ETag: `"${createHash('md5').update(o.body).digest('hex')}"` };
    }
    if (command instanceof GetObjectCommand) {
      const o = this.objects.get(key);
      if (!o) throw notFound();
      const m = /^bytes=(\d+)-(\d*)$/.exec((input['Range'] as string | undefined) ?? '');
      const start = m ? Number(m[1]) : 0;
      const end = m && m[2] !== '' ? Number(m[2]) + 1 : o.body.length;
      const bytes = o.body.subarray(start, end);
      const body = Object.assign(Readable.from([bytes]), { transformToByteArray: async () => new Uint8Array(bytes) });
      return {
        Body: body,
        ContentLength: bytes.length,
        LastModified: o.modified,
        Metadata: o.metadata,
        ...(m ? { ContentRange: `bytes ${start}-${end - 1}/${o.body.length}` } : {}),
      };
    }
    if (command instanceof PutObjectCommand) {
      const b = input['Body'] as string | Uint8Array;
      this.objects.set(key, { body: Buffer.from(b), metadata: (input['Metadata'] as Record<string, string>) ?? {}, modified: new Date() });
      return {};
    }
    if (command instanceof DeleteObjectCommand) {
      this.objects.delete(key);
      return {};
    }
    if (command instanceof ListObjectsV2Command) {
      const prefix = input['Prefix'] as string;
      const after = (input['StartAfter'] as string | undefined) ?? '';
      const max = input['MaxKeys'] as number;
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, max);
      return {
        Contents: page.map((k) => ({ Key: k, Size: this.objects.get(k)!.body.length, LastModified: this.objects.get(k)!.modified })),
        IsTruncated: keys.length > max,
      };
    }
    throw new Error(`MemoryS3 does not do ${command.constructor.name}`);
  }

  /** The requests sent since the last call. */
  take(): string[] {
    return this.sent.splice(0);
  }
}

/** A replica over `s3` whose clock is `clock.now`. */
function replica(s3: MemoryS3, clock: { now: number }, cacheBytes?: number): S3Storage {
  const bucket = new S3Bucket(s3 as unknown as S3Client, 'b', 'p');
  return new S3Storage(
    bucket,
    { bucket: 'b', ...(cacheBytes !== undefined ? { cacheBytes } : {}) },
    () => {},
    () => clock.now,
  );
}

/** A blob in the bucket, linked into `repo` through `s`. */
async function linkedBlob(s3: MemoryS3, s: S3Storage, repo: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  s3.objects.set(`p/${layout.blob(digest)}`, { body: bytes, metadata: {}, modified: new Date() });
  await s.links.link(repo, digest);
  return digest;
}

/** What the blob GET route does: the link, then the bytes. */
async function getBlob(s: S3Storage, repo: string, digest: string): Promise<Buffer> {
  assert.ok(await s.links.stat(repo, digest), `${digest} is linked into ${repo}`);
  const content = await s.blobs.open(digest);
  const chunks: Buffer[] = [];
  for await (const c of content.stream()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** What the manifest GET route does by tag: the tag, then the revision. */
async function getManifestByTag(s: S3Storage, repo: string, tag: string): Promise<Buffer | undefined> {
  const digest = await s.tags.get(repo, tag);
  return digest === undefined ? undefined : (await s.manifests.get(repo, digest))?.bytes;
}

describe('S3 storage: the byte cache', { timeout: 10_000 }, () => {
  it('keeps the most recently used entries within its budget, and none larger than an entry may be', () => {
    const clock = { now: 0 };
    const c = new ByteCache<string>(10, () => clock.now, 4);
    c.set('a', 'A', 4);
    c.set('b', 'B', 4);
    assert.equal(c.get('a'), 'A'); // a is now more recently used than b
    c.set('c', 'C', 4);
    assert.equal(c.get('b'), undefined, 'the least recently used went');
    assert.equal(c.get('a'), 'A');
    assert.equal(c.get('c'), 'C');
    assert.equal(c.size, 8);
    c.set('big', 'X', 5);
    assert.equal(c.get('big'), undefined, 'over the entry limit');
    assert.equal(c.size, 8);
    c.delete('a');
    assert.equal(c.size, 4);
    const none = new ByteCache<string>(0);
    none.set('a', 'A', 1);
    assert.equal(none.get('a'), undefined);
  });

  it('serves an entry only within the existence window of its last confirmation', () => {
    const clock = { now: 1_000 };
    const c = new ByteCache<string>(100, () => clock.now);
    c.set('a', 'A', 1);
    clock.now += EXISTENCE_MS - 1;
    assert.equal(c.get('a'), 'A');
    clock.now += 1;
    assert.equal(c.get('a'), undefined);
    assert.equal(c.peek('a'), 'A', 'still held, for a confirmation');
    c.confirm('a');
    assert.equal(c.get('a'), 'A');
  });
});

describe('S3 storage: requests of reads', { timeout: 10_000 }, () => {
  it('serves a small blob from memory with no request, then re-checks the link once the window passed', async () => {
    const s3 = new MemoryS3();
    const clock = { now: 1_000_000 };
    const s = replica(s3, clock);
    const data = Buffer.alloc(MiB, 7);
    const digest = await linkedBlob(s3, s, 'r', data);
    s3.take();
    assert.ok((await getBlob(s, 'r', digest)).equals(data));
    assert.deepEqual(s3.take(), ['GetObject'], 'the link was just made: only the bytes are fetched');
    assert.ok((await getBlob(s, 'r', digest)).equals(data));
    assert.deepEqual(s3.take(), [], 'bytes and link from memory');
    const content = await s.blobs.open(digest);
    const buf = Buffer.alloc(100);
    assert.equal(await content.read(buf, MiB - 50), 50);
    assert.ok(buf.subarray(0, 50).equals(data.subarray(MiB - 50)));
    assert.deepEqual(s3.take(), []);
    clock.now += EXISTENCE_MS;
    assert.ok((await getBlob(s, 'r', digest)).equals(data));
    assert.deepEqual(s3.take().sort(), ['HeadObject', 'HeadObject', 'HeadObject'], 'link, blob and its mark re-checked; bytes from memory');
  });

  it('streams a blob over the entry limit, or with the cache off, with a GET every time', async () => {
    for (const [size, cacheBytes] of [
      [5 * MiB, undefined],
      [100, 0],
    ] as const) {
      const s3 = new MemoryS3();
      const s = replica(s3, { now: 1_000_000 }, cacheBytes);
      const data = Buffer.alloc(size, 3);
      const digest = await linkedBlob(s3, s, 'r', data);
      s3.take();
      for (let i = 0; i < 2; i++) assert.ok((await getBlob(s, 'r', digest)).equals(data));
      assert.deepEqual(s3.take(), ['GetObject', 'GetObject']);
    }
  });

  it("drops a blob at once on this replica's delete or unlink, and sees another replica's within the window", async () => {
    const s3 = new MemoryS3();
    const clock = { now: 1_000_000 };
    const a = replica(s3, clock);
    const b = replica(s3, clock);
    const data = Buffer.from('layer bytes');
    const digest = await linkedBlob(s3, a, 'r', data);
    await getBlob(a, 'r', digest);
    await getBlob(b, 'r', digest);
    assert.equal(await a.links.unlink('r', digest), true);
    assert.equal(await a.links.stat('r', digest), undefined, 'unlinked here: gone here at once');
    assert.ok(await b.links.stat('r', digest), 'the other replica holds the link for the window');
    clock.now += EXISTENCE_MS;
    assert.equal(await b.links.stat('r', digest), undefined, 'and then sees it gone');

    const other = await linkedBlob(s3, a, 'r', Buffer.from('another layer'));
    await getBlob(a, 'r', other);
    assert.equal(await b.blobs.delete(other), true);
    await assert.rejects(b.blobs.open(other), (e) => isRegistryError(e) && e.code === 'BLOB_UNKNOWN');
    clock.now += EXISTENCE_MS;
    assert.equal(await a.links.stat('r', other), undefined);
    await assert.rejects(a.blobs.open(other), (e) => isRegistryError(e) && e.code === 'BLOB_UNKNOWN');
  });

  it('answers a manifest GET by tag with one request (the tag), by digest with none, and a tags list with one', async () => {
    const s3 = new MemoryS3();
    const clock = { now: 1_000_000 };
    const a = replica(s3, clock);
    const b = replica(s3, clock);
    const cfg = await linkedBlob(s3, a, 'r', Buffer.from('{}'));
    const bytes = imageManifest(cfg, 2, []);
    const m = await a.manifests.put('r', bytes, MediaType.OciManifest, { blobs: [cfg] });
    await a.tags.set('r', 'v1', m.digest);
    s3.take();
    assert.ok((await getManifestByTag(b, 'r', 'v1'))?.equals(bytes));
    assert.deepEqual(s3.take(), ['GetObject', 'GetObject'], 'first time on this replica: tag and revision');
    for (let i = 0; i < 3; i++) {
      assert.ok((await getManifestByTag(b, 'r', 'v1'))?.equals(bytes));
      clock.now += EXISTENCE_MS; // the tag's read confirms the revision, whatever the time
    }
    assert.deepEqual(s3.take(), ['GetObject', 'GetObject', 'GetObject'], 'one request each: the tag');
    assert.ok((await b.manifests.get('r', m.digest))?.bytes.equals(bytes));
    assert.deepEqual(s3.take(), ['GetObject'], 'by digest once the window passed: the revision, re-read');
    assert.ok((await b.manifests.get('r', m.digest))?.bytes.equals(bytes));
    assert.equal((await b.manifests.stat('r', m.digest))?.mediaType, MediaType.OciManifest);
    assert.deepEqual(s3.take(), [], 'by digest within the window: from memory');

    assert.deepEqual((await b.tags.list('r'))?.items, ['v1']);
    assert.deepEqual(s3.take(), ['HeadObject', 'ListObjectsV2'], 'first time on this replica: the tag set and the listing');
    assert.deepEqual((await b.tags.list('r'))?.items, ['v1']);
    assert.deepEqual(s3.take(), ['HeadObject'], 'then the tag set only');
    assert.equal(await b.tags.list('nothing'), undefined);
    assert.deepEqual(s3.take(), ['HeadObject', 'ListObjectsV2', 'HeadObject'], 'an empty listing asks whether the repository exists');

    // A tag moved or a revision deleted through another replica.
    const bytes2 = imageManifest(cfg, 2, [], undefined).toString().replace('{', '{"annotations":{"v":"2"},');
    const m2 = await a.manifests.put('r', Buffer.from(bytes2), MediaType.OciManifest, { blobs: [cfg] });
    await a.tags.set('r', 'v1', m2.digest);
    assert.equal((await getManifestByTag(b, 'r', 'v1'))?.toString(), bytes2, 'a tag move is seen at once');
    assert.equal(await a.manifests.delete('r', m2.digest), true);
    assert.equal(await getManifestByTag(b, 'r', 'v1'), undefined, 'its tag went with it');
    assert.ok(await b.manifests.get('r', m2.digest), 'by digest, within the window');
    clock.now += EXISTENCE_MS;
    assert.equal(await b.manifests.get('r', m2.digest), undefined, 'and not after it');
    assert.equal(await b.manifests.stat('r', m.digest).then((x) => x?.digest), m.digest);
    assert.equal(await a.manifests.delete('r', m.digest), true);
    assert.equal(await a.manifests.get('r', m.digest), undefined, "this replica's delete: gone here at once");
  });
});

describe('S3 storage: a replica keeps its tags listing, checked by one HEAD', { timeout: 10_000 }, () => {
  it('shows every tag set or deleted through another replica in the next listing', async () => {
    const s3 = new MemoryS3();
    const clock = { now: 1_000_000 };
    const a = replica(s3, clock);
    const b = replica(s3, clock);
    const cfg = await linkedBlob(s3, a, 'r', Buffer.from('{}'));
    const m = await a.manifests.put('r', imageManifest(cfg, 2, []), MediaType.OciManifest, { blobs: [cfg] });
    const m2 = await a.manifests.put('r', Buffer.from(imageManifest(cfg, 2, []).toString().replace('{', '{"annotations":{"v":"2"},')), MediaType.OciManifest);
    await a.tags.set('r', 'v1', m.digest);
    assert.deepEqual((await b.tags.list('r'))?.items, ['v1']);
    assert.deepEqual((await b.tags.list('r'))?.items, ['v1'], 'kept');
    await a.tags.set('r', 'v2', m2.digest);
    await a.tags.set('r', 'latest', m2.digest);
    s3.take();
    assert.deepEqual((await b.tags.list('r'))?.items, ['latest', 'v1', 'v2'], 'tags set through A, at once');
    assert.deepEqual(s3.take(), ['HeadObject', 'ListObjectsV2']);
    // Pages come from the kept listing too.
    assert.deepEqual(await b.tags.list('r', { n: 2 }), { items: ['latest', 'v1'], next: 'v1' });
    assert.deepEqual(await b.tags.list('r', { n: 2, last: 'v1' }), { items: ['v2'] });
    assert.deepEqual(await b.tags.list('r', { last: 'latest' }), { items: ['v1', 'v2'] });
    assert.deepEqual(await b.tags.list('r', { n: 0 }), { items: [] });
    assert.deepEqual(s3.take(), ['HeadObject', 'HeadObject', 'HeadObject', 'HeadObject'], 'the tag set each time (the repository, for none)');
    assert.equal(await a.tags.delete('r', 'v1'), true);
    assert.deepEqual((await b.tags.list('r'))?.items, ['latest', 'v2'], 'a tag deleted through A, at once');
    assert.equal(await a.manifests.delete('r', m2.digest), true);
    assert.deepEqual(await b.tags.list('r'), { items: [] }, 'the tags of a manifest deleted through A, at once');
    await a.tags.set('r', 'v1', m.digest);
    assert.deepEqual((await b.tags.list('r'))?.items, ['v1']);
    assert.deepEqual((await a.tags.list('r'))?.items, ['v1'], "A's own change");
  });

  it('lists again after MAX_AGE_MS a tag written without the tag set (a replica that died between the two)', async () => {
    const s3 = new MemoryS3();
    const clock = { now: 1_000_000 };
    const a = replica(s3, clock);
    const cfg = await linkedBlob(s3, a, 'r', Buffer.from('{}'));
    const m = await a.manifests.put('r', imageManifest(cfg, 2, []), MediaType.OciManifest, { blobs: [cfg] });
    await a.tags.set('r', 'v1', m.digest);
    assert.deepEqual((await a.tags.list('r'))?.items, ['v1']);
    s3.objects.set(`p/${layout.tag('r', 'v2')}`, { body: Buffer.from(m.digest), metadata: {}, modified: new Date() });
    assert.deepEqual((await a.tags.list('r'))?.items, ['v1'], 'the tag set did not change: the kept listing');
    clock.now += MAX_AGE_MS;
    assert.deepEqual((await a.tags.list('r'))?.items, ['v1', 'v2']);
  });

  it('lists every time a repository whose tags came without a tag set (an older berth)', async () => {
    const s3 = new MemoryS3();
    const a = replica(s3, { now: 1_000_000 });
    s3.objects.set(`p/${layout.catalogEntry('r')}`, { body: Buffer.alloc(0), metadata: {}, modified: new Date() });
    s3.objects.set(`p/${layout.tag('r', 'v1')}`, { body: Buffer.from('sha256:x'), metadata: {}, modified: new Date() });
    assert.deepEqual((await a.tags.list('r'))?.items, ['v1']);
    s3.objects.set(`p/${layout.tag('r', 'v2')}`, { body: Buffer.from('sha256:x'), metadata: {}, modified: new Date() });
    s3.take();
    assert.deepEqual((await a.tags.list('r'))?.items, ['v1', 'v2']);
    assert.deepEqual(s3.take(), ['HeadObject', 'ListObjectsV2']);
  });
});

describe('S3 storage: a tag set while its manifest is deleted on another replica', { timeout: 10_000 }, () => {
  /** Replicas A and B over one bucket, with a manifest in repository r. */
  async function setup() {
    const s3 = new MemoryS3();
    const clock = { now: 1_000_000 };
    const a = replica(s3, clock);
    const b = replica(s3, clock);
    const cfg = await linkedBlob(s3, a, 'r', Buffer.from('{}'));
    const m = await a.manifests.put('r', imageManifest(cfg, 2, []), MediaType.OciManifest, { blobs: [cfg] });
    return { s3, a, b, digest: m.digest };
  }

  /** Runs `fn` once, just before the first request of that name for that key. */
  function once(s3: MemoryS3, request: string, key: string, fn: () => Promise<unknown>): void {
    s3.before = async (r, k) => {
      if (r !== request || k !== `p/${key}`) return;
      s3.before = undefined;
      await fn();
    };
  }

  it('fails the tag (and leaves none) when the whole delete ran between its check and its write', async () => {
    const { s3, a, b, digest } = await setup();
    once(s3, 'PutObject', layout.tag('r', 'v1'), () => b.manifests.delete('r', digest));
    await assert.rejects(a.tags.set('r', 'v1', digest), (e) => isRegistryError(e, 'MANIFEST_UNKNOWN'));
    assert.equal(await b.tags.get('r', 'v1'), undefined);
    assert.deepEqual(await b.tags.list('r'), { items: [] });
  });

  it('removes a tag set after the delete listed the tags and before it removed the manifest', async () => {
    const { s3, a, b, digest } = await setup();
    await a.tags.set('r', 'old', digest);
    once(s3, 'DeleteObject', layout.manifest('r', digest), () => a.tags.set('r', 'v1', digest));
    assert.equal(await b.manifests.delete('r', digest), true);
    assert.equal(await a.tags.get('r', 'v1'), undefined, 'no tag names the manifest deleted');
    assert.equal(await a.tags.get('r', 'old'), undefined);
    assert.deepEqual(await a.tags.list('r'), { items: [] });
  });
});
