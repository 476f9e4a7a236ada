// The behaviour every RegistryStorage backend must have. A backend's test calls storageSuite() with a
// factory for empty storages; the suite knows nothing of where they keep their bytes.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import { isRegistryError, type RegistryErrorCode } from '../errors.js';
import type { RegistryStorage } from './types.js';

/** An empty storage, and how to dispose of it. */
export type StorageFactory = () => Promise<{ storage: RegistryStorage; dispose: () => Promise<void> }>;

async function rejectsWith(p: Promise<unknown>, code: RegistryErrorCode): Promise<void> {
  await assert.rejects(p, (e) => isRegistryError(e, code) || assert.fail(`expected ${code}, got ${String(e)}`));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A stream that gives `data`, then fails as a dropped connection does, once it is read. */
export function failingStream(data: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(new Error('connection reset'));
      else {
        sent = true;
        this.push(data);
      }
    },
  });
}

/** Uploads `data` in one go into `repo`; the digest. */
export async function putBlob(s: RegistryStorage, repo: string, data: string | Buffer): Promise<string> {
  const buf = Buffer.from(data);
  const u = await s.uploads.create(repo);
  await s.uploads.append(repo, u.id, 0, Readable.from([buf]));
  return (await s.uploads.finish(repo, u.id, digestOf(buf))).digest;
}

/** An OCI image manifest over blobs already in the repository (with a subject if given). */
export function imageManifest(config: string, configSize: number, layers: [string, number][], subject?: string): Buffer {
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: config, size: configSize },
    layers: layers.map(([digest, size]) => ({ mediaType: MediaType.OciLayerGzip, digest, size })),
  };
  if (subject) doc.subject = { mediaType: MediaType.OciManifest, digest: subject, size: 1 };
  return Buffer.from(JSON.stringify(doc));
}

export function storageSuite(backend: string, open: StorageFactory): void {
  const withStorage = (fn: (s: RegistryStorage) => Promise<void>) => async () => {
    const { storage, dispose } = await open();
    try {
      await fn(storage);
    } finally {
      await dispose();
    }
  };

  describe(`${backend} storage: blobs and uploads`, () => {
    it(
      'uploads in chunks, verifies, publishes and links into the repository only',
      withStorage(async (s) => {
        const u = await s.uploads.create('a/b');
        assert.equal(u.size, 0);
        let st = await s.uploads.append('a/b', u.id, 0, Readable.from([Buffer.from('hello ')]));
        assert.equal(st.size, 6);
        st = await s.uploads.append('a/b', u.id, 6, Readable.from([Buffer.from('world')]));
        assert.equal((await s.uploads.status('a/b', u.id)).size, 11);
        const digest = digestOf('hello world');
        assert.equal(await s.blobs.stat(digest), undefined, 'nothing visible before finish');
        assert.deepEqual(await s.uploads.finish('a/b', u.id, digest), { digest, size: 11 });
        assert.deepEqual(await s.blobs.stat(digest), { digest, size: 11 });
        assert.deepEqual(await s.links.stat('a/b', digest), { digest, size: 11 });
        assert.equal(await s.links.stat('a', digest), undefined);
        assert.equal((await readAll((await s.blobs.open(digest)).stream())).toString(), 'hello world');
        assert.equal((await readAll((await s.blobs.open(digest)).stream({ start: 6, end: 10 }))).toString(), 'world');
        const content = await s.blobs.open(digest);
        try {
          assert.throws(
            () => content.stream({ start: 5, end: 11 }),
            (e) => isRegistryError(e, 'RANGE_INVALID'),
          );
          const buf = Buffer.alloc(8);
          assert.equal(content.size, 11);
          assert.equal(await content.read(buf, 6), 5);
          assert.equal(buf.subarray(0, 5).toString(), 'world');
          assert.equal(await content.read(buf, 11), 0);
        } finally {
          await content.close();
        }
        await rejectsWith(s.uploads.status('a/b', u.id), 'BLOB_UPLOAD_UNKNOWN');
      }),
    );

    it(
      'refuses out-of-order appends and sessions of another repository',
      withStorage(async (s) => {
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, Readable.from([Buffer.from('abc')]));
        await rejectsWith(s.uploads.append('r', u.id, 2, Readable.from([Buffer.from('x')])), 'RANGE_INVALID');
        await rejectsWith(s.uploads.append('r', u.id, 4, Readable.from([Buffer.from('x')])), 'RANGE_INVALID');
        await rejectsWith(s.uploads.status('other', u.id), 'BLOB_UPLOAD_UNKNOWN');
        await rejectsWith(s.uploads.status('r', 'no-such-upload'), 'BLOB_UPLOAD_UNKNOWN');
        assert.equal((await s.uploads.status('r', u.id)).size, 3);
      }),
    );

    it(
      'puts a session back where it was when the data fails midway',
      withStorage(async (s) => {
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, Readable.from([Buffer.from('good')]));
        await assert.rejects(s.uploads.append('r', u.id, 4, failingStream(Buffer.from('partial'))), /connection reset/);
        assert.equal((await s.uploads.status('r', u.id)).size, 4);
        await s.uploads.append('r', u.id, 4, Readable.from([Buffer.from('bye')]));
        assert.equal((await s.uploads.finish('r', u.id, digestOf('goodbye'))).size, 7);
      }),
    );

    it(
      'receives megabytes in small pieces over resumed appends, byte for byte',
      withStorage(async (s) => {
        // Many 40,000-byte pieces: writes gather several of them and span the appends' boundaries.
        const data = Buffer.alloc(5 * 1024 * 1024 + 123);
        for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 13)) & 0xff;
        const pieces = (b: Buffer) => Readable.from(Array.from({ length: Math.ceil(b.length / 40_000) }, (_, i) => b.subarray(i * 40_000, (i + 1) * 40_000)));
        const cut = 3 * 1024 * 1024 + 7;
        const u = await s.uploads.create('r');
        assert.equal((await s.uploads.append('r', u.id, 0, pieces(data.subarray(0, cut)))).size, cut);
        assert.equal((await s.uploads.append('r', u.id, cut, pieces(data.subarray(cut)))).size, data.length);
        const info = await s.uploads.finish('r', u.id, digestOf(data));
        assert.equal(info.size, data.length);
        assert.ok((await readAll((await s.blobs.open(info.digest)).stream())).equals(data));
      }),
    );

    it(
      'puts a session back when the data fails after megabytes were written',
      withStorage(async (s) => {
        const first = Buffer.alloc(1024 * 1024 + 5, 1);
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, Readable.from([first]));
        const big = Buffer.alloc(3 * 1024 * 1024, 2);
        await assert.rejects(s.uploads.append('r', u.id, first.length, failingStream(big)), /connection reset/);
        assert.equal((await s.uploads.status('r', u.id)).size, first.length);
        await s.uploads.append('r', u.id, first.length, Readable.from([Buffer.from('end')]));
        const whole = Buffer.concat([first, Buffer.from('end')]);
        const info = await s.uploads.finish('r', u.id, digestOf(whole));
        assert.ok((await readAll((await s.blobs.open(info.digest)).stream())).equals(whole));
      }),
    );

    it(
      'drops an upload whose digest does not match, leaving no blob',
      withStorage(async (s) => {
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, Readable.from([Buffer.from('data')]));
        const wrong = digestOf('other');
        await rejectsWith(s.uploads.finish('r', u.id, wrong), 'DIGEST_INVALID');
        assert.equal(await s.blobs.stat(wrong), undefined);
        assert.equal(await s.blobs.stat(digestOf('data')), undefined);
        await rejectsWith(s.uploads.status('r', u.id), 'BLOB_UPLOAD_UNKNOWN');
      }),
    );

    it(
      'verifies sha512 digests and cancels sessions',
      withStorage(async (s) => {
        const u = await s.uploads.create('r');
        await s.uploads.append('r', u.id, 0, Readable.from([Buffer.from('x512')]));
        const d = digestOf('x512', 'sha512');
        assert.equal((await s.uploads.finish('r', u.id, d)).digest, d);
        assert.ok(await s.links.stat('r', d));
        const c = await s.uploads.create('r');
        await s.uploads.cancel('r', c.id);
        await rejectsWith(s.uploads.status('r', c.id), 'BLOB_UPLOAD_UNKNOWN');
      }),
    );

    it(
      'takes concurrent uploads of the same blob',
      withStorage(async (s) => {
        const data = Buffer.alloc(256 * 1024, 7);
        const digests = await Promise.all(['x', 'y', 'x', 'z'].map((r) => putBlob(s, r, data)));
        assert.equal(new Set(digests).size, 1);
        for (const r of ['x', 'y', 'z']) assert.equal((await s.links.stat(r, digests[0]!))?.size, data.length);
      }),
    );

    it(
      'links, unlinks and deletes blobs',
      withStorage(async (s) => {
        const d = await putBlob(s, 'src', 'shared');
        await rejectsWith(s.links.link('dst', digestOf('absent')), 'BLOB_UNKNOWN');
        assert.deepEqual(await s.links.link('dst', d), { digest: d, size: 6 });
        assert.ok(await s.links.stat('dst', d));
        assert.equal(await s.links.unlink('dst', d), true);
        assert.equal(await s.links.unlink('dst', d), false);
        assert.equal(await s.links.stat('dst', d), undefined);
        assert.ok(await s.links.stat('src', d));
        assert.equal(await s.blobs.delete(d), true);
        assert.equal(await s.links.stat('src', d), undefined);
        await rejectsWith(s.blobs.open(d), 'BLOB_UNKNOWN');
      }),
    );
  });

  describe(`${backend} storage: manifests, tags, referrers, repositories`, () => {
    it(
      'stores manifests by digest as the exact bytes',
      withStorage(async (s) => {
        const cfg = await putBlob(s, 'r', '{}');
        const bytes = imageManifest(cfg, 2, []);
        const m = await s.manifests.put('r', bytes, MediaType.OciManifest);
        assert.deepEqual(m, { digest: digestOf(bytes), mediaType: MediaType.OciManifest, size: bytes.length });
        assert.deepEqual((await s.manifests.get('r', m.digest))?.bytes, bytes);
        assert.deepEqual(await s.manifests.stat('r', m.digest), m);
        assert.equal(await s.manifests.stat('other', m.digest), undefined);
        await rejectsWith(s.manifests.put('r', bytes, MediaType.OciManifest, { digest: digestOf('nope') }), 'DIGEST_INVALID');
        const d512 = digestOf(bytes, 'sha512');
        assert.equal((await s.manifests.put('r', bytes, MediaType.OciManifest, { digest: d512 })).digest, d512);
      }),
    );

    it(
      'tags manifests, lists tags in pages and forgets tags of deleted manifests',
      withStorage(async (s) => {
        const cfg = await putBlob(s, 'r', '{}');
        const m = await s.manifests.put('r', imageManifest(cfg, 2, []), MediaType.OciManifest);
        await rejectsWith(s.tags.set('r', 'x', digestOf('nothing')), 'MANIFEST_UNKNOWN');
        for (const t of ['v2', 'latest', 'v1', 'V0', '1.0']) await s.tags.set('r', t, m.digest);
        assert.equal(await s.tags.get('r', 'v1'), m.digest);
        assert.equal(await s.tags.get('r', 'v9'), undefined);
        assert.deepEqual(await s.tags.list('r'), { items: ['1.0', 'V0', 'latest', 'v1', 'v2'] });
        assert.deepEqual(await s.tags.list('r', { n: 2 }), { items: ['1.0', 'V0'], next: 'V0' });
        assert.deepEqual(await s.tags.list('r', { n: 2, last: 'V0' }), { items: ['latest', 'v1'], next: 'v1' });
        assert.deepEqual(await s.tags.list('r', { n: 2, last: 'v1' }), { items: ['v2'] });
        assert.equal(await s.tags.list('unknown'), undefined);
        assert.equal(await s.tags.delete('r', 'v2'), true);
        assert.equal(await s.tags.delete('r', 'v2'), false);
        assert.equal(await s.manifests.delete('r', m.digest), true);
        assert.equal(await s.manifests.delete('r', m.digest), false);
        assert.deepEqual(await s.tags.list('r'), { items: [] });
        assert.equal(await s.manifests.get('r', m.digest), undefined);
      }),
    );

    it(
      'lets concurrent writers of one tag leave one whole value',
      withStorage(async (s) => {
        const cfg = await putBlob(s, 'r', '{}');
        const ms = await Promise.all(
          [0, 1, 2, 3].map((i) => s.manifests.put('r', Buffer.concat([imageManifest(cfg, 2, []), Buffer.from(' '.repeat(i))]), MediaType.OciManifest)),
        );
        await Promise.all(ms.map((m) => s.tags.set('r', 'latest', m.digest)));
        const final = await s.tags.get('r', 'latest');
        assert.ok(ms.map((m) => m.digest).includes(final!));
      }),
    );

    it(
      'indexes referrers by subject and drops them with their manifest',
      withStorage(async (s) => {
        const cfg = await putBlob(s, 'r', '{}');
        const subject = digestOf('subject manifest');
        const a = imageManifest(cfg, 2, [], subject);
        const ma = await s.manifests.put('r', a, MediaType.OciManifest, {
          referrer: { subject, descriptor: { mediaType: MediaType.OciManifest, digest: digestOf(a), size: a.length, artifactType: 'application/x.sig' } },
        });
        assert.deepEqual(await s.manifests.referrers('r', subject), [
          { mediaType: MediaType.OciManifest, digest: ma.digest, size: a.length, artifactType: 'application/x.sig' },
        ]);
        assert.deepEqual(await s.manifests.referrers('other', subject), []);
        assert.deepEqual(await s.manifests.referrers('r', digestOf('unrelated')), []);
        await s.manifests.delete('r', ma.digest);
        assert.deepEqual(await s.manifests.referrers('r', subject), []);
      }),
    );

    it(
      'lists repositories, nested ones too, in pages',
      withStorage(async (s) => {
        assert.deepEqual(await s.repositories(), { items: [] });
        for (const r of ['b', 'a/c', 'a', 'a/c/d']) await putBlob(s, r, r);
        assert.equal(await s.hasRepository('a/c'), true);
        assert.equal(await s.hasRepository('a/x'), false);
        assert.deepEqual(await s.repositories(), { items: ['a', 'a/c', 'a/c/d', 'b'] });
        assert.deepEqual(await s.repositories({ n: 3 }), { items: ['a', 'a/c', 'a/c/d'], next: 'a/c/d' });
        assert.deepEqual(await s.repositories({ n: 3, last: 'a/c/d' }), { items: ['b'] });
      }),
    );
  });

  describe(`${backend} storage: what garbage collection needs`, () => {
    it(
      'lists blobs, links, manifests and uploads, and deletes a blob only if unused since',
      withStorage(async (s) => {
        const cfg = await putBlob(s, 'r', '{}');
        const m = imageManifest(cfg, 2, []);
        const stored = await s.manifests.put('r', m, MediaType.OciManifest);
        const blobs: string[] = [];
        for await (const b of s.blobs.list()) {
          blobs.push(b.digest);
          assert.ok(b.modified > Date.now() - 60_000 && b.size > 0);
        }
        assert.deepEqual(blobs.sort(), [cfg, stored.digest].sort());
        assert.deepEqual(await s.links.list('r'), [cfg]);
        const [entry] = await s.manifests.list('r');
        assert.equal(entry?.digest, stored.digest);
        const u = await s.uploads.create('r');
        assert.deepEqual(
          (await s.uploads.list()).map((x) => [x.id, x.repository, x.size]),
          [[u.id, 'r', 0]],
        );
        assert.equal(await s.blobs.delete(cfg, { unusedSince: Date.now() - 60_000 }), false, 'used within the last minute');
        assert.equal(await s.blobs.delete(cfg, { unusedSince: Date.now() + 60_000 }), true);
        assert.equal(await s.blobs.stat(cfg), undefined);
      }),
    );
  });
}
