import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { parseManifest } from '../oci/manifest.js';
import { bundleAsOci, mapChildren } from './bundle.js';
import type { Image, ImageIndexBundle } from './image.js';
import { recompressImage } from './recompress.js';

const TAR = Buffer.alloc(10240, 0x61);

function image(architecture: string, mediaType: string = MediaType.DockerManifest): Image {
  const docker = mediaType === MediaType.DockerManifest;
  const config = Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(TAR)] } }));
  const layer = gzipSync(TAR);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig, size: config.length, digest: digestOf(config) },
      layers: [{ mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip, size: layer.length, digest: digestOf(layer) }],
    }),
  );
  return {
    manifest: { bytes: manifest, mediaType, digest: digestOf(manifest) },
    config: { bytes: config, digest: digestOf(config), mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig },
    layers: [
      {
        digest: digestOf(layer),
        size: layer.length,
        mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
        diffID: digestOf(TAR),
        blob: async () => Readable.from([layer]),
        tar: async () => Readable.from([TAR]),
      },
    ],
  };
}

function bundle(children: Image[], mediaType: string): ImageIndexBundle {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: children.map((c, i) => ({
        mediaType: c.manifest.mediaType,
        size: c.manifest.bytes.length,
        digest: c.manifest.digest,
        platform: { architecture: ['amd64', 'arm64'][i], os: 'linux' },
      })),
    }),
  );
  return { index: { bytes: index, mediaType, digest: digestOf(index) }, children };
}

test('mapChildren: nothing changed keeps the index bytes', async () => {
  const b = bundle([image('amd64', MediaType.OciManifest), image('arm64', MediaType.OciManifest)], MediaType.OciIndex);
  const out = await mapChildren(b, async (c) => c);
  assert.equal(out.index, b.index);
  assert.equal(await bundleAsOci(b).then((x) => x.index.digest), b.index.digest);
});

test('bundleAsOci: a Docker list becomes an OCI index of OCI manifests, platforms kept', async () => {
  const b = bundle([image('amd64'), image('arm64')], MediaType.DockerManifestList);
  const out = await bundleAsOci(b);
  assert.equal(out.index.mediaType, MediaType.OciIndex);
  assert.equal(digestOf(out.index.bytes), out.index.digest);
  const parsed = parseManifest(out.index.bytes);
  assert.equal(parsed.kind, 'index');
  if (parsed.kind !== 'index') return;
  assert.deepEqual(
    parsed.index.manifests.map((m) => [m.mediaType, m.digest, m.size, m.platform?.architecture]),
    out.children.map((c, i) => [MediaType.OciManifest, c.manifest.digest, c.manifest.bytes.length, ['amd64', 'arm64'][i]]),
  );
  for (const c of out.children) {
    assert.equal(c.manifest.mediaType, MediaType.OciManifest);
    assert.equal(c.layers[0]!.mediaType, MediaType.OciLayerGzip);
  }
  // The configs are untouched: the image IDs stay.
  assert.deepEqual(
    out.children.map((c) => c.config.digest),
    b.children.map((c) => c.config.digest),
  );
});

test('recompressImage: gzip to zstd streams into a file whose digest the manifest names; diff IDs unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-recompress-'));
  try {
    const src = image('amd64');
    const out = await recompressImage(src, { compression: 'zstd', tmpDir: dir });
    assert.equal(out.manifest.mediaType, MediaType.OciManifest, 'zstd forces OCI');
    assert.equal(out.config.digest, src.config.digest);
    assert.equal(out.config.mediaType, MediaType.OciConfig);
    const layer = out.layers[0]!;
    assert.equal(layer.mediaType, MediaType.OciLayerZstd);
    const chunks: Buffer[] = [];
    for await (const c of await layer.blob()) chunks.push(c as Buffer);
    const blob = Buffer.concat(chunks);
    assert.deepEqual([...blob.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.equal(digestOf(blob), layer.digest);
    assert.equal(blob.length, layer.size);
    const tar: Buffer[] = [];
    for await (const c of await layer.tar()) tar.push(c as Buffer);
    assert.equal(digestOf(Buffer.concat(tar)), layer.diffID);
    const m = parseManifest(out.manifest.bytes);
    assert.equal(m.kind === 'manifest' && m.manifest.layers[0]!.digest, layer.digest);
    // Already zstd: the same image comes back.
    assert.equal(await recompressImage(out, { compression: 'zstd', tmpDir: dir }), out);
    await assert.rejects(recompressImage(src, { compression: 'zstd', format: 'docker', tmpDir: dir }), /no zstd layer type/);
    await assert.rejects(recompressImage(src, { compression: 'gzip', level: 12, tmpDir: dir }), /out of range/);
    // Kept layers are left alone (podman's --force-compression=false when the destination has them).
    assert.equal(await recompressImage(src, { compression: 'zstd', tmpDir: dir, keep: async () => true }), src);
    assert.ok(readFileSync(join(dir, `${src.layers[0]!.digest.replace(':', '-')}.zstd`)).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
