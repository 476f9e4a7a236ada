import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, ok, tempDir } from '../testing/cli.js';

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** A layer tar holding one file, made by tar(1). */
async function layerTar(dir: string, name: string, content: Buffer): Promise<Buffer> {
  const src = join(dir, `${name}-src`);
  mkdirSync(src);
  writeFileSync(join(src, name), content);
  const out = join(dir, `${name}.tar`);
  await ok('tar', ['-C', src, '-cf', out, name]);
  return readFileSync(out);
}

/**
 * A docker-archive by hand: `layers` are the tars as the config's diff IDs describe them, `stored`
 * (default: the same) what the archive holds, so that a layer can be corrupted; `padding` makes
 * the config that many bytes larger.
 */
async function dockerArchive(dir: string, name: string, layers: Buffer[], opts: { stored?: Buffer[]; padding?: number } = {}): Promise<string> {
  const root = join(dir, name);
  mkdirSync(root);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
    ...(opts.padding ? { padding: 'x'.repeat(opts.padding) } : {}),
  };
  writeFileSync(join(root, 'config.json'), JSON.stringify(config));
  const stored = opts.stored ?? layers;
  stored.forEach((l, i) => writeFileSync(join(root, `l${i}.tar`), l));
  writeFileSync(
    join(root, 'manifest.json'),
    JSON.stringify([{ Config: 'config.json', RepoTags: [`localhost/${name}:latest`], Layers: stored.map((_, i) => `l${i}.tar`) }]),
  );
  const archive = join(dir, `${name}.tar`);
  await ok('tar', ['-C', root, '-cf', archive, 'manifest.json', 'config.json', ...stored.map((_, i) => `l${i}.tar`)]);
  return archive;
}

/** What the store holds: blob files, unpacked layers, image records. */
function storeContent(root: string): { blobs: string[]; layers: string[]; images: unknown[] } {
  const list = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  const imagesFile = join(root, 'images.json');
  return {
    blobs: [...list(join(root, 'blobs', 'sha256')), ...list(join(root, 'blobs', 'sha512'))],
    layers: list(join(root, 'layers')),
    images: existsSync(imagesFile) ? (JSON.parse(readFileSync(imagesFile, 'utf8')) as { images: unknown[] }).images : [],
  };
}

const EMPTY = { blobs: [], layers: [], images: [] };

describe('a failed load leaves the store as it was', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  let good: Buffer;
  let small: Buffer;
  before(async () => {
    // The good layer is small enough to finish (and, before the fix, be published) between the
    // bad one's failure and the end of the command, which is when it was left behind.
    good = await layerTar(tmp.path, 'good', randomBytes(1024 * 1024));
    small = await layerTar(tmp.path, 'small', Buffer.alloc(100_000, 'a'));
  });
  after(() => tmp.cleanup());

  const corruptions: [string, string, (layer: Buffer) => Buffer][] = [
    [
      'a changed byte',
      'changed',
      (layer) => {
        const c = Buffer.from(layer);
        c.write('b', c.indexOf('aaaa'));
        return c;
      },
    ],
    ['not a tar at all', 'garbage', (layer) => randomBytes(layer.length)],
  ];
  for (const [what, label, corrupt] of corruptions) {
    it(`a corrupt last layer (${what}): one error line, and the good layer unpacked meanwhile is taken back`, async () => {
      const archive = await dockerArchive(tmp.path, `corrupt-${label}`, [good, small], { stored: [good, corrupt(small)] });
      for (let attempt = 0; attempt < 3; attempt++) {
        const root = join(tmp.path, `store-${label}-${attempt}`);
        const r = await berth(root, ['load', '-q', '-i', archive]);
        assert.equal(r.code, 125, r.stderr);
        assert.match(r.stderr, /^Error: content does not match its digest: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n$/);
        assert.deepEqual(storeContent(root), EMPTY);
      }
    });
  }

  it('an image config over 4 MiB is refused before it is read, and nothing is stored', async () => {
    const archive = await dockerArchive(tmp.path, 'bigconfig', [small], { padding: 20 * 1024 * 1024 });
    const root = join(tmp.path, 'store-bigconfig');
    const r = await berth(root, ['load', '-q', '-i', archive]);
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stderr, `Error: ${archive}: image config config.json is 20.0 MiB, more than the 4 MiB berth accepts\n`);
    assert.deepEqual(storeContent(root), EMPTY);
  });

  it('an OCI layout whose config is over 4 MiB is refused too (by the descriptor, and by the file when the descriptor lies)', async () => {
    const layout = join(tmp.path, 'layout');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    const blob = (b: Buffer) => {
      writeFileSync(join(layout, 'blobs', 'sha256', sha256(b).slice(7)), b);
      return sha256(b);
    };
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(small)] }, padding: 'x'.repeat(5 * 1024 * 1024) }),
    );
    const configDigest = blob(config);
    const layer = blob(small);
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    for (const [declared, label] of [
      [config.length, 'honest'],
      [1000, 'lying'],
    ] as const) {
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: declared },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: small.length }],
        }),
      );
      const m = blob(manifest);
      writeFileSync(
        join(layout, 'index.json'),
        JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m, size: manifest.length }] }),
      );
      const root = join(tmp.path, `store-layout-${label}`);
      const r = await berth(root, ['load', '-q', '-i', layout]);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stderr, `Error: ${layout}: image config ${configDigest} is 5.0 MiB, more than the 4 MiB berth accepts\n`, label);
      assert.deepEqual(storeContent(root), EMPTY);
    }
  });
});
