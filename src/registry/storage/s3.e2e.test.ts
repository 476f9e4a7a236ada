// The S3 backend against a real S3 server (Ceph RGW, started privately for this file): the shared
// storage suite, then what only S3 has: a session continued by another replica, small chunks
// assembled into multipart parts, nothing left by a failed finish, multipart leftovers aborted, and
// blob GETs redirected to presigned URLs with Range.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { startCephRgw, type CephRgw } from '../../testing/ceph-rgw.js';
import { isRegistryError } from '../errors.js';
import { collectGarbage } from '../gc.js';
import { startRegistry } from '../server.js';
import { openS3Storage, type S3StorageConfig } from './s3.js';
import { LeanS3, metadataOf } from './_s3-lean.js';
import { failingStream, imageManifest, putBlob, storageSuite } from './storage.case.js';

const BUCKET = 'berth-registry';
const MiB = 1 << 20;

let rgw: CephRgw | undefined;
let admin: S3Client | undefined;

function config(prefix: string, extra: Partial<S3StorageConfig> = {}): S3StorageConfig {
  if (!rgw) throw new Error('Ceph RGW did not start');
  return {
    endpoint: rgw.endpoint,
    region: rgw.region,
    bucket: BUCKET,
    prefix,
    pathStyle: true,
    accessKey: rgw.accessKey,
    secretKey: rgw.secretKey,
    ...extra,
  };
}

/** Every key under the prefix. */
async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await admin!.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/`, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) out.push(o.Key!.slice(prefix.length + 1));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function multipartKeys(prefix: string): Promise<string[]> {
  const r = await admin!.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  return (r.Uploads ?? []).map((u) => u.Key!.slice(prefix.length + 1));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function pieces(data: Buffer, size: number): Readable {
  return Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)));
}

describe('S3 storage on Ceph RGW', { timeout: 15 * 60_000 }, () => {
  before(
    async () => {
      rgw = await startCephRgw();
      admin = new S3Client({
        endpoint: rgw.endpoint,
        region: rgw.region,
        forcePathStyle: true,
        credentials: { accessKeyId: rgw.accessKey, secretAccessKey: rgw.secretKey },
      });
      await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    },
    { timeout: 120_000 },
  );
  after(async () => {
    admin?.destroy();
    await rgw?.stop();
  });

  // A fresh prefix per storage: the suite knows nothing of where they keep their bytes.
  storageSuite('s3', async () => {
    const storage = await openS3Storage(config(`suite-${randomUUID()}`));
    return { storage, dispose: () => storage.close() };
  });

  describe('s3 storage: what replicas share', () => {
    it('continues a chunked upload on another replica, small chunks and large, byte for byte', async () => {
      const prefix = `replicas-${randomUUID()}`;
      const a = await openS3Storage(config(prefix, { partSize: 5 * MiB }));
      const b = await openS3Storage(config(prefix, { partSize: 5 * MiB }));
      try {
        const data = randomBytes(19 * MiB + 777);
        const u = await a.uploads.create('team/app');
        // 24 chunks of 100 KiB on A (segments far below S3's 5 MiB part minimum)...
        let offset = 0;
        for (let i = 0; i < 24; i++, offset += 100 * 1024) {
          await a.uploads.append('team/app', u.id, offset, Readable.from([data.subarray(offset, offset + 100 * 1024)]));
        }
        // ...then B, which has seen none of it, takes the session over: a 12 MiB chunk (a multipart segment), then the rest.
        assert.equal((await b.uploads.status('team/app', u.id)).size, offset);
        await assert.rejects(b.uploads.append('team/app', u.id, offset - 1, Readable.from([Buffer.from('x')])), (e) => isRegistryError(e, 'RANGE_INVALID'));
        const big = 12 * MiB;
        assert.equal((await b.uploads.append('team/app', u.id, offset, pieces(data.subarray(offset, offset + big), 64 * 1024))).size, offset + big);
        offset += big;
        await a.uploads.append('team/app', u.id, offset, pieces(data.subarray(offset), 50_000));
        assert.equal(await a.blobs.stat(digestOf(data)), undefined, 'nothing visible before finish');
        // B finishes without a running hash: it reads the segments back to verify.
        const info = await b.uploads.finish('team/app', u.id, digestOf(data));
        assert.deepEqual(info, { digest: digestOf(data), size: data.length });
        assert.ok((await readAll((await a.blobs.open(info.digest)).stream())).equals(data));
        const content = await a.blobs.open(info.digest);
        try {
          const buf = Buffer.alloc(256 * 1024);
          assert.equal(await content.read(buf, 7 * MiB + 3), buf.length);
          assert.ok(buf.equals(data.subarray(7 * MiB + 3, 7 * MiB + 3 + buf.length)));
          assert.equal(await content.read(buf, data.length - 10), 10);
          assert.ok(buf.subarray(0, 10).equals(data.subarray(data.length - 10)));
        } finally {
          await content.close();
        }
        assert.deepEqual(await b.links.stat('team/app', info.digest), { digest: info.digest, size: data.length });
        assert.deepEqual(
          (await keys(prefix)).filter((k) => k.startsWith('uploads/')),
          [],
          'the session is gone',
        );
        assert.deepEqual(await multipartKeys(prefix), []);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('lets one of two replicas appending at the same offset win, the other answering RANGE_INVALID', async () => {
      const prefix = `replicas-${randomUUID()}`;
      const a = await openS3Storage(config(prefix));
      const b = await openS3Storage(config(prefix));
      try {
        for (let round = 0; round < 3; round++) {
          const u = await a.uploads.create('r');
          const results = await Promise.allSettled([
            a.uploads.append('r', u.id, 0, Readable.from([Buffer.from('from a')])),
            b.uploads.append('r', u.id, 0, Readable.from([Buffer.from('from b, longer')])),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled');
          assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
          for (const r of results) if (r.status === 'rejected') assert.ok(isRegistryError(r.reason, 'RANGE_INVALID'), String(r.reason));
          assert.equal((await b.uploads.status('r', u.id)).size, won[0]!.value.size);
          await a.uploads.cancel('r', u.id);
        }
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('is ready while the bucket takes writes; refuses to open with keys the server refuses', async () => {
      const prefix = `ready-${randomUUID()}`;
      const s = await openS3Storage(config(prefix));
      try {
        await s.check();
        assert.deepEqual(await keys(prefix), [], 'the probe is removed');
      } finally {
        await s.close();
      }
      const bad = await openS3Storage({ ...config(`ready-${randomUUID()}`), secretKey: 'wrong' }).catch((e: unknown) => e);
      assert.ok(bad instanceof Error);
      assert.ok(bad.message.startsWith(`S3 storage: bucket berth-registry at ${rgw!.endpoint}: `), bad.message);
      assert.ok(!bad.message.includes('\n'));
    });

    it('signs its own HEADs and GETs so that RGW takes them, keys with any character included', async () => {
      const c = config(`lean-${randomUUID()}`);
      const lean = new LeanS3(c.endpoint!, BUCKET, c.region!, c.accessKey!, c.secretKey!, new Agent({ keepAlive: true }));
      const key = `${c.prefix}/a b/t@x:y+z~(1)!*`;
      await admin!.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'hello', Metadata: { 'media-type': 'application/x' } }));
      const got = await lean.send('GET', key);
      assert.equal(got.status, 200, 'the signature is accepted: no fallback to the SDK');
      assert.equal(got.body.toString(), 'hello');
      assert.deepEqual(metadataOf(got.headers), { 'media-type': 'application/x' });
      assert.equal((await lean.send('HEAD', key)).status, 200);
      assert.equal((await lean.send('HEAD', `${key}-absent`)).status, 404);
      await admin!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    });

    it('shows a manifest, tag and repository put through one replica at once through another', async () => {
      const prefix = `replicas-${randomUUID()}`;
      const a = await openS3Storage(config(prefix));
      const b = await openS3Storage(config(prefix));
      try {
        const cfg = await putBlob(a, 'x/y', '{}');
        const m = await a.manifests.put('x/y', imageManifest(cfg, 2, []), MediaType.OciManifest);
        await a.tags.set('x/y', 'v1', m.digest);
        assert.equal(await b.tags.get('x/y', 'v1'), m.digest);
        assert.deepEqual((await b.manifests.get('x/y', m.digest))?.manifest, m);
        assert.deepEqual(await b.repositories(), { items: ['x/y'] });
        assert.deepEqual(await b.tags.list('x/y'), { items: ['v1'] });
        // B keeps its listing (checked by the tag set's ETag): every change through A shows at once.
        assert.deepEqual(await b.tags.list('x/y'), { items: ['v1'] });
        await a.tags.set('x/y', 'v2', m.digest);
        assert.deepEqual(await b.tags.list('x/y'), { items: ['v1', 'v2'] });
        assert.equal(await a.tags.delete('x/y', 'v1'), true);
        assert.deepEqual(await b.tags.list('x/y'), { items: ['v2'] });
        assert.equal(await a.manifests.delete('x/y', m.digest), true);
        assert.deepEqual(await b.tags.list('x/y'), { items: [] });
      } finally {
        await a.close();
        await b.close();
      }
    });
  });

  describe('s3 storage: failures leave nothing behind', () => {
    it('drops a session whose digest does not match: no blob, no segment, no multipart upload', async () => {
      const prefix = `fail-${randomUUID()}`;
      const s = await openS3Storage(config(prefix, { partSize: 5 * MiB }));
      try {
        const data = randomBytes(11 * MiB);
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, pieces(data, 64 * 1024));
        await s.uploads.append('r', u.id, data.length, Readable.from([Buffer.from('tail')]));
        await assert.rejects(s.uploads.finish('r', u.id, digestOf(data)), (e) => isRegistryError(e, 'DIGEST_INVALID'));
        assert.deepEqual(
          (await keys(prefix)).filter((k) => !k.startsWith('catalog/')),
          [],
        );
        assert.deepEqual(await multipartKeys(prefix), []);
      } finally {
        await s.close();
      }
    });

    it('aborts the multipart upload of an append whose body fails after megabytes', async () => {
      const prefix = `fail-${randomUUID()}`;
      const s = await openS3Storage(config(prefix, { partSize: 5 * MiB, concurrency: 2 }));
      try {
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, Readable.from([Buffer.from('head')]));
        // 12 MiB, then a reset: two parts went up before the body failed.
        const body = Readable.from(
          (async function* () {
            for (let i = 0; i < 12; i++) yield Buffer.alloc(MiB, i);
            throw new Error('connection reset');
          })(),
        );
        await assert.rejects(s.uploads.append('r', u.id, 4, body), /connection reset/);
        assert.equal((await s.uploads.status('r', u.id)).size, 4);
        assert.deepEqual(await multipartKeys(prefix), []);
        await assert.rejects(s.uploads.append('r', u.id, 4, failingStream(Buffer.alloc(1000, 1))), /connection reset/);
        assert.equal((await s.uploads.finish('r', u.id, digestOf('head'))).size, 4);
      } finally {
        await s.close();
      }
    });

    it('lets GC abort multipart uploads of no session, keeping a live session and its multipart upload until it is cancelled', async () => {
      const prefix = `gc-${randomUUID()}`;
      const s = await openS3Storage(config(prefix));
      try {
        const live = await s.uploads.create('r');
        const start = (key: string) => admin!.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/${key}` }));
        await start(`uploads/${live.id}/data/0000000000000000`);
        await start(`uploads/${randomUUID()}/data/0000000000000000`);
        await start(`blobs/sha256/${'0'.repeat(64)}`);
        // Only those begun before the cutoff go: none with a cutoff in the past.
        assert.deepEqual(await s.uploads.abortAbandoned(Date.now() - 3_600_000), []);
        const report = await collectGarbage(s, { graceMs: -60_000, uploadMaxAgeMs: 3_600_000 });
        assert.deepEqual(report.uploadsRemoved, []);
        assert.deepEqual((report.partialUploadsAborted ?? []).length, 2);
        assert.deepEqual(await multipartKeys(prefix), [`uploads/${live.id}/data/0000000000000000`]);
        await s.uploads.cancel('r', live.id);
        assert.deepEqual(await multipartKeys(prefix), []);
      } finally {
        await s.close();
      }
    });
  });

  describe('s3 storage: blob deletion against a concurrent link', () => {
    it('makes a link wait for a collector deciding about the blob, then fail if it went', async () => {
      const prefix = `delete-${randomUUID()}`;
      const s = await openS3Storage(config(prefix));
      try {
        const d = await putBlob(s, 'r', 'to be collected');
        // A collector's tombstone (as S3Blobs.delete writes one) holds a link back until it is gone.
        await admin!.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_deleting/sha256/${d.slice(7)}`, Body: '', ContentLength: 0 }));
        const linking = s.links.link('other', d);
        let settled = false;
        void linking.then(
          () => (settled = true),
          () => (settled = true),
        );
        await new Promise((ok) => setTimeout(ok, 500));
        assert.equal(settled, false, 'the link waits while the tombstone is there');
        await admin!.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_deleting/sha256/${d.slice(7)}` }));
        assert.deepEqual(await linking, { digest: d, size: 15 });
        // Used just now: a collection with an hour's grace keeps it; one that counts everything as old removes it.
        assert.equal(await s.blobs.delete(d, { unusedSince: Date.now() - 3_600_000 }), false);
        assert.equal(await s.blobs.delete(d, { unusedSince: Date.now() + 60_000 }), true);
        await assert.rejects(s.links.link('third', d), (e) => isRegistryError(e, 'BLOB_UNKNOWN'));
        assert.deepEqual(
          (await keys(prefix)).filter((k) => k.startsWith('_deleting/') || k.startsWith('blobs/') || k.startsWith('_used/')),
          [],
        );
      } finally {
        await s.close();
      }
    });
  });

  describe('s3 storage: GC and the `_used` marks', () => {
    it('removes the marks of blobs that are gone, keeps those of blobs that stay, and a push of the same blob during GC ends readable', async () => {
      const prefix = `marks-${randomUUID()}`;
      const collector = await openS3Storage(config(prefix));
      const pusher = await openS3Storage(config(prefix));
      try {
        const hex = (d: string) => d.slice('sha256:'.length);
        const content = randomBytes(3000);
        // Unreferenced: GC takes it (and its mark). Referenced by a tag: it and its mark stay.
        const loose = await putBlob(pusher, 'r', content);
        const cfg = await putBlob(pusher, 'kept', '{}');
        const m = await pusher.manifests.put('kept', imageManifest(cfg, 2, []), MediaType.OciManifest, { blobs: [cfg] });
        await pusher.tags.set('kept', 'v1', m.digest);
        // What a link racing a collection leaves: a mark whose blob is gone.
        const gone = digestOf('collected long ago');
        await admin!.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_used/sha256/${hex(gone)}`, Body: '', ContentLength: 0 }));
        assert.ok((await keys(prefix)).includes(`_used/sha256/${hex(loose)}`));
        // Marks and blobs older than a 1 s grace (RGW's times have whole seconds).
        await new Promise((ok) => setTimeout(ok, 2_200));

        // The same blob pushed again and again, into other repositories, while GC runs on another replica.
        const gc = collectGarbage(collector, { graceMs: 1_000 });
        let done = false;
        void gc.finally(() => (done = true)).catch(() => undefined);
        const pushed: string[] = [];
        for (let i = 0; !done || i < 2; i++) {
          assert.equal(await putBlob(pusher, `again-${i}`, content), loose);
          pushed.push(`again-${i}`);
        }
        const report = await gc;
        assert.ok((report.marksRemoved ?? 0) >= 1, JSON.stringify(report));
        for (const repository of pushed) {
          assert.deepEqual(await collector.links.stat(repository, loose), { digest: loose, size: content.length }, repository);
        }
        assert.ok((await readAll((await collector.blobs.open(loose)).stream())).equals(content), 'the blob pushed during GC reads back whole');

        const after = await keys(prefix);
        const blobs = new Set(after.filter((k) => k.startsWith('blobs/')).map((k) => k.slice('blobs/'.length)));
        const marks = after.filter((k) => k.startsWith('_used/')).map((k) => k.slice('_used/'.length));
        assert.deepEqual(
          marks.filter((k) => !blobs.has(k)),
          [],
          'no mark without its blob',
        );
        assert.ok(!marks.includes(`sha256/${hex(gone)}`));
        assert.ok(marks.includes(`sha256/${hex(cfg)}`) && marks.includes(`sha256/${hex(m.digest)}`), 'the marks of blobs kept stay');
        assert.deepEqual(
          after.filter((k) => k.startsWith('_deleting/')),
          [],
        );
        // A second collection, with nothing pushed: the loose blob (unreferenced again once old) goes with its mark.
        await new Promise((ok) => setTimeout(ok, 2_200));
        await collectGarbage(collector, { graceMs: 1_000 });
        const last = await keys(prefix);
        assert.ok(!last.includes(`blobs/sha256/${hex(loose)}`) && !last.includes(`_used/sha256/${hex(loose)}`), last.join(' '));
      } finally {
        await collector.close();
        await pusher.close();
      }
    });
  });

  describe('s3 storage: a manifest put against a collection on another replica', () => {
    it('withdraws a manifest whose blob a collection took after it was checked, and rewrites its own bytes', async () => {
      const prefix = `hold-${randomUUID()}`;
      const pusher = await openS3Storage(config(prefix));
      const collector = await openS3Storage(config(prefix));
      try {
        const cfg = await putBlob(pusher, 'r', '{}');
        const layer = await putBlob(pusher, 'r', 'layer');
        assert.ok(await pusher.links.stat('r', layer), 'checked (and remembered) by the pusher');
        // The collector's mark phase saw no manifest: it sweeps the layer, as one with no grace period would.
        assert.equal(await collector.blobs.delete(layer, { unusedSince: Date.now() + 60_000 }), true);
        const bytes = imageManifest(cfg, 2, [[layer, 5]]);
        await assert.rejects(pusher.manifests.put('r', bytes, MediaType.OciManifest, { blobs: [cfg, layer] }), (e) =>
          isRegistryError(e, 'MANIFEST_BLOB_UNKNOWN'),
        );
        assert.equal(await collector.manifests.stat('r', digestOf(bytes)), undefined, 'no manifest without its blobs');
        // The manifest's own bytes taken meanwhile are simply written again.
        const ok = imageManifest(cfg, 2, []);
        await pusher.manifests.put('r', ok, MediaType.OciManifest);
        assert.equal(await collector.blobs.delete(digestOf(ok), { unusedSince: Date.now() + 60_000 }), true);
        await pusher.manifests.put('r', ok, MediaType.OciManifest, { blobs: [cfg] });
        assert.deepEqual(await collector.blobs.stat(digestOf(ok)), { digest: digestOf(ok), size: ok.length });
      } finally {
        await pusher.close();
        await collector.close();
      }
    });
  });

  describe('s3 storage: served by the registry', () => {
    for (const redirect of [true, false]) {
      it(`answers blob GETs ${redirect ? 'with a 307 to a presigned URL' : 'itself'}, Range included; HEAD itself`, async () => {
        const registry = await startRegistry({ addr: '127.0.0.1:0', storage: { s3: config(`serve-${randomUUID()}`, { redirect }) } });
        try {
          const data = randomBytes(3 * MiB + 5);
          const digest = digestOf(data);
          const post = await fetch(`${registry.url}/v2/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
          assert.equal(post.status, 201);
          const url = `${registry.url}/v2/app/blobs/${digest}`;
          const head = await fetch(url, { method: 'HEAD' });
          assert.equal(head.status, 200);
          assert.equal(head.headers.get('content-length'), String(data.length));
          const first = await fetch(url, { redirect: 'manual' });
          assert.equal(first.status, redirect ? 307 : 200);
          if (redirect) assert.match(first.headers.get('location') ?? '', /X-Amz-Signature=/);
          await first.body?.cancel();
          const whole = await fetch(url);
          assert.equal(whole.status, 200);
          assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
          const part = await fetch(url, { headers: { Range: `bytes=${MiB}-${2 * MiB + 9}` } });
          assert.equal(part.status, 206);
          assert.equal(part.headers.get('content-range'), `bytes ${MiB}-${2 * MiB + 9}/${data.length}`);
          assert.ok(Buffer.from(await part.arrayBuffer()).equals(data.subarray(MiB, 2 * MiB + 10)));
          assert.equal((await fetch(`${registry.url}/v2/other/blobs/${digest}`, { redirect: 'manual' })).status, 404, 'only where linked');
        } finally {
          await registry.close();
        }
      });
    }
  });
});
