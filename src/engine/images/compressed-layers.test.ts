import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { CompressedLayers } from './compressed-layers.js';

const layer = (n: number) => digestOf(`layer ${n}`);
const gz = (n: number, level?: number) => ({
  digest: digestOf(`gzip ${n} ${level}`),
  size: 100 + n,
  compression: 'gzip' as const,
  ...(level !== undefined ? { level } : {}),
});

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'berth-compressed-layers-'));
  try {
    await fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('compressed layers remembered in the store', { timeout: 30_000 }, () => {
  it('remembers blobs per stored layer, most recent first, across opens', () =>
    withRoot(async (root) => {
      const a = await CompressedLayers.open(root);
      assert.deepEqual(a.of(layer(1)), []);
      a.add(layer(1), gz(1));
      a.add(layer(1), gz(1, 1));
      a.add(layer(1), gz(1)); // again: back to the front, not twice
      await a.save();
      const b = await CompressedLayers.open(root);
      assert.deepEqual(b.of(layer(1)), [gz(1), gz(1, 1)]);
    }));

  it('merges with what another process saved meanwhile', () =>
    withRoot(async (root) => {
      const a = await CompressedLayers.open(root);
      const b = await CompressedLayers.open(root);
      a.add(layer(1), gz(1));
      b.add(layer(2), gz(2));
      await a.save();
      await b.save();
      const c = await CompressedLayers.open(root);
      assert.deepEqual(c.of(layer(1)), [gz(1)]);
      assert.deepEqual(c.of(layer(2)), [gz(2)]);
    }));

  it('starts afresh from a broken file and drops entries that are not blobs', () =>
    withRoot(async (root) => {
      const file = join(root, 'compressed-layers.json');
      writeFileSync(file, '{"layers": {');
      assert.deepEqual((await CompressedLayers.open(root)).of(layer(1)), []);
      writeFileSync(
        file,
        JSON.stringify({
          layers: {
            [layer(1)]: [gz(1), { digest: 'sha256:nope', size: 1, compression: 'gzip' }, { ...gz(3), compression: 'brotli' }],
            'not-a-digest': [gz(2)],
          },
        }),
      );
      const c = await CompressedLayers.open(root);
      assert.deepEqual(c.of(layer(1)), [gz(1)]);
      assert.deepEqual(c.of('not-a-digest'), []);
      // Nothing added: nothing written.
      await c.save();
      assert.match(readFileSync(file, 'utf8'), /brotli/);
    }));
});
