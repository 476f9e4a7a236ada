import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, berthBin, busyboxRootfs, ok, tempDir } from '../testing/cli.js';
import type { ImageRecord } from './images.js';

/** Every record's layers, config, manifest and layer blobs are present: the store is whole. */
function assertWhole(root: string): ImageRecord[] {
  const file = join(root, 'images.json');
  const images = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { images: ImageRecord[] }).images : [];
  for (const i of images) {
    for (const chain of i.layers) assert.ok(existsSync(join(root, 'layers', chain.slice(7), 'layer.json')), `layer ${chain} of ${i.id} missing`);
    for (const blob of [i.id, i.manifestDigest, ...i.layerBlobs])
      assert.ok(existsSync(join(root, 'blobs', 'sha256', blob.slice(7))), `blob ${blob} of ${i.id} missing`);
  }
  return images;
}

describe('concurrent commands and kill -9 leave a working store', () => {
  const tmp = tempDir();
  const rootfs = join(tmp.path, 'busybox.tar');
  const archives: string[] = [];

  before(async () => {
    await busyboxRootfs(rootfs);
    const src = join(tmp.path, 'src');
    for (const n of [1, 2]) {
      const r = await berth(src, ['import', '-q', '--change', `LABEL n=${n}`, rootfs, `img${n}`]);
      assert.equal(r.code, 0, r.stderr);
      const a = join(tmp.path, `img${n}.tar`);
      assert.equal((await berth(src, ['save', '-o', a, `img${n}`])).code, 0);
      archives.push(a);
    }
    // A bigger image (64 MiB of incompressible data) so that a kill lands mid-unpack.
    const big = join(tmp.path, 'big');
    mkdirSync(big);
    writeFileSync(join(big, 'random.bin'), randomBytes(64 * 1024 * 1024));
    await ok('tar', ['-C', big, '-cf', join(tmp.path, 'big-rootfs.tar'), '.']);
    assert.equal((await berth(src, ['import', '-q', join(tmp.path, 'big-rootfs.tar'), 'big'])).code, 0);
    assert.equal((await berth(src, ['save', '-o', join(tmp.path, 'big.tar'), 'big'])).code, 0);
  });
  after(() => tmp.cleanup());

  it('two loads at once sharing a layer both land', async () => {
    const root = join(tmp.path, 'two-loads');
    const [a, b] = await Promise.all(archives.map((f) => berth(root, ['load', '-q', '-i', f])));
    assert.equal(a!.code, 0, a!.stderr);
    assert.equal(b!.code, 0, b!.stderr);
    const images = assertWhole(root);
    assert.equal(images.length, 2);
    assert.equal(readdirSync(join(root, 'layers')).length, 1, 'the shared layer is unpacked once');
  });

  it('tags during rmi never corrupt the store', async () => {
    const root = join(tmp.path, 'tag-rmi');
    for (const f of archives) assert.equal((await berth(root, ['load', '-q', '-i', f])).code, 0);
    const runs = [];
    for (let i = 0; i < 6; i++) {
      runs.push(berth(root, ['tag', 'img1', `extra${i}`]));
      runs.push(berth(root, ['rmi', `localhost/extra${i - 1}:latest`]));
    }
    runs.push(berth(root, ['rmi', '-f', 'img2']));
    await Promise.all(runs);
    const images = assertWhole(root);
    assert.equal(images.length, 1);
    assert.ok(images[0]!.names.includes('localhost/img1:latest'));
    // and it still works
    assert.equal((await berth(root, ['load', '-q', '-i', archives[1]!])).code, 0);
    assert.equal(assertWhole(root).length, 2);
  });

  it('a load killed with -9 at any point leaves a store that opens and works', async () => {
    const root = join(tmp.path, 'killed');
    assert.equal((await berth(root, ['load', '-q', '-i', archives[0]!])).code, 0);
    for (const delay of [150, 400, 800]) {
      const child = spawn(berthBin, ['--root', root, 'load', '-q', '-i', join(tmp.path, 'big.tar')], { stdio: 'ignore' });
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
      assertWhole(root);
      const list = await berth(root, ['images', '-q']);
      assert.equal(list.code, 0, list.stderr);
    }
    const load = await berth(root, ['load', '-q', '-i', join(tmp.path, 'big.tar')]);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(assertWhole(root).length, 2);
    // The killed loads' temp space was swept by the commands that ran after them.
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });
});
