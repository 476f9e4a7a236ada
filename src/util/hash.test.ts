import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createStreamHash, hashHex } from './hash.js';
import { nativeCalls } from './native.js';

describe('stream hashes (the addon where built, else node:crypto)', { timeout: 30_000 }, () => {
  test('the addon is built here and takes the digests', () => {
    const calls = nativeCalls();
    assert.ok(calls, 'the native addon is not built');
    assert.equal(calls.hashDigest(calls.hashStart('sha256')), createHash('sha256').digest('hex'));
  });

  test('sha256 and sha512 of any input in any pieces are node:crypto digests', () => {
    for (const size of [0, 1, 63, 64, 65, 1000, 1 << 20, (3 << 20) + 7]) {
      const data = randomBytes(size);
      for (const algorithm of ['sha256', 'sha512'] as const) {
        const h = createStreamHash(algorithm);
        for (let at = 0; at < size; ) {
          const n = Math.min(size - at, 1 + ((at * 7919) % 200_000));
          h.update(data.subarray(at, at + n));
          at += n;
        }
        assert.equal(h.hex(), createHash(algorithm).update(data).digest('hex'), `${algorithm} of ${size} bytes`);
      }
    }
    assert.equal(hashHex('sha256', 'é and a string'), createHash('sha256').update('é and a string', 'utf8').digest('hex'));
  });

  test('a finished hash takes no more, and an unknown algorithm is refused', () => {
    const h = createStreamHash('sha256');
    h.hex();
    assert.throws(() => h.update('more'));
    const calls = nativeCalls()!;
    assert.throws(() => calls.hashStart('md5'), /sha256 or sha512/);
  });

  test('without the addon (BERTH_NO_NATIVE=1) the digests are the same', () => {
    const script = `import(${JSON.stringify(new URL('./hash.js', import.meta.url).href)}).then(({ hashHex }) => console.log(hashHex('sha256', 'abc'), hashHex('sha512', '')))`;
    const out = execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, BERTH_NO_NATIVE: '1' },
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    assert.equal(out.trim(), `${createHash('sha256').update('abc').digest('hex')} ${createHash('sha512').digest('hex')}`);
  });
});
