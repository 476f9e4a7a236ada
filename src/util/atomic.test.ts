import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { writeFileAtomic } from './atomic.js';

describe('writeFileAtomic', { timeout: 10_000 }, () => {
  for (const durable of [true, false]) {
    it(`replaces a file whole and leaves no temp file behind (durable: ${durable})`, async () => {
      const t = tempDir('berth-atomic-');
      try {
        const path = join(t.path, 'state.json');
        writeFileSync(path, 'old');
        await writeFileAtomic(path, '{"status":"running"}', 0o600, durable);
        assert.equal(readFileSync(path, 'utf8'), '{"status":"running"}');
        assert.deepEqual(readdirSync(t.path), ['state.json']);
      } finally {
        t.cleanup();
      }
    });
  }
});
