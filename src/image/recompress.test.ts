import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { Image, Layer } from './image.js';
import { recompressImage, type CompressedBlob } from './recompress.js';

const read = async (r: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/** An OCI image of the given layers: `tar` ones stored uncompressed, `gzip` ones gzip, `foreign` an uncompressed nondistributable one. */
function image(kinds: ('tar' | 'gzip' | 'foreign')[]): Image {
  const tars = kinds.map((_, i) => Buffer.alloc(10240, 0x61 + i));
  const blobs = kinds.map((k, i) => (k === 'gzip' ? gzipSync(tars[i]!) : tars[i]!));
  const types = kinds.map((k) => (k === 'gzip' ? MediaType.OciLayerGzip : k === 'foreign' ? MediaType.OciLayerNondistributable : MediaType.OciLayer));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: tars.map((t) => digestOf(t)) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, size: config.length, digest: digestOf(config) },
      layers: blobs.map((b, i) => ({ mediaType: types[i], size: b.length, digest: digestOf(b) })),
    }),
  );
  return {
    manifest: { bytes: manifest, mediaType: MediaType.OciManifest, digest: digestOf(manifest) },
    config: { bytes: config, digest: digestOf(config), mediaType: MediaType.OciConfig },
    layers: blobs.map(
      (b, i): Layer => ({
        digest: digestOf(b),
        size: b.length,
        mediaType: types[i]!,
        diffID: digestOf(tars[i]!),
        blob: async () => Readable.from([b]),
        tar: async () => Readable.from([tars[i]!]),
      }),
    ),
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-recompress-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('recompressImage for push', { timeout: 30_000 }, () => {
  it('onlyUncompressed gzips the uncompressed layers and leaves gzip and nondistributable ones as they are', () =>
    withDir(async (dir) => {
      const src = image(['tar', 'gzip', 'foreign']);
      const made: [string, CompressedBlob][] = [];
      const out = await recompressImage(src, { compression: 'gzip', onlyUncompressed: true, tmpDir: dir, onCompressed: (l, b) => made.push([l.digest, b]) });
      assert.equal(out.config.digest, src.config.digest);
      assert.deepEqual(
        out.layers.map((l) => l.mediaType),
        [MediaType.OciLayerGzip, MediaType.OciLayerGzip, MediaType.OciLayerNondistributable],
      );
      assert.equal(out.layers[1], src.layers[1]);
      assert.equal(out.layers[2], src.layers[2]);
      const blob = await read(await out.layers[0]!.blob());
      assert.equal(digestOf(blob), out.layers[0]!.digest);
      assert.equal(digestOf(gunzipSync(blob)), src.layers[0]!.diffID);
      assert.deepEqual(made, [[src.layers[0]!.digest, { digest: out.layers[0]!.digest, size: blob.length, compression: 'gzip' }]]);
      // Nothing uncompressed: the image itself, the same manifest bytes.
      const compressed = image(['gzip', 'gzip']);
      assert.equal(await recompressImage(compressed, { compression: 'gzip', onlyUncompressed: true, tmpDir: dir }), compressed);
      // zstd is compressed too: not turned into gzip.
      const zstd = await recompressImage(image(['tar']), { compression: 'zstd', tmpDir: dir });
      assert.equal(await recompressImage(zstd, { compression: 'gzip', onlyUncompressed: true, tmpDir: dir }), zstd);
    }));

  it('reuses a remembered blob without reading the layer, and makes its bytes again only when asked', () =>
    withDir(async (dir) => {
      const src = image(['tar']);
      const first = await recompressImage(src, { compression: 'gzip', onlyUncompressed: true, tmpDir: dir });
      const known: CompressedBlob = { digest: first.layers[0]!.digest, size: first.layers[0]!.size, compression: 'gzip' };
      let tarsRead = 0;
      const counting: Image = { ...src, layers: src.layers.map((l) => ({ ...l, tar: async () => (tarsRead++, l.tar()) })) };
      const made: unknown[] = [];
      const out = await recompressImage(counting, {
        compression: 'gzip',
        onlyUncompressed: true,
        tmpDir: join(dir, 'again'),
        reuse: async () => known,
        onCompressed: (_l, b) => made.push(b),
      });
      assert.equal(tarsRead, 0, 'nothing compressed');
      assert.deepEqual(made, []);
      assert.equal(out.manifest.digest, first.manifest.digest);
      // A writer that needs the bytes after all gets the same ones.
      assert.equal(digestOf(await read(await out.layers[0]!.blob())), known.digest);
      assert.equal(digestOf(await read(await out.layers[0]!.tar())), src.layers[0]!.diffID);
    }));
});
