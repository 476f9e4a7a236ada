import assert from 'node:assert/strict';
import { test } from 'node:test';
import { siblingChunkUrl } from './sibling-chunks.js';

const dir = 'file:///opt/berth/dist/cli/';
const parent = `${dir}main.mjs`;

test("a chunk's sibling is that file in the bundle's directory", { timeout: 5_000 }, () => {
  assert.equal(siblingChunkUrl('./chunk-AB12CD.mjs', parent, dir), `${dir}chunk-AB12CD.mjs`);
  assert.equal(siblingChunkUrl('./run-X9.mjs', `${dir}chunk-AB12CD.mjs`, dir), `${dir}run-X9.mjs`);
});

test('anything else is left to Node', { timeout: 5_000 }, () => {
  for (const specifier of [
    'node:fs',
    'commander',
    '../lib/index.js',
    './sub/chunk.mjs',
    './chunk.js',
    './chunk.mjs?x=1',
    './%2e%2e/x.mjs',
    '/abs/x.mjs',
    './/x.mjs',
  ]) {
    assert.equal(siblingChunkUrl(specifier, parent, dir), undefined, specifier);
  }
  // From outside the bundle's directory (a test, a library caller), or with no importer.
  assert.equal(siblingChunkUrl('./chunk-AB12CD.mjs', 'file:///opt/berth/dist/lib/index.js', dir), undefined);
  assert.equal(siblingChunkUrl('./chunk-AB12CD.mjs', 'file:///opt/berth/dist/cli/sub/x.mjs', dir), undefined);
  assert.equal(siblingChunkUrl('./chunk-AB12CD.mjs', undefined, dir), undefined);
});
