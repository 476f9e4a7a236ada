import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isBerthError } from '../util/errors.js';
import { MEDIA_TYPE_RE } from './_check.js';
import {
  convertLayerMediaType,
  isImageConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNondistributable,
  isSchema1MediaType,
  layerCompression,
  layerMediaType,
  MediaType,
  mediaTypeFormat,
  type LayerCompression,
} from './mediatypes.js';

/** [OCI, Docker (undefined: none), compression, nondistributable] */
const LAYERS: [string, string | undefined, LayerCompression, boolean][] = [
  [MediaType.OciLayer, MediaType.DockerLayerUncompressed, 'none', false],
  [MediaType.OciLayerGzip, MediaType.DockerLayerGzip, 'gzip', false],
  [MediaType.OciLayerZstd, undefined, 'zstd', false],
  [MediaType.OciLayerNondistributable, MediaType.DockerForeignLayer, 'none', true],
  [MediaType.OciLayerNondistributableGzip, MediaType.DockerForeignLayerGzip, 'gzip', true],
  [MediaType.OciLayerNondistributableZstd, undefined, 'zstd', true],
];

test('the constants are the registered strings and all well-formed', () => {
  assert.equal(MediaType.OciManifest, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(MediaType.DockerLayerUncompressed, 'application/vnd.docker.image.rootfs.diff.tar');
  assert.equal(MediaType.DockerSchema1SignedManifest, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
  const all = Object.values(MediaType);
  assert.ok(all.length >= 20);
  assert.equal(new Set(all).size, all.length);
  for (const m of all) assert.match(m, MEDIA_TYPE_RE);
});

test('layer media types: compression, nondistributable, both formats', () => {
  for (const [oci, docker, compression, nd] of LAYERS) {
    for (const m of docker ? [oci, docker] : [oci]) {
      assert.ok(isLayerMediaType(m), m);
      assert.equal(layerCompression(m), compression, m);
      assert.equal(isNondistributable(m), nd, m);
      assert.equal(convertLayerMediaType(m, 'oci'), oci, `${m} → oci`);
      if (docker) assert.equal(convertLayerMediaType(m, 'docker'), docker, `${m} → docker`);
      else
        assert.throws(
          () => convertLayerMediaType(m, 'docker'),
          (e) => isBerthError(e, 'MANIFEST_UNSUPPORTED') && /zstd/.test(e.message),
        );
    }
    assert.equal(layerMediaType('oci', compression, { nondistributable: nd }), oci);
    if (docker) assert.equal(layerMediaType('docker', compression, { nondistributable: nd }), docker);
  }
  // recompressing while converting
  assert.equal(convertLayerMediaType(MediaType.DockerLayerGzip, 'oci', 'zstd'), MediaType.OciLayerZstd);
  assert.equal(convertLayerMediaType(MediaType.OciLayerZstd, 'docker', 'gzip'), MediaType.DockerLayerGzip);
  assert.equal(convertLayerMediaType(MediaType.OciLayerNondistributableZstd, 'docker', 'none'), MediaType.DockerForeignLayer);
  assert.equal(convertLayerMediaType(MediaType.OciLayerGzip, 'oci', 'none'), MediaType.OciLayer);
  for (const bad of [
    'application/vnd.oci.image.layer.v1.tar+gzip+encrypted',
    'application/vnd.docker.image.rootfs.diff.tar.zstd',
    'application/vnd.oci.image.config.v1+json',
    '',
  ]) {
    assert.ok(!isLayerMediaType(bad));
    assert.ok(!isNondistributable(bad));
    assert.throws(
      () => layerCompression(bad),
      (e) => isBerthError(e, 'MANIFEST_UNSUPPORTED') && e.message.startsWith(`unsupported layer media type "${bad}"`),
    );
  }
  assert.match(String(captured(() => layerCompression('application/vnd.oci.image.layer.v1.tar+gzip+encrypted'))), /encrypted layers are not supported/);
});

function captured(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (e) {
    return (e as Error).message;
  }
}

test('kinds of manifest media types', () => {
  assert.deepEqual(
    [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest, MediaType.DockerSchema1Manifest].map((m) => [
      isIndexMediaType(m),
      isManifestMediaType(m),
      isSchema1MediaType(m),
    ]),
    [
      [true, false, false],
      [true, false, false],
      [false, true, false],
      [false, true, false],
      [false, false, true],
    ],
  );
  assert.ok(isSchema1MediaType(MediaType.DockerSchema1SignedManifest));
  assert.ok(
    isImageConfigMediaType(MediaType.OciConfig) && isImageConfigMediaType(MediaType.DockerConfig) && !isImageConfigMediaType('application/octet-stream'),
  );
  assert.equal(mediaTypeFormat(MediaType.OciLayerZstd), 'oci');
  assert.equal(mediaTypeFormat(MediaType.DockerConfig), 'docker');
  assert.equal(mediaTypeFormat('application/octet-stream'), undefined);
});
