import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { tempDir } from '../testing/cli.js';
import type { ImageRecord } from './images.js';
import { Store } from './store.js';

const record = (id: string, names: string[]): ImageRecord => ({
  id,
  names,
  digests: [],
  manifestDigest: id,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  layers: [],
  layerBlobs: [],
  size: 0,
  created: '2026-12-03T00:00:00Z',
  added: '2026-12-03T00:00:00Z',
});

describe('a store that keeps its reads (cacheReads)', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('lists images as each caller’s own copy, and sees a change another store (another process) makes at once', async () => {
    const root = join(tmp.path, 'images');
    const service = await Store.open({ root, cacheReads: true });
    const cli = await Store.open({ root });
    try {
      assert.deepEqual(await service.images(), []);
      await cli.updateImages((images) => void images.push(record('sha256:a', ['localhost/a:latest'])));
      const first = await service.images();
      assert.deepEqual(
        first.map((i) => i.names),
        [['localhost/a:latest']],
      );
      // A caller changing its list changes nothing for the next.
      first[0]!.names.push('localhost/changed:latest');
      first.pop();
      assert.deepEqual(
        (await service.images()).map((i) => i.names),
        [['localhost/a:latest']],
      );
      // Same-size changes, one after another, from the other store and from this one.
      for (const n of ['b', 'c', 'd']) {
        await cli.updateImages((images) => void (images[0]!.names = [`localhost/${n}:latest`]));
        assert.deepEqual((await service.images())[0]!.names, [`localhost/${n}:latest`]);
      }
      await service.updateImages((images) => void (images[0]!.names = ['localhost/e:latest']));
      assert.deepEqual((await service.images())[0]!.names, ['localhost/e:latest']);
      assert.deepEqual((await cli.images())[0]!.names, ['localhost/e:latest']);
      await cli.updateImages((images) => void images.splice(0));
      assert.deepEqual(await service.images(), []);
    } finally {
      await service.close();
      await cli.close();
    }
  });

  it('keeps small blobs by digest (they never change), up to its bounds; a plain store reads them each time', async () => {
    const root = join(tmp.path, 'blobs');
    const service = await Store.open({ root, cacheReads: true });
    const cli = await Store.open({ root });
    try {
      const small = Buffer.from('{"config":{}}');
      const { digest } = await cli.blobs.putBytes(small);
      assert.deepEqual(await service.blobs.readSmall(digest), small);
      rmSync(cli.blobs.path(digest));
      assert.deepEqual(await service.blobs.readSmall(digest), small, 'kept: not read again');
      await assert.rejects(cli.blobs.readSmall(digest), /missing from the store/, 'a plain store reads each time');

      // Beyond the bounds (8 MiB in all), the least recently read go first; a blob above 256 KiB is never kept.
      const big = (i: number) => Buffer.alloc(256 * 1024, i);
      const digests: string[] = [];
      for (let i = 0; i < 33; i++) digests.push((await cli.blobs.putBytes(big(i))).digest);
      for (const d of digests) await service.blobs.readSmall(d);
      const huge = (await cli.blobs.putBytes(Buffer.alloc(256 * 1024 + 1, 1))).digest;
      await service.blobs.readSmall(huge);
      for (const d of [...digests, huge]) rmSync(cli.blobs.path(d));
      await assert.rejects(service.blobs.readSmall(digests[0]!), /missing/, 'the first read went first');
      await assert.rejects(service.blobs.readSmall(huge), /missing/, 'too big to keep');
      assert.deepEqual(await service.blobs.readSmall(digests[32]!), big(32));
      assert.equal(digestOf(await service.blobs.readSmall(digests[1]!)), digests[1]);
    } finally {
      await service.close();
      await cli.close();
    }
  });
});
