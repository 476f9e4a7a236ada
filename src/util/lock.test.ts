import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DirLock } from './lock.js';
import { processToken } from './process.js';

describe('DirLock', () => {
  test("a sweep spares a live process's half-made take (no owner file yet) and removes a dead one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    try {
      const lock = new DirLock(join(dir, 'store.lock'));
      const live = join(dir, `store.lock.take-${processToken()}-aaaa`);
      const dead = join(dir, 'store.lock.take-999999999-1-bbbb');
      const released = join(dir, 'store.lock.released-cccc');
      for (const d of [live, dead, released]) mkdirSync(d);
      await lock.sweepLeftovers();
      assert.ok(existsSync(live));
      assert.ok(!existsSync(dead));
      assert.ok(!existsSync(released));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tryWith runs only when the lock is free: not while this process or another holds it, and re-enters in the holding flow', {
    timeout: 10_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    try {
      const path = join(dir, 'c.lock');
      const lock = new DirLock(path);
      assert.deepEqual(await lock.tryWith(async () => 1), { value: 1 });
      let release!: () => void;
      const held = lock.with(() => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await lock.tryWith(async () => 2), undefined, 'held in this process');
      // Another process's lock (another instance on the same directory stands for it).
      assert.equal(await new DirLock(path).tryWith(async () => 3), undefined, 'held elsewhere');
      release();
      await held;
      assert.deepEqual(await lock.with(async () => lock.tryWith(async () => 4)), { value: 4 }, 'the holding flow re-enters');
      assert.ok(!existsSync(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('concurrent with() calls on one instance take turns; a nested call in the same flow re-enters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    try {
      const lock = new DirLock(join(dir, 'store.lock'));
      let inside = 0;
      let max = 0;
      let nested = 0;
      await Promise.all(
        Array.from({ length: 10 }, () =>
          lock.with(async () => {
            max = Math.max(max, ++inside);
            await new Promise((r) => setTimeout(r, 2));
            await lock.with(async () => {
              nested++;
            });
            inside--;
          }),
        ),
      );
      assert.equal(max, 1);
      assert.equal(nested, 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('many concurrent takers, each sweeping as a store open does, all get the lock in turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    try {
      let inside = 0;
      let max = 0;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const lock = new DirLock(join(dir, 'store.lock'));
          await lock.sweepLeftovers();
          await lock.with(async () => {
            max = Math.max(max, ++inside);
            await new Promise((r) => setTimeout(r, 1));
            inside--;
          });
        }),
      );
      assert.equal(max, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a lock removed from under its holder is released without an error', { timeout: 10_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-lock-'));
    try {
      const lock = new DirLock(join(dir, 'c.lock'));
      await lock.with(async () => rmSync(join(dir, 'c.lock'), { recursive: true }));
      await lock.with(async () => undefined); // and it can be taken again
      assert.ok(!existsSync(join(dir, 'c.lock')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
