/** A `dir:` image's signature files, laid out as containers/image's dir transport keeps them. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { dirSignaturesOf, readDirSignatures, writeDirSignatures } from './dir.js';

describe('dir: signature files', { timeout: 20_000 }, () => {
  it("writes signature-N for the top manifest and <hex>.signature-N for an index's child, and reads each back", async () => {
    const d = mkdtempSync(join(tmpdir(), 'berth-dir-sigs-'));
    try {
      const manifest = Buffer.from('{"schemaVersion":2}');
      writeFileSync(join(d, 'manifest.json'), manifest);
      const child = `sha256:${'ab'.repeat(32)}`;
      await writeDirSignatures(d, [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]);
      await writeDirSignatures(d, [Buffer.from('child')], child);
      // Put again with fewer: the set is replaced, the extra file removed.
      await writeDirSignatures(d, [Buffer.from('one'), Buffer.from('two')]);
      assert.deepEqual(readdirSync(d).sort(), [`${'ab'.repeat(32)}.signature-1`, 'manifest.json', 'signature-1', 'signature-2']);
      assert.deepEqual((await readDirSignatures(d)).map(String), ['one', 'two']);
      assert.deepEqual((await dirSignaturesOf(d, digestOf(manifest))).map(String), ['one', 'two']);
      assert.deepEqual((await dirSignaturesOf(d, child)).map(String), ['child']);
      assert.deepEqual(await dirSignaturesOf(d, `sha256:${'cd'.repeat(32)}`), []);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
