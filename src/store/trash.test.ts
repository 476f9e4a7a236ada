import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { tempDir } from '../testing/cli.js';
import { processToken } from '../util/process.js';
import type { ImageRecord } from './images.js';
import { Store } from './store.js';

/** Waits until `done()` holds (the detached `rm` works in the background), failing after `ms`. */
async function eventually(what: string, done: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!done()) {
    if (Date.now() > until) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A layer directory as the layer store publishes it, with a few files in it. */
function makeLayer(store: Store, chainID: string): void {
  const dir = store.layers.layerDir(chainID);
  mkdirSync(join(dir, 'diff', 'etc'), { recursive: true });
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'diff', 'etc', `f${i}`), `file ${i}`);
  writeFileSync(join(dir, 'layer.json'), JSON.stringify({ chainID, diffID: chainID, size: 500, tarSize: 1024, created: new Date(0).toISOString() }));
}

async function addImage(store: Store, name: string, layers: string[], layerBlobs: string[]): Promise<ImageRecord> {
  const config = Buffer.from(JSON.stringify({ name }));
  const id = (await store.blobs.put(Readable.from([config]), { digest: digestOf(config) })).digest;
  const manifest = Buffer.from(JSON.stringify({ name, layers }));
  const manifestDigest = (await store.blobs.put(Readable.from([manifest]), { digest: digestOf(manifest) })).digest;
  const image: ImageRecord = {
    id,
    names: [name],
    digests: [manifestDigest],
    manifestDigest,
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    layers,
    layerBlobs,
    size: 0,
    created: new Date(0).toISOString(),
    added: new Date().toISOString(),
  };
  await store.updateImages((images) => void images.push(image));
  return image;
}

async function putBlob(store: Store, text: string): Promise<string> {
  const data = Buffer.from(text);
  return (await store.blobs.put(Readable.from([data]), { digest: digestOf(data) })).digest;
}

const trashOf = (root: string) => (existsSync(join(root, 'trash')) ? readdirSync(join(root, 'trash')) : []);

describe('store trash', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('a sweep renames what no image uses into the trash and deletes it after close, never what an image still uses or a later pull put back', async () => {
    const root = join(tmp.path, 'gc');
    const store = await Store.open({ root });
    const [shared, own] = [digestOf('shared layer'), digestOf('own layer')];
    makeLayer(store, shared);
    makeLayer(store, own);
    const [sharedBlob, ownBlob] = [await putBlob(store, 'shared blob'), await putBlob(store, 'own blob')];
    const keep = await addImage(store, 'localhost/keep:1', [shared], [sharedBlob]);
    const gone = await addImage(store, 'localhost/gone:1', [shared, own], [sharedBlob, ownBlob]);
    await store.updateImages((images) => void images.splice(images.indexOf(images.find((i) => i.id === gone.id)!), 1));

    const result = await store.collectGarbage({
      candidates: { layers: gone.layers, blobs: [gone.id, gone.manifestDigest, ...gone.layerBlobs] },
    });
    assert.deepEqual([result.layers, result.blobs], [1, 3]);
    // Out of sight at once, in this process's trash until close.
    assert.equal(existsSync(store.layers.layerDir(own)), false);
    assert.equal(await store.blobs.has(ownBlob), false);
    assert.deepEqual(trashOf(root), [processToken()]);
    assert.equal(readdirSync(join(root, 'trash', processToken())).length, 4);
    // What the kept image uses is untouched.
    for (const d of [keep.id, keep.manifestDigest, sharedBlob]) assert.equal(await store.blobs.has(d), true, d);
    assert.equal(readdirSync(join(store.layers.diffDir(shared), 'etc')).length, 50);

    // A pull of the same layer and blob while they wait in the trash puts them back in place: the
    // rm deletes only the renamed copies.
    makeLayer(store, own);
    assert.equal(await putBlob(store, 'own blob'), ownBlob);
    await addImage(store, 'localhost/again:1', [shared, own], [sharedBlob, ownBlob]);

    await store.close();
    await eventually('the trash emptied by the detached rm', () => trashOf(root).every((t) => readdirSync(join(root, 'trash', t)).length === 0));
    // The next open removes the empty directory the rm left under its own name.
    await eventually('the rm gone', () => {
      const t = trashOf(root)[0];
      return t === undefined || !existsSync(`/proc/${t.split('-')[0]}`);
    });
    await (await Store.open({ root })).close();
    assert.deepEqual(trashOf(root), []);
    for (const chainID of [shared, own]) assert.equal(readdirSync(join(store.layers.diffDir(chainID), 'etc')).length, 50, chainID);
    for (const d of [sharedBlob, ownBlob]) assert.equal(await store.blobs.has(d), true, d);
  });

  it('trash a killed command left (a process that is gone) is deleted after the next open; a live owner’s is left alone', async () => {
    const root = join(tmp.path, 'killed');
    // A process that moves a tree into the trash under its own token, as a sweep does, and is killed with -9 before its close.
    const script = `
      const fs = require('fs');
      const st = fs.readFileSync('/proc/self/stat', 'utf8');
      const token = process.pid + '-' + st.slice(st.lastIndexOf(')') + 2).split(' ')[19];
      const dir = ${JSON.stringify(join(root, 'trash'))} + '/' + token + '/layer-x/diff/a/b';
      fs.mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 20; i++) fs.writeFileSync(dir + '/f' + i, 'x');
      process.stdout.write(token);
      process.kill(process.pid, 'SIGKILL');`;
    const killed = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(killed.signal, 'SIGKILL');
    const dead = killed.stdout;
    assert.ok(existsSync(join(root, 'trash', dead, 'layer-x')));
    // A live owner: this process, with trash it has not closed yet.
    const live = join(root, 'trash', processToken(), 'blob-y');
    mkdirSync(join(root, 'trash', processToken()), { recursive: true });
    writeFileSync(live, 'y');

    const started = Date.now();
    const store = await Store.open({ root });
    assert.ok(Date.now() - started < 5_000);
    await eventually(
      'the dead owner’s trash deleted',
      () => !existsSync(join(root, 'trash', dead)) && trashOf(root).every((t) => t === processToken() || readdirSync(join(root, 'trash', t)).length === 0),
    );
    assert.equal(existsSync(live), true);
    await store.close();
    await eventually('the live owner’s trash deleted after its close', () => !existsSync(live));
  });
});
