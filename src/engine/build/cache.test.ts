import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { baseImage, commitImage } from '../images/commit.js';
import { Store } from '../../store/store.js';
import { tempDir } from '../../testing/cli.js';
import { BuildCache } from './cache.js';

/** An image without layers, made as a build step makes one: `n` tells images apart. */
async function image(store: Store, n: number): Promise<string> {
  const { record } = await commitImage(store, await baseImage(store, undefined), { config: { Env: [`N=${n}`] }, format: 'oci' });
  return record.id;
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('build cache index', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('appends one line per recorded step, never rewriting what is there', async () => {
    const store = await Store.open({ root: join(tmp.path, 'append') });
    try {
      const [a, b] = [await image(store, 1), await image(store, 2)];
      const cache = new BuildCache(store);
      const log = join(store.root, 'build-cache.jsonl');
      await cache.record('k1', a, 'scratch');
      const first = readFileSync(log, 'utf8');
      await cache.record('k2', b, a);
      assert.ok(readFileSync(log, 'utf8').startsWith(first), 'the first line stays as it was written');
      assert.equal(lines(log).length, 2);
      assert.equal(existsSync(join(store.root, 'build-cache.json')), false);
      assert.equal(await new BuildCache(store).lookup('k1'), a);
      assert.equal(await new BuildCache(store).lookup('k2'), b);
      assert.deepEqual(
        await cache.links(),
        new Map([
          [a, 'scratch'],
          [b, a],
        ]),
      );
      // A later line for the same key wins.
      await cache.record('k1', b, 'scratch');
      assert.equal(await new BuildCache(store).lookup('k1'), b);
    } finally {
      await store.close();
    }
  });

  it('reads the old build-cache.json and folds it into the log', async () => {
    const store = await Store.open({ root: join(tmp.path, 'legacy') });
    try {
      const a = await image(store, 1);
      const legacy = join(store.root, 'build-cache.json');
      writeFileSync(legacy, JSON.stringify({ version: 1, entries: { old: { image: a, parent: 'scratch' }, gone: { image: 'sha256:0000', parent: a } } }));
      assert.deepEqual(await new BuildCache(store).images(), new Set([a, 'sha256:0000']));
      assert.equal(await new BuildCache(store).lookup('old'), a);
      // That first lookup compacted: the live entry is in the log, the old file and the dead entry gone.
      assert.equal(existsSync(legacy), false);
      assert.deepEqual(
        lines(join(store.root, 'build-cache.jsonl')).map((l) => JSON.parse(l) as unknown),
        [{ key: 'old', image: a, parent: 'scratch' }],
      );
      assert.equal(await new BuildCache(store).lookup('gone'), undefined);
    } finally {
      await store.close();
    }
  });

  it('skips a line cut short, and sweeps the entries whose image is gone', async () => {
    const store = await Store.open({ root: join(tmp.path, 'sweep') });
    try {
      const a = await image(store, 1);
      const cache = new BuildCache(store);
      await cache.record('live', a, 'scratch');
      await cache.record('dead', 'sha256:1111', a);
      const log = join(store.root, 'build-cache.jsonl');
      appendFileSync(log, '{"key":"torn","ima');
      assert.deepEqual(await new BuildCache(store).images(), new Set([a, 'sha256:1111']));
      assert.equal(await new BuildCache(store).sweep(), 1);
      assert.deepEqual(
        lines(log).map((l) => (JSON.parse(l) as { key: string }).key),
        ['live'],
      );
      assert.equal(await new BuildCache(store).sweep({ all: true }), 1);
      assert.deepEqual(lines(log), []);
    } finally {
      await store.close();
    }
  });

  it('compacts the log once it has grown well past its live entries', async () => {
    const store = await Store.open({ root: join(tmp.path, 'compact') });
    try {
      const a = await image(store, 1);
      const log = join(store.root, 'build-cache.jsonl');
      const line = JSON.stringify({ key: 'same', image: a, parent: 'scratch' });
      writeFileSync(log, `${line}\n`.repeat(1500));
      assert.equal(await new BuildCache(store).lookup('same'), a);
      assert.equal(lines(log).length, 1);
    } finally {
      await store.close();
    }
  });
});
