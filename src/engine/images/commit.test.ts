import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffDirectory } from '../../archive/diff.js';
import { Store } from '../../store/store.js';
import { tempDir } from '../../testing/cli.js';
import { baseImage, commitImage } from './commit.js';

describe('commitImage', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('stores and unpacks a layer from one read, and builds the next image on the one in memory', async () => {
    const store = await Store.open({ root: join(tmp.path, 'store') });
    try {
      const upper = join(tmp.path, 'upper');
      mkdirSync(join(upper, 'etc'), { recursive: true });
      writeFileSync(join(upper, 'etc', 'greeting'), 'hello\n');
      // The layer's blob is never read back to be unpacked, nor the base image read from disk.
      const opened: string[] = [];
      const open = store.blobs.open.bind(store.blobs);
      store.blobs.open = (digest: string) => {
        opened.push(digest);
        return open(digest);
      };
      const first = await commitImage(store, await baseImage(store, undefined), {
        config: {},
        layer: diffDirectory(upper),
        history: { created_by: 'step 1' },
        format: 'oci',
      });
      assert.deepEqual(opened, []);
      const chain = first.record.layers;
      assert.equal(chain.length, 1);
      const layer = await store.layers.get(chain[0]!);
      assert.equal(layer?.diffID, first.record.layerBlobs[0]);
      assert.equal(await readFile(join(store.layers.diffDir(chain[0]!), 'etc', 'greeting'), 'utf8'), 'hello\n');
      assert.deepEqual(first.image.chain, chain);

      const images = store.images.bind(store);
      store.images = async () => assert.fail('the base was read from the store');
      writeFileSync(join(upper, 'etc', 'greeting'), 'bye\n');
      const second = await commitImage(store, first.image, {
        config: { Cmd: ['sh'] },
        layer: diffDirectory(upper),
        history: { created_by: 'step 2' },
        format: 'docker',
      });
      store.images = images;
      assert.deepEqual(opened, []);
      assert.equal(second.record.layers.length, 2);
      assert.equal(second.record.layers[0], chain[0]);
      assert.equal(await readFile(join(store.layers.diffDir(second.record.layers[1]!), 'etc', 'greeting'), 'utf8'), 'bye\n');
      const read = await baseImage(store, second.record.id);
      assert.deepEqual(read.config, second.image.config);
      assert.deepEqual(read.layers, second.image.layers);
      assert.deepEqual(
        read.config.history?.map((h) => h.created_by),
        ['step 1', 'step 2'],
      );
    } finally {
      await store.close();
    }
  });

  it('makes the layer a step made before without unpacking it again, and unpacks one that differs', async () => {
    const store = await Store.open({ root: join(tmp.path, 'again') });
    try {
      const upper = join(tmp.path, 'again-upper');
      mkdirSync(upper, { recursive: true });
      writeFileSync(join(upper, 'file'), 'same\n');
      const scratch = await baseImage(store, undefined);
      const step = () => ({ config: {}, layer: diffDirectory(upper, { mtime: 1 }), history: { created_by: 'step' }, format: 'oci' as const });
      const first = await commitImage(store, scratch, step());
      const previousLayer = first.record.layers[0]!;
      const staged: unknown[] = [];
      const stage = store.layers.stage.bind(store.layers);
      store.layers.stage = async (...args: Parameters<typeof stage>) => {
        staged.push(args[0]);
        return stage(...args);
      };
      const again = await commitImage(store, scratch, { ...step(), previousLayer, created: new Date(1000) });
      assert.notEqual(again.record.id, first.record.id);
      assert.deepEqual(again.record.layers, first.record.layers);
      assert.equal(staged.length, 0, 'the same layer is not unpacked again');
      writeFileSync(join(upper, 'file'), 'different\n');
      const changed = await commitImage(store, scratch, { ...step(), previousLayer });
      assert.equal(staged.length, 1);
      assert.notDeepEqual(changed.record.layers, first.record.layers);
      assert.equal(await readFile(join(store.layers.diffDir(changed.record.layers[0]!), 'file'), 'utf8'), 'different\n');
    } finally {
      await store.close();
    }
  });

  it('takes back its layer, unpacked tree and blobs when the image cannot be recorded', async () => {
    const store = await Store.open({ root: join(tmp.path, 'failing') });
    try {
      const upper = join(tmp.path, 'failing-upper');
      mkdirSync(upper, { recursive: true });
      writeFileSync(join(upper, 'file'), 'lost\n');
      store.updateImages = async () => {
        throw new Error('no room for the record');
      };
      await assert.rejects(
        commitImage(store, await baseImage(store, undefined), { config: {}, layer: diffDirectory(upper), history: { created_by: 'x' }, format: 'oci' }),
        /no room for the record/,
      );
      assert.deepEqual(await store.allBlobs(), []);
      assert.deepEqual(await store.layers.list(), []);
    } finally {
      await store.close();
    }
  });
});
