import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { nodeCrypto, randomBytes, randomInt } from './crypto.js';
import { nativeCalls } from './native.js';

const lib = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('node:crypto loaded on first use', { timeout: 30_000 }, () => {
  it('the modules every container command loads do not load node:crypto until it is used', () => {
    const modules = [
      './atomic.js',
      './lock.js',
      './user-file.js',
      '../oci/digest.js',
      '../store/container-state.js',
      '../store/overlay.js',
      '../store/store.js',
    ];
    const script = `const loaded = () => process.moduleLoadList.some((m) => m === 'NativeModule crypto');
      for (const m of ${JSON.stringify(modules.map(lib))}) await import(m);
      const before = loaded();
      const { digestOf } = await import(${JSON.stringify(lib('../oci/digest.js'))});
      digestOf(Buffer.from('x'));
      const afterDigest = loaded();
      (await import(${JSON.stringify(lib('./crypto.js'))})).nodeCrypto();
      console.log(JSON.stringify([before, afterDigest, loaded()]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    // A digest is the native addon's where it is built (as here: util/hash.test checks it), so it
    // loads node:crypto only without the addon.
    assert.deepEqual(JSON.parse(out), [false, nativeCalls() === undefined, true]);
  });

  it('gives the one node:crypto module', async () => {
    assert.equal(nodeCrypto(), await import('node:crypto').then((m) => m.default));
  });

  it('draws random bytes and integers without it: the lengths asked, values that differ, integers in range', () => {
    assert.equal(randomBytes(32).length, 32);
    assert.equal(randomBytes(0).length, 0);
    assert.notDeepEqual(randomBytes(16), randomBytes(16));
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = randomInt(7);
      assert.ok(Number.isInteger(v) && v >= 0 && v < 7, String(v));
      seen.add(v);
    }
    assert.equal(seen.size, 7, 'every value in range turns up in 2000 draws');
    assert.equal(randomInt(1), 0);
  });

  it('serves them from a pool read ahead, past its end and beyond its size, never the same bytes twice', () => {
    // 4 KiB pools: draws that cross a pool's end, and one larger than a pool.
    const draws = Array.from({ length: 300 }, () => randomBytes(32).toString('hex'));
    assert.equal(new Set(draws).size, draws.length);
    const big = randomBytes(10_000);
    assert.equal(big.length, 10_000);
    assert.ok(big.some((b) => b !== 0));
    // A caller's change to its bytes reaches no later draw.
    const mine = randomBytes(8);
    mine.fill(0);
    assert.notDeepEqual(randomBytes(8), mine);
  });
});
