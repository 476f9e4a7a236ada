import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DirChanges } from './dir-changes.js';

describe('DirChanges', { timeout: 30_000 }, () => {
  it('wakes at a change to the named file, not at one to another file, and after the interval regardless', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-dir-changes-'));
    const changes = new DirChanges(dir, 'exit');
    try {
      let woke = false;
      const waiting = changes.next(20_000).then(() => (woke = true));
      writeFileSync(join(dir, 'other'), 'x');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(woke, false, 'another file does not wake it');
      writeFileSync(join(dir, 'exit'), '0');
      await waiting;
      assert.equal(woke, true);
      await changes.next(10); // nothing changes: the interval ends it
    } finally {
      changes.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('polls when the directory cannot be watched', async () => {
    const changes = new DirChanges(join(tmpdir(), 'berth-no-such-dir', 'x'));
    await changes.next(10);
    changes.close();
  });
});
