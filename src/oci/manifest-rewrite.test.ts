import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../util/errors.js';
import { rewriteIndex, withLayers, type ImageIndex, type ImageManifest } from './manifest.js';
import { MediaType } from './mediatypes.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;

const docker: ImageManifest = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifest,
  config: { mediaType: MediaType.DockerConfig, size: 10, digest: d('c') },
  layers: [
    { mediaType: MediaType.DockerLayerGzip, size: 100, digest: d('1') },
    { mediaType: MediaType.DockerForeignLayerGzip, size: 200, digest: d('2'), urls: ['https://example.com/l'] },
  ],
};

test('withLayers: a zstd layer in a Docker manifest makes it OCI, the config descriptor and urls kept', () => {
  const out = withLayers(
    docker,
    [
      { digest: d('a'), size: 90, compression: 'zstd' },
      { digest: d('b'), size: 180, compression: 'zstd' },
    ],
    'oci',
  );
  assert.equal(out.mediaType, MediaType.OciManifest);
  assert.deepEqual(out.config, { mediaType: MediaType.OciConfig, digest: d('c'), size: 10 });
  assert.deepEqual(out.layers, [
    { mediaType: MediaType.OciLayerZstd, digest: d('a'), size: 90 },
    { mediaType: MediaType.OciLayerNondistributableZstd, digest: d('b'), size: 180, urls: ['https://example.com/l'] },
  ]);
});

test('withLayers: an untouched layer keeps its descriptor; gzip stays Docker when asked', () => {
  const out = withLayers(docker, [{ digest: d('a'), size: 90, compression: 'none' }, undefined], 'docker');
  assert.equal(out.mediaType, MediaType.DockerManifest);
  assert.deepEqual(out.layers[0], { mediaType: MediaType.DockerLayerUncompressed, size: 90, digest: d('a') });
  assert.deepEqual(out.layers[1], docker.layers[1]);
});

test('withLayers: zstd cannot be written as Docker schema 2', () => {
  assert.throws(
    () => withLayers(docker, [{ digest: d('a'), size: 90, compression: 'zstd' }, undefined], 'docker'),
    (e) => isBerthError(e, 'MANIFEST_UNSUPPORTED') && /zstd/.test((e as Error).message),
  );
});

test('withLayers: an OCI manifest keeps its annotations and those of its layers', () => {
  const oci: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: d('c'), size: 10 },
    layers: [{ mediaType: MediaType.OciLayer, digest: d('1'), size: 100, annotations: { a: 'b' } }],
    annotations: { x: 'y' },
  };
  const out = withLayers(oci, [{ digest: d('a'), size: 50, compression: 'gzip' }], 'oci');
  assert.deepEqual(out.annotations, { x: 'y' });
  assert.deepEqual(out.layers, [{ mediaType: MediaType.OciLayerGzip, digest: d('a'), size: 50, annotations: { a: 'b' } }]);
  assert.deepEqual(oci.layers[0]!.digest, d('1'), 'the input is not changed');
});

const list: ImageIndex = {
  schemaVersion: 2,
  mediaType: MediaType.DockerManifestList,
  manifests: [
    { mediaType: MediaType.DockerManifest, size: 500, digest: d('3'), platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: MediaType.DockerManifest, size: 501, digest: d('4'), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ],
};

test('rewriteIndex: children replaced by digest, platforms kept; a list naming OCI manifests becomes an OCI index', () => {
  const r = rewriteIndex(list, list.mediaType!, new Map([[d('3'), { digest: d('5'), size: 600, mediaType: MediaType.OciManifest }]]));
  assert.equal(r.mediaType, MediaType.OciIndex);
  assert.deepEqual(r.index, {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ mediaType: MediaType.OciManifest, size: 600, digest: d('5'), platform: { architecture: 'amd64', os: 'linux' } }, list.manifests[1]],
  });
});

test('rewriteIndex: Docker children keep a Docker list; asking for Docker with an OCI child is refused', () => {
  const r = rewriteIndex(list, list.mediaType!, new Map([[d('4'), { digest: d('6'), size: 7, mediaType: MediaType.DockerManifest }]]));
  assert.equal(r.mediaType, MediaType.DockerManifestList);
  assert.equal(r.index.manifests[1]!.digest, d('6'));
  assert.equal(r.index.manifests[1]!.platform?.variant, 'v8');
  assert.throws(
    () => rewriteIndex(list, list.mediaType!, new Map([[d('4'), { digest: d('6'), size: 7, mediaType: MediaType.OciManifest }]]), 'docker'),
    (e) => isBerthError(e, 'MANIFEST_UNSUPPORTED'),
  );
});

test('rewriteIndex: an OCI index keeps its annotations and artifactType', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [list.manifests[0]!],
    annotations: { k: 'v' },
    artifactType: 'application/x',
  };
  const r = rewriteIndex(index, MediaType.OciIndex, new Map(), 'oci');
  assert.deepEqual(r.index.annotations, { k: 'v' });
  assert.equal(r.index.artifactType, 'application/x');
});
