import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import tarStream from 'tar-stream';
import { digestOf } from '../../oci/digest.js';
import { Store } from '../../store/store.js';
import { memoryDestination } from './copy.case.js';
import { putNewLayer } from './copy-image.js';
import { storeDestination } from './store.js';

async function tarOf(name: string, text: string): Promise<Buffer> {
  const pack = tarStream.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date(0) }, text);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, as paths relative to it (directories left out). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe('a new layer (its digest not known before it is written)', { timeout: 30_000 }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const openStore = async (): Promise<Store> => {
    const d = await mkdtemp(join(tmpdir(), 'berth-new-layer-'));
    dirs.push(d);
    return Store.open({ root: join(d, 'store') });
  };

  it('is refused by a destination that does not take new layers, unread', async () => {
    const tar = Readable.from([await tarOf('a', 'a\n')]);
    await assert.rejects(putNewLayer(memoryDestination(), tar), /takes no layer whose digest is not known yet/);
    assert.equal(tar.destroyed, true);
  });

  it('goes into the store from one read, hashed to its diff ID, and is taken back whole when no copy names it', async () => {
    const store = await openStore();
    try {
      const bytes = await tarOf('etc/greeting', 'hello\n');
      let reads = 0;
      const dest = storeDestination(store, []);
      assert.equal(dest.capabilities.takesNewLayers, true);
      const got = await putNewLayer(
        dest,
        Readable.from(
          (async function* () {
            reads++;
            yield bytes;
          })(),
        ),
      );
      assert.deepEqual(got, { digest: digestOf(bytes), size: bytes.length });
      assert.equal(reads, 1);
      assert.equal(await store.blobs.has(got.digest), true, 'its blob is written');
      assert.deepEqual(await store.layers.list(), [], 'the unpacked layer waits, out of sight, for the copy to name it');
      // Closed without a copy that names it and commits: nothing of it stays (blob, unpacked tree).
      await dest.close();
      assert.equal(await store.blobs.has(got.digest), false);
      assert.deepEqual(await filesUnder(join(store.root, 'tmp')), []);
    } finally {
      await store.close();
    }
  });
});
