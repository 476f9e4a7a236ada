import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { isBerthError, type ErrorCode } from '../util/errors.js';
import { digestOf } from './digest.js';
import { guessManifestMediaType, parseImageConfig, parseManifest, toDockerManifest, toOciManifest, type ImageManifest } from './manifest.js';
import { MediaType } from './mediatypes.js';

const MANIFESTS = fixture('containers-image', 'manifest', 'fixtures');
const TESTDATA = fixture('containers-image', 'internal', 'manifest', 'testdata');
const IMAGES = fixture('containers-image', 'internal', 'image', 'fixtures');

const read = (dir: string, name: string): Buffer => readFileSync(join(dir, name));

function throwsCode(fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e, code), `expected ${code}, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return true;
  });
}

test('guessManifestMediaType: containers/image TestGuessMIMEType table', () => {
  const table: [string, string][] = [
    ['v2s2.manifest.json', MediaType.DockerManifest],
    ['v2list.manifest.json', MediaType.DockerManifestList],
    ['v2s1.manifest.json', MediaType.DockerSchema1SignedManifest],
    ['v2s1-unsigned.manifest.json', MediaType.DockerSchema1Manifest],
    ['v2s1-invalid-signatures.manifest.json', MediaType.DockerSchema1SignedManifest],
    ['v2s2nomime.manifest.json', MediaType.DockerManifest],
    ['unknown-version.manifest.json', ''],
    ['non-json.manifest.json', ''],
    ['ociv1.manifest.json', MediaType.OciManifest],
    ['ociv1.artifact.json', MediaType.OciManifest],
    ['ociv1.image.index.json', MediaType.OciIndex],
    ['ociv1nomime.manifest.json', MediaType.OciManifest],
    ['ociv1nomime.artifact.json', MediaType.OciManifest],
    ['ociv1nomime.image.index.json', MediaType.OciIndex],
  ];
  assert.ok(table.length >= 14);
  for (const [name, want] of table) {
    assert.equal(guessManifestMediaType(read(TESTDATA, name)), want, name);
    assert.equal(guessManifestMediaType(read(TESTDATA, name).toString('latin1')), want, `${name} as text`);
  }
  assert.equal(guessManifestMediaType('[]'), '');
  assert.equal(guessManifestMediaType('{"schemaVersion": "2"}'), '');
  assert.equal(guessManifestMediaType('{"schemaVersion": 2, "mediaType": 7}'), '');
  assert.equal(guessManifestMediaType('{"schemaVersion": 2, "config": {"mediaType": "application/x"}, "manifests": [{}]}'), 'application/x');
});

/** Expected result of parseManifest (no declared type) for every file of the three manifest fixture folders. */
const SCHEMA1 = ['MANIFEST_UNSUPPORTED', /^Docker schema1 manifests are not supported: /] as const;
const EXPECTED: Record<string, readonly [string, string] | readonly [ErrorCode, RegExp]> = {
  'non-json.manifest.json': ['MANIFEST_INVALID', /not valid UTF-8/],
  'ociv1.artifact.json': ['MANIFEST_INVALID', /\/config\/digest: .*; \/layers: must be an array/],
  'ociv1nomime.artifact.json': ['MANIFEST_INVALID', /\/config\/digest/],
  'unknown-version.manifest.json': ['MANIFEST_UNSUPPORTED', /^unrecognised manifest format \(schemaVersion 99999\)$/],
  'schema2-to-schema1-by-docker.json': SCHEMA1,
  'v2s1-invalid-signatures.manifest.json': SCHEMA1,
  'v2s1-unsigned.manifest.json': SCHEMA1,
  'v2s1.everything.json': SCHEMA1,
  'v2s1.manifest.json': SCHEMA1,
  'schema1.json': SCHEMA1,
  'oci1-to-schema1.json': SCHEMA1,
  'schema1-to-oci1.json': ['MANIFEST_INVALID', /\/config\/size: -1 is out of range/],
  'schema1-to-schema2.json': ['MANIFEST_INVALID', /\/config\/size: -1 is out of range/],
  'schema2-invalid-media-type.json': ['MANIFEST_UNSUPPORTED', /layer 0 has unsupported media type ".*diff\.tar\.zstd"/],
  'oci1-all-media-types-to-schema2.json': ['MANIFEST_UNSUPPORTED', /layer 1 has unsupported media type/],
  'oci1-extra-config-fields.json': ['manifest', MediaType.OciManifest],
  ...Object.fromEntries(
    [
      'ociv1.image.index.json',
      'ociv1nomime.image.index.json',
      'oci1.index.everything.json',
      'oci1.index.zstd-selection.json',
      'oci1.index.zstd-selection2.json',
      'oci1index.json',
      'ocilist-variants.json',
    ].map((f) => [f, ['index', MediaType.OciIndex]]),
  ),
  ...Object.fromEntries(
    ['v2list.manifest.json', 'v2list.everything.json', 'schema2list.json', 'schema2list-variants.json'].map((f) => [
      f,
      ['index', MediaType.DockerManifestList],
    ]),
  ),
  ...Object.fromEntries(
    [
      'v2s2.manifest.json',
      'v2s2nomime.manifest.json',
      'v2s2.everything.json',
      'v2s2.nondistributable.gzip.manifest.json',
      'v2s2.nondistributable.manifest.json',
      'v2s2.uncompressed.manifest.json',
      'oci1-to-schema2.json',
      'schema2-all-media-types.json',
      'schema2.json',
    ].map((f) => [f, ['manifest', MediaType.DockerManifest]]),
  ),
};

test('parseManifest: every manifest fixture is read, or refused with the right code and one clear line', () => {
  let checked = 0;
  const unused = new Set(Object.keys(EXPECTED));
  for (const dir of [MANIFESTS, TESTDATA, IMAGES]) {
    for (const name of readdirSync(dir).filter((f) => !/-config\.json$|config-extra-fields/.test(f))) {
      unused.delete(name);
      const want = EXPECTED[name] ?? ['manifest', MediaType.OciManifest];
      const bytes = read(dir, name);
      const before = digestOf(bytes);
      if (want[1] instanceof RegExp) {
        throwsCode(() => parseManifest(bytes), want[0] as ErrorCode, want[1]);
      } else {
        const parsed = parseManifest(bytes);
        assert.equal(parsed.kind, want[0], name);
        assert.equal(parsed.mediaType, want[1], name);
        // the declared type works as well as the guess, and the bytes are left as they were
        assert.deepEqual(parseManifest(bytes, want[1]), parsed, `${name} declared`);
        assert.equal(digestOf(bytes), before);
      }
      checked++;
    }
  }
  assert.ok(checked >= 65, `only ${checked} fixtures`);
  assert.deepEqual([...unused], [], 'expectations for fixtures that are gone');
});

test('parseManifest: the parsed view carries the document as it is', () => {
  const p = parseManifest(read(MANIFESTS, 'ociv1.everything.json'));
  assert.equal(p.kind, 'manifest');
  if (p.kind !== 'manifest') return;
  assert.equal(p.manifest.artifactType, 'application/our-artifact');
  assert.equal(p.manifest.config.data, 'YQ==');
  assert.deepEqual(p.manifest.subject?.platform, { architecture: 'a', os: 'b', 'os.version': 'c', 'os.features': ['d'], variant: 'e' });
  assert.deepEqual(p.manifest.annotations, { top: '0' });
  const list = parseManifest(read(TESTDATA, 'v2list.everything.json'));
  assert.equal(list.kind, 'index');
  if (list.kind === 'index') assert.deepEqual(list.index.manifests[0]?.platform?.features, ['f']);
  const empty = parseManifest(read(MANIFESTS, 'v2s2nomime.manifest.json'));
  assert.ok(empty.kind === 'manifest' && empty.manifest.layers.length === 0, 'FROM scratch images have no layers');
});

test('parseManifest: the declared media type', () => {
  const oci = read(MANIFESTS, 'ociv1.manifest.json');
  const index = read(MANIFESTS, 'ociv1.image.index.json');
  const nomime = read(MANIFESTS, 'ociv1nomime.manifest.json');
  assert.equal(parseManifest(oci, `${MediaType.OciManifest}; charset=utf-8`).mediaType, MediaType.OciManifest);
  for (const generic of ['', 'application/json', 'text/plain', 'application/octet-stream']) {
    assert.equal(parseManifest(index, generic).kind, 'index', generic);
  }
  // a document without mediaType takes the declared one
  assert.equal(parseManifest(read(MANIFESTS, 'v2s2nomime.manifest.json'), MediaType.DockerManifest).mediaType, MediaType.DockerManifest);
  throwsCode(
    () => parseManifest(oci, MediaType.DockerManifest),
    'MANIFEST_INVALID',
    /says its mediaType is ".*oci.image.manifest.v1\+json" but it was given as ".*docker/,
  );
  throwsCode(() => parseManifest(nomime, MediaType.OciIndex), 'MANIFEST_INVALID', /an OCI image index cannot have "config", "layers"/);
  throwsCode(() => parseManifest(read(MANIFESTS, 'ociv1nomime.image.index.json'), MediaType.OciManifest), 'MANIFEST_INVALID', /cannot have "manifests"/);
  throwsCode(
    () => parseManifest(oci, 'application/vnd.oci.artifact.manifest.v1+json'),
    'MANIFEST_UNSUPPORTED',
    /^unsupported manifest media type "application\/vnd\.oci\.artifact\.manifest\.v1\+json"$/,
  );
  throwsCode(() => parseManifest(oci, MediaType.DockerSchema1SignedManifest), ...SCHEMA1);
  throwsCode(() => parseManifest(read(MANIFESTS, 'v2s1.manifest.json'), MediaType.DockerManifest), ...SCHEMA1);
  // Go decodes field names case-insensitively, so "Manifests" makes a manifest as ambiguous as "manifests"
  const sneaky = Buffer.from(JSON.stringify({ ...JSON.parse(oci.toString()), Manifests: [] }));
  throwsCode(() => parseManifest(sneaky), 'MANIFEST_INVALID', /cannot have "Manifests"/);
  const withHistory = Buffer.from(JSON.stringify({ ...JSON.parse(oci.toString()), FSLayers: [], history: [] }));
  throwsCode(() => parseManifest(withHistory), 'MANIFEST_INVALID', /^invalid manifest: an OCI image manifest cannot have "FSLayers", "history"$/);
  throwsCode(() => parseManifest(Buffer.from('[1]')), 'MANIFEST_UNSUPPORTED', /not a JSON object/);
  throwsCode(
    () => parseManifest(Buffer.from('{"schemaVersion": 2, "mediaType": "application/x"}')),
    'MANIFEST_UNSUPPORTED',
    /^unsupported manifest media type "application\/x"$/,
  );
  throwsCode(() => parseManifest(Buffer.from(`{"schemaVersion": 2, "mediaType": "${MediaType.DockerSchema1Manifest}"}`)), ...SCHEMA1);
  throwsCode(
    () => parseManifest(Buffer.from('{"schemaVersion": 3, "manifests": []}')),
    'MANIFEST_UNSUPPORTED',
    /^unrecognised manifest format \(schemaVersion 3\)$/,
  );
  throwsCode(() => parseManifest(Buffer.from('{"mediaType": 3}')), 'MANIFEST_UNSUPPORTED', /^unrecognised manifest format \(mediaType 3, no schemaVersion\)$/);
  throwsCode(() => parseManifest(Buffer.from('{"schemaVersion": 2,')), 'MANIFEST_INVALID', /^invalid manifest: not valid JSON/);
  const bad = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [{}] }));
  throwsCode(() => parseManifest(bad), 'MANIFEST_INVALID', /^invalid OCI image manifest: \/config\/mediaType: is required; .*\(and 3 more\)$/);
});

test('parseImageConfig: configs of every kind, Docker extras passed through', () => {
  const names = readdirSync(IMAGES).filter((f) => /config/.test(f) && f !== 'oci1-extra-config-fields.json');
  assert.ok(names.length >= 10);
  for (const name of names) {
    if (name === 'schema1-for-oci-config.json') {
      throwsCode(() => parseImageConfig(read(IMAGES, name)), 'CONFIG_INVALID', /^invalid image config: \/os: is required; \/rootfs: is required$/);
      continue;
    }
    const config = parseImageConfig(read(IMAGES, name));
    assert.ok(config.rootfs.diff_ids.length > 0, name);
  }
  const compat = JSON.parse(readFileSync(fixture('schemas', 'image-spec-tests', 'backwards_compatibility.v1.1.1.json'), 'utf8')) as {
    cases: { document: string; validator: string }[];
  };
  const configs = compat.cases.filter((c) => c.validator === MediaType.OciConfig);
  assert.equal(configs.length, 2);
  const docker = parseImageConfig(Buffer.from(configs[0]!.document));
  assert.deepEqual(docker.config?.OnBuild, []);
  assert.equal(docker.config?.Volumes, null);
  assert.equal(docker.docker_version, '1.12.1');
  assert.equal(docker.history?.filter((h) => h.empty_layer).length, 5);
  const fedora = parseImageConfig(Buffer.from(configs[1]!.document));
  assert.equal(fedora.config?.Cmd, null);
  assert.equal(fedora.config?.Entrypoint, null);
  const healthy = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [] },
    config: { Healthcheck: { Test: ['CMD', 'true'] }, Shell: ['/bin/bash', '-c'] },
  };
  assert.deepEqual(parseImageConfig(Buffer.from(JSON.stringify(healthy))).config?.Healthcheck, { Test: ['CMD', 'true'] });
  throwsCode(() => parseImageConfig(Buffer.from('nope')), 'CONFIG_INVALID', /^invalid image config: not valid JSON/);
  throwsCode(
    () => parseImageConfig(Buffer.from('{"os": 123}')),
    'CONFIG_INVALID',
    /^invalid image config: \/architecture: is required; \/rootfs: is required; \/os: must be a string, not an integer$/,
  );
});

// ---- conversions: containers/image's X.json → X-to-Y.json pairs, manifest part --------------------------------

function manifestOf(dir: string, name: string): ImageManifest {
  const p = parseManifest(read(dir, name));
  assert.equal(p.kind, 'manifest', name);
  return (p as { manifest: ImageManifest }).manifest;
}

test('toDockerManifest / toOciManifest reproduce containers/image conversion fixtures', () => {
  const pairs: [string, string, 'docker' | 'oci'][] = [
    ['oci1.json', 'oci1-to-schema2.json', 'docker'],
    ['schema2.json', 'schema2-to-oci1.json', 'oci'],
    ['schema2-all-media-types.json', 'schema2-all-media-types-to-oci1.json', 'oci'],
  ];
  for (const [from, to, format] of pairs) {
    const source = manifestOf(IMAGES, from);
    const expected = JSON.parse(read(IMAGES, to).toString()) as ImageManifest;
    // The config blob is converted too (its digest changes); the manifest conversion takes its new descriptor.
    const opts = { config: { digest: expected.config.digest, size: expected.config.size } };
    const before = structuredClone(source);
    const got = format === 'docker' ? toDockerManifest(source, opts) : toOciManifest(source, opts);
    assert.deepEqual(got, expected, `${from} → ${to}`);
    assert.deepEqual(source, before, 'the input is not modified');
    assert.equal(parseManifest(Buffer.from(JSON.stringify(got))).mediaType, format === 'docker' ? MediaType.DockerManifest : MediaType.OciManifest);
  }
});

test('conversions refuse what the target cannot express, as containers/image does', () => {
  const toDocker = (name: string) => () => toDockerManifest(manifestOf(IMAGES, name));
  // upstream TestConvertToManifestSchema2AllMediaTypes: oci1-all-media-types-to-schema2.json is not what it produces
  throwsCode(
    toDocker('oci1-all-media-types.json'),
    'MANIFEST_UNSUPPORTED',
    /^cannot convert the manifest to Docker schema 2: layer 1: zstd-compressed layers cannot be written in a Docker manifest/,
  );
  throwsCode(
    toDocker('oci1-artifact.json'),
    'MANIFEST_UNSUPPORTED',
    /it is not an image \(config media type "application\/vnd\.oci\.custom\.artifact\.config\.v1\+json"\)/,
  );
  throwsCode(
    toDocker('oci1.encrypted.json'),
    'MANIFEST_UNSUPPORTED',
    /layer 0: unsupported layer media type ".*\+encrypted" \(encrypted layers are not supported\)/,
  );
  throwsCode(toDocker('oci1-invalid-media-type.json'), 'MANIFEST_UNSUPPORTED', /layer 0: unsupported layer media type ".*tar\+invalid-suffix"/);
  const docker = manifestOf(MANIFESTS, 'v2s2.manifest.json');
  throwsCode(
    () => toOciManifest({ ...docker, layers: [{ ...docker.layers[0]!, mediaType: 'application/x-squashfs' }] }),
    'MANIFEST_UNSUPPORTED',
    /^cannot convert the manifest to OCI: layer 0: unsupported layer media type "application\/x-squashfs"$/,
  );
});

test('conversions: every layer kind both ways, urls kept, OCI-only fields dropped, same format copied', () => {
  const oci = manifestOf(MANIFESTS, 'ociv1.everything.json');
  const image: ImageManifest = { ...oci, config: { ...oci.config, mediaType: MediaType.OciConfig }, layers: [] };
  for (const [ociType, dockerType] of <[string, string][]>[
    [MediaType.OciLayer, MediaType.DockerLayerUncompressed],
    [MediaType.OciLayerGzip, MediaType.DockerLayerGzip],
    [MediaType.OciLayerNondistributable, MediaType.DockerForeignLayer],
    [MediaType.OciLayerNondistributableGzip, MediaType.DockerForeignLayerGzip],
  ]) {
    image.layers.push({ ...oci.layers[0]!, mediaType: ociType });
    const d = toDockerManifest(image);
    assert.equal(d.layers.at(-1)?.mediaType, dockerType);
    assert.equal(toOciManifest(d).layers.at(-1)?.mediaType, ociType);
  }
  const d = toDockerManifest(image);
  assert.deepEqual(Object.keys(d), ['schemaVersion', 'mediaType', 'config', 'layers']);
  assert.deepEqual(d.config, { mediaType: MediaType.DockerConfig, size: 1, digest: oci.config.digest, urls: ['https://some.example/config'] });
  assert.deepEqual(Object.keys(d.layers[0]!), ['mediaType', 'size', 'digest', 'urls']);
  const back = toOciManifest(d);
  assert.deepEqual(Object.keys(back.layers[0]!), ['mediaType', 'digest', 'size', 'urls']);
  // same format: an equal copy (a Docker manifest without mediaType is recognised by its media types)
  assert.deepEqual(toOciManifest(oci), oci);
  assert.notEqual(toOciManifest(oci), oci);
  const nomime = manifestOf(MANIFESTS, 'v2s2nomime.manifest.json');
  assert.deepEqual(toDockerManifest(nomime), nomime);
  assert.equal(toOciManifest(nomime).mediaType, MediaType.OciManifest);
  assert.deepEqual(toDockerManifest(d, { config: { digest: `sha256:${'f'.repeat(64)}`, size: 9 } }).config.size, 9);
});
