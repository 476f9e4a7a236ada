import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { isBerthError } from '../util/errors.js';
import { parseManifest, type ImageIndex } from './manifest.js';
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformOf,
  selectFromIndex,
  wantedPlatforms,
  ZSTD_INSTANCE_ANNOTATION,
  type Platform,
} from './platform.js';

function index(...path: string[]): ImageIndex {
  const p = parseManifest(readFileSync(fixture('containers-image', ...path)));
  assert.equal(p.kind, 'index', path.join('/'));
  return (p as { index: ImageIndex }).index;
}

const testdata = (name: string) => index('internal', 'manifest', 'testdata', name);

/** [arch, variant, digest, preferGzip] rows: containers/image's TestChooseInstance and TestOCI1IndexChooseInstanceByCompression. */
type Row = [string, string, string, boolean?];
const d = (c: string) => `sha256:${c.length === 1 ? c.repeat(64) : c}`;

const CHOOSE: Record<string, { rows: Row[]; unmatched: string[] }> = {
  'schema2list.json': {
    rows: [
      ['amd64', '', d('030fcb92e1487b18c974784dcc110a93147c9fc402188370fbfd17efabffc6af')],
      ['s390x', '', d('e5aa1b0a24620228b75382997a0977f609b3ca3a95533dafdef84c74cc8df642')],
      ['arm', 'v7', d('b5dbad4bdb4444d919294afe49a095c23e86782f98cdf0aa286198ddb814b50b')],
      ['arm64', '', d('dc472a59fb006797aa2a6bfb54cc9c57959bb0a6d11fadaa608df8c16dea39cf')],
    ],
    unmatched: ['unmatched'],
  },
  'schema2list-variants.json': {
    rows: [
      ['amd64', '', d('59eec8837a4d942cc19a52b8c09ea75121acc38114a2c68b98983ce9356b8610')],
      ['arm', 'v7', d('f365626a556e58189fc21d099fc64603db0f440bff07f77c740989515c544a39')],
      ['arm', 'v6', d('f365626a556e58189fc21d099fc64603db0f440bff07f77c740989515c544a39')],
      ['arm', 'v5', d('c84b0a3a07b628bc4d62e5047d0f8dff80f7c00979e1e28a821a033ecda8fe53')],
      ['arm', '', d('c84b0a3a07b628bc4d62e5047d0f8dff80f7c00979e1e28a821a033ecda8fe53')],
      ['arm', 'unrecognized-present', d('bcf9771c0b505e68c65440474179592ffdfa98790eb54ffbf129969c5e429990')],
      ['arm', 'unrecognized-not-present', d('c84b0a3a07b628bc4d62e5047d0f8dff80f7c00979e1e28a821a033ecda8fe53')],
    ],
    unmatched: ['unmatched'],
  },
  'ocilist-variants.json': {
    rows: [false, true].flatMap((gzip): Row[] => [
      ['amd64', '', d('59eec8837a4d942cc19a52b8c09ea75121acc38114a2c68b98983ce9356b8610'), gzip],
      ['arm', 'v7', d('e'), gzip],
      ['arm', 'v6', gzip ? d('d') : d('f365626a556e58189fc21d099fc64603db0f440bff07f77c740989515c544a39'), gzip],
      ['arm', 'v5', d('c84b0a3a07b628bc4d62e5047d0f8dff80f7c00979e1e28a821a033ecda8fe53'), gzip],
      ['arm', '', d('c84b0a3a07b628bc4d62e5047d0f8dff80f7c00979e1e28a821a033ecda8fe53'), gzip],
      ['arm', 'unrecognized-present', d('bcf9771c0b505e68c65440474179592ffdfa98790eb54ffbf129969c5e429990'), gzip],
      ['arm', 'unrecognized-not-present', d('c84b0a3a07b628bc4d62e5047d0f8dff80f7c00979e1e28a821a033ecda8fe53'), gzip],
    ]),
    unmatched: ['unmatched'],
  },
  'oci1.index.zstd-selection.json': {
    rows: [
      ['amd64', '', d('b'), false],
      ['arm64', '', d('c'), false],
      ['s390x', '', d('e'), false],
      ['amd64', '', d('a'), true],
      ['arm64', '', d('c'), true],
      ['s390x', '', d('e'), true],
    ],
    unmatched: ['unmatched'],
  },
  'oci1.index.zstd-selection2.json': {
    rows: [
      ['amd64', '', d('c'), false],
      ['amd64', '', d('a'), true],
      ['arm64', '', d('6dc14a60d2ba724646cfbf5fccbb9a618a5978a64a352e060b17caf5e005da9d'), true],
      ['arm64', '', d('1c98002b30a71b08ab175915ce7c8fb8da9e9b502ae082d6f0c572bac9dee324'), false],
      // entries without a platform are the last resort
      ['matchesImageWithNoPlatform', '', d('f2f5f52a2cf2c51d4cac6df0545f751c0adc3f3427eb47c59fcb32894503e18f'), false],
      ['matchesImageWithNoPlatform', '', d('c76757bb6006babdd8464dbf2f1157fdfa6fead0bc6f84f15816a32d6f68f706'), true],
    ],
    unmatched: [],
  },
  'oci1index.json': {
    rows: [
      ['amd64', '', d('5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270')],
      ['ppc64le', '', d('e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f')],
    ],
    unmatched: ['unmatched'],
  },
};

test('selectFromIndex picks what containers/image picks (variants, compression, platform-less entries)', () => {
  let rows = 0;
  for (const [file, { rows: table, unmatched }] of Object.entries(CHOOSE)) {
    const idx = testdata(file);
    for (const [architecture, variant, digest, preferGzip] of table) {
      const want: Platform = { os: 'linux', architecture, ...(variant ? { variant } : {}) };
      const got = selectFromIndex(idx, want, preferGzip === undefined ? {} : { preferGzip });
      assert.equal(got.digest, digest, `${file} ${architecture}/${variant} preferGzip=${preferGzip}`);
      rows++;
    }
    for (const architecture of unmatched) {
      assert.throws(
        () => selectFromIndex(idx, { os: 'linux', architecture }),
        (e) => isBerthError(e, 'PLATFORM_UNAVAILABLE'),
        file,
      );
      rows++;
    }
  }
  assert.ok(rows >= 40, `only ${rows} rows`);
});

test('selectFromIndex: errors list what the index offers; Docker list entries need a platform', () => {
  const idx = index('manifest', 'fixtures', 'ociv1.image.index.json');
  assert.throws(
    () => selectFromIndex(idx, parsePlatform('linux/s390x')),
    (e) => isBerthError(e, 'PLATFORM_UNAVAILABLE') && e.message === 'no image for linux/s390x in the image index; it offers linux/ppc64le, linux/amd64',
  );
  assert.throws(() => selectFromIndex({ schemaVersion: 2, manifests: [] }, hostPlatform()), /it lists no images$/);
  const entry = { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', size: 1, digest: d('a') };
  const list: ImageIndex = { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [entry] };
  assert.throws(() => selectFromIndex(list, hostPlatform()), /it offers \(no platform\)$/);
  assert.equal(selectFromIndex({ ...list, mediaType: 'application/vnd.oci.image.index.v1+json' }, hostPlatform()), entry);
  // aliases on either side, amd64 "v1" is plain amd64, the arm64 v8 host takes an entry without variant
  const aliased: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      { ...entry, platform: { os: 'Linux', architecture: 'aarch64' } },
      { ...entry, digest: d('b'), platform: { os: 'linux', architecture: 'x86_64', variant: 'v1' } },
    ],
  };
  assert.equal(selectFromIndex(aliased, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest, d('a'));
  assert.equal(selectFromIndex(aliased, parsePlatform('linux/amd64')).digest, d('b'));
  const zstd = { ...entry, platform: { os: 'linux', architecture: 'amd64' }, annotations: { [ZSTD_INSTANCE_ANNOTATION]: 'true' } };
  assert.equal(
    selectFromIndex({ schemaVersion: 2, manifests: [zstd] }, parsePlatform('linux/amd64'), { preferGzip: true }),
    zstd,
    'zstd is still better than nothing',
  );
});

test('wantedPlatforms: containers/image TestWantedPlatforms', () => {
  const v = (want: Platform) => wantedPlatforms(want).map((p) => p.variant ?? '');
  assert.deepEqual(v({ os: 'linux', architecture: 'amd64' }), ['']);
  assert.deepEqual(v({ os: 'linux', architecture: 'arm', variant: 'v6' }), ['v6', 'v5', '']);
  assert.deepEqual(v({ os: 'linux', architecture: 'arm' }), ['', 'v8', 'v7', 'v6', 'v5']);
  assert.deepEqual(v({ os: 'linux', architecture: 'arm64' }), ['', 'v8']);
  assert.deepEqual(v({ os: 'linux', architecture: 'arm64', variant: 'v8' }), ['v8', '']);
  assert.deepEqual(wantedPlatforms({ os: 'freebsd', architecture: 'mips64', variant: 'custom' }), [
    { os: 'freebsd', architecture: 'mips64', variant: 'custom' },
    { os: 'freebsd', architecture: 'mips64' },
  ]);
  // Unlike containers/image, aliases are resolved first: armel is arm/v6 (upstream's row keeps "armel"/"custom").
  assert.deepEqual(v({ os: 'freeBSD', architecture: 'armel', variant: 'custom' }), ['v6', 'v5', '']);
  assert.equal(wantedPlatforms({ os: 'freeBSD', architecture: 'armel' })[0]?.os, 'freebsd');
});

test('parsePlatform', () => {
  const host = hostPlatform();
  const cases: [string, Platform][] = [
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['linux/arm64', { os: 'linux', architecture: 'arm64' }],
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm', { os: 'linux', architecture: 'arm' }],
    ['linux/arm/7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/i386', { os: 'linux', architecture: '386' }],
    ['Linux/ARM64/V8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['windows(10.0.17763.1)/amd64', { os: 'windows', architecture: 'amd64', osVersion: '10.0.17763.1' }],
    [' linux/s390x ', { os: 'linux', architecture: 's390x' }],
    ['arm64', { os: host.os, architecture: 'arm64' }],
    ['linux', { ...host, os: 'linux' }],
  ];
  for (const [s, want] of cases) assert.deepEqual(parsePlatform(s), want, s);
  for (const s of ['', 'linux/', '/amd64', 'a/b/c/d', 'nonsense', 'linux/amd64(1)', 'linux amd64', 'amd64(1)']) {
    assert.throws(
      () => parsePlatform(s),
      (e) => isBerthError(e, 'USAGE') && e.message.startsWith(`invalid platform "${s}": `),
      s,
    );
  }
});

test('normalizePlatform: containerd names, default variants filled in', () => {
  const n = (s: string) => formatPlatform(normalizePlatform(parsePlatform(s)));
  const cases: [string, string][] = [
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64/8', 'linux/arm64/v8'],
    ['linux/arm64/v9.0', 'linux/arm64/v9'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/arm/5', 'linux/arm/v5'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/i386', 'linux/386'],
    ['macos/arm64', 'darwin/arm64/v8'],
  ];
  for (const [s, want] of cases) assert.equal(n(s), want, s);
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm64', osFeatures: ['x'] }), {
    os: 'linux',
    architecture: 'arm64',
    variant: 'v8',
    osFeatures: ['x'],
  });
  assert.deepEqual(
    normalizePlatform(normalizePlatform({ os: 'Linux', architecture: 'aarch64' })),
    normalizePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }),
  );
});

test('hostPlatform speaks GOARCH, platformOf reads index entries', () => {
  const host = hostPlatform();
  const goarch: Record<string, string> = {
    x64: 'amd64',
    ia32: '386',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390x',
    riscv64: 'riscv64',
    ppc64: host.architecture,
  };
  if (process.arch in goarch) assert.equal(host.architecture, goarch[process.arch]);
  if (process.platform === 'linux') assert.equal(host.os, 'linux');
  if (host.architecture === 'arm64') assert.equal(host.variant, 'v8');
  if (host.architecture === 'arm') assert.match(host.variant ?? '', /^v[5-8]$/);
  if (host.architecture === 'amd64') assert.equal(host.variant, undefined);
  host.os = 'changed';
  assert.notEqual(hostPlatform().os, 'changed', 'callers get a copy');
  assert.deepEqual(platformOf({ os: 'windows', architecture: 'amd64', 'os.version': '10.0', 'os.features': ['win32k'], variant: '' }), {
    os: 'windows',
    architecture: 'amd64',
    osVersion: '10.0',
    osFeatures: ['win32k'],
  });
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
});
