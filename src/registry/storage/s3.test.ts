// The parts of the S3 backend that need no server: how segments become multipart parts, key names,
// a collection's delete against the bucket's whole-second times, and the `[storage.s3]` config. The
// backend itself runs against Ceph RGW in s3.e2e.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { isBerthError } from '../../util/errors.js';
import { loadRegistryConfig } from '../config.js';
import { isCopyPart, MIN_PART_BYTES, planParts, type Segment } from './_s3-assemble.js';
import { S3Blobs } from './_s3-blobs.js';
import { S3Bucket } from './_s3-bucket.js';
import { digestOfKey, layout, parseUploadKey } from './_s3-layout.js';

const MiB = 1 << 20;

function segments(...sizes: number[]): Segment[] {
  let offset = 0;
  return sizes.map((size) => {
    const s = { key: layout.segment('id', offset), offset, size };
    offset += size;
    return s;
  });
}

/** The parts' sizes, and whether each is copied by the server. */
function shape(parts: ReturnType<typeof planParts>): [number, boolean][] {
  return parts.map((p) => [p.reduce((n, r) => n + r.end - r.start, 0), isCopyPart(p)]);
}

describe('S3 storage: planning the parts of a blob', { timeout: 10_000 }, () => {
  it('gathers small chunks into parts of the part size, the last one smaller', () => {
    const parts = planParts(segments(...Array(20).fill(MiB)), 8 * MiB);
    assert.deepEqual(shape(parts), [
      [8 * MiB, false],
      [8 * MiB, false],
      [4 * MiB, false],
    ]);
    // Ranges of one part follow each other through the segments, and every byte is in exactly one part.
    const flat = parts.flat();
    for (let i = 1; i < flat.length; i++) {
      const a = flat[i - 1]!;
      const b = flat[i]!;
      assert.equal(a.segment.offset + a.end, b.segment.offset + b.start);
    }
  });

  it('copies large segments server-side and cuts a segment where a gathered part fills up', () => {
    assert.deepEqual(shape(planParts(segments(20 * MiB, 100, 6 * MiB), 8 * MiB)), [
      [20 * MiB, true],
      [6 * MiB + 100, false],
    ]);
    // 1 MiB gathered, then 7 MiB of the 30 MiB segment fill the part; the other 23 MiB are one copy.
    assert.deepEqual(shape(planParts(segments(MiB, 30 * MiB), 8 * MiB)), [
      [8 * MiB, false],
      [23 * MiB, true],
    ]);
  });

  it('never makes a part below 5 MiB but the last, whatever the chunk sizes', () => {
    for (const sizes of [[1], [5 * MiB - 1, 1, 5 * MiB + 1, 3], [7 * MiB, 2 * MiB, 9 * MiB], Array(50).fill(333_333)]) {
      const parts = shape(planParts(segments(...sizes), 5 * MiB));
      assert.equal(
        parts.reduce((n, [s]) => n + s, 0),
        sizes.reduce((a, b) => a + b, 0),
      );
      for (const [size] of parts.slice(0, -1)) assert.ok(size >= MIN_PART_BYTES, `${size} in ${JSON.stringify(parts)}`);
    }
  });
});

describe('S3 storage: keys', { timeout: 10_000 }, () => {
  it('names keys under the prefix and reads digests and upload keys back', () => {
    const d = digestOf('x');
    assert.equal(new S3Bucket({} as never, 'b', '/reg/istry/').key(layout.blob(d)), `reg/istry/blobs/sha256/${d.slice(7)}`);
    assert.equal(new S3Bucket({} as never, 'b', '').key('catalog/a'), 'catalog/a');
    assert.equal(digestOfKey(layout.used(d), '_used/'), d);
    assert.equal(layout.segment('u', 42), 'uploads/u/data/0000000000000042');
    assert.deepEqual(parseUploadKey(layout.segment('u', 42)), { id: 'u', offset: 42 });
    assert.deepEqual(parseUploadKey(layout.uploadInfo('u')), { id: 'u', info: true });
    assert.equal(parseUploadKey('uploads/u/other'), undefined);
    // Nested repositories do not see each other's keys.
    assert.ok(!layout.tag('a/b', 'x').startsWith(layout.tags('a')));
  });
});

describe('S3 storage: a collection deletes only blobs unused since its cutoff', { timeout: 10_000 }, () => {
  /** The bucket's side as RGW gives it: HEAD times (Last-Modified) to the second. */
  function secondsBucket(clock: { now: number }) {
    const objects = new Map<string, number>();
    const bucket = {
      head: async (key: string) => (objects.has(key) ? { size: 1, modified: Math.floor(objects.get(key)! / 1000) * 1000, metadata: {} } : undefined),
      put: async (key: string) => void objects.set(key, clock.now),
      delete: async (key: string) => void objects.delete(key),
    };
    return { objects, bucket: bucket as unknown as S3Bucket };
  }

  it('keeps a blob marked after the cutoff in the same second, and deletes one unused since before it', async () => {
    // 100 ms into a second: a collection with no grace period begins, its cutoff now.
    const clock = { now: 1_700_000_000_000 + 100 };
    const { objects, bucket } = secondsBucket(clock);
    const blobs = new S3Blobs(bucket, false);
    const [held, unused] = [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`];
    objects.set(layout.blob(held), clock.now - 60_000);
    objects.set(layout.blob(unused), clock.now - 60_000);
    const cutoff = clock.now;
    // 200 ms later a manifest's put marks the blob it names (the bucket says: this same second).
    clock.now += 200;
    await blobs.touch(held);
    assert.equal(await blobs.delete(held, { unusedSince: cutoff }), false);
    assert.ok(objects.has(layout.blob(held)), 'the blob of an accepted manifest was taken');
    assert.equal(await blobs.delete(unused, { unusedSince: cutoff }), true);
    assert.ok(!objects.has(layout.blob(unused)));
    assert.ok(!objects.has(layout.deleting(unused)), 'the tombstone is removed');
  });
});

describe('S3 storage: [storage.s3] in the registry config', { timeout: 10_000 }, () => {
  const withConfig = async (toml: string, fn: (file: string) => Promise<void>) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-s3-config-'));
    try {
      await writeFile(join(dir, 'registry.toml'), toml);
      await fn(join(dir, 'registry.toml'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  it('reads every key, the CA relative to the file', async () => {
    await withConfig(
      `[storage.s3]
endpoint = "https://s3.example:7480"
region = "eu-1"
bucket = "reg"
prefix = "p/q"
path_style = true
access_key = "AK"
secret_key = "SK"
ca = "ca.pem"
part_size = 16777216
concurrency = 2
redirect = true
cache_bytes = 0
`,
      async (file) => {
        assert.deepEqual((await loadRegistryConfig(file)).s3, {
          endpoint: 'https://s3.example:7480',
          region: 'eu-1',
          bucket: 'reg',
          prefix: 'p/q',
          pathStyle: true,
          accessKey: 'AK',
          secretKey: 'SK',
          ca: join(file, '..', 'ca.pem'),
          partSize: 16 * MiB,
          concurrency: 2,
          redirect: true,
          cacheBytes: 0,
        });
      },
    );
  });

  it('refuses a path together with s3, half the keys, unknown keys and small parts, in one line', async () => {
    const cases: [string, RegExp][] = [
      ['[storage]\npath = "x"\n[storage.s3]\nbucket = "b"\n', /mutually exclusive/],
      ['[storage.s3]\nbucket = "b"\naccess_key = "a"\n', /both access_key and secret_key/],
      ['[storage.s3]\nbucket = "b"\nbukket = "c"\n', /unknown key "bukket" in \[storage.s3\]/],
      ['[storage.s3]\nbucket = "b"\npart_size = 1024\n', /part_size must be an integer of at least 5242880/],
      ['[storage.s3]\nregion = "x"\n', /needs a bucket/],
      ['[storage.s3]\nbucket = "b"\nendpoint = "127.0.0.1:80"\n', /http:\/\/ or https:\/\//],
      ['[storage.s3]\nbucket = "b"\ncache_bytes = -1\n', /cache_bytes must be an integer of at least 0/],
    ];
    for (const [toml, re] of cases) {
      await withConfig(toml, async (file) => {
        await assert.rejects(loadRegistryConfig(file), (e) => isBerthError(e, 'USAGE') && re.test(e.message) && !e.message.includes('\n'));
      });
    }
  });
});
