import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goFileMode, isGoDir, pathStatHeader } from './path-stat.js';

describe('path-stat', { timeout: 10_000 }, () => {
  test('Unix modes as Go’s os.FileMode', () => {
    assert.equal(goFileMode(0o100644), 0o644);
    assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755);
    assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
    assert.equal(goFileMode(0o020620), 2 ** 26 + 2 ** 21 + 0o620);
    assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
    assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755);
    assert.ok(isGoDir(goFileMode(0o040700)));
    assert.ok(!isGoDir(goFileMode(0o100700)));
  });

  test('the header is base64 JSON of name, size, mode, mtime, linkTarget', () => {
    const h = pathStatHeader({ name: 'etc', size: 4096, mode: 0o040755, mtime: new Date('2026-01-02T03:04:05.678Z'), linkTarget: '' });
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64').toString()), {
      name: 'etc',
      size: 4096,
      mode: 2 ** 31 + 0o755,
      mtime: '2026-01-02T03:04:05.678Z',
      linkTarget: '',
    });
  });
});
