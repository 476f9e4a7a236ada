import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeDirs, makeDirsSync } from './dirs.js';
import { inScratch } from '../testing/scratch.js';

describe('makeDirs', { timeout: 10_000 }, () => {
  test("fails at once where Node's recursive mkdir retries forever (/proc/self) and under a file", () =>
    inScratch(async (dir) => {
      await assert.rejects(makeDirs('/proc/self/berth-x/tmp'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.message.includes('/proc/self/berth-x'));
      writeFileSync(join(dir, 'file'), '');
      await assert.rejects(makeDirs(join(dir, 'file', 'a', 'b')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR');
      await assert.rejects(makeDirs(join(dir, 'file')), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
    }));

  test('makes every missing parent, with the mode; an existing directory is fine; racing callers both succeed', () =>
    inScratch(async (dir) => {
      const deep = join(dir, 'a', 'b', 'c');
      await Promise.all([makeDirs(deep, 0o700), makeDirs(join(dir, 'a', 'b', 'd'), 0o700)]);
      assert.ok(statSync(deep).isDirectory());
      assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o700);
      await makeDirs(deep);
    }));

  test('makeDirsSync: the same answers in synchronous calls', () =>
    inScratch(async (dir) => {
      assert.throws(
        () => makeDirsSync('/proc/self/berth-x/tmp'),
        (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && e.message.includes('/proc/self/berth-x'),
      );
      writeFileSync(join(dir, 'file'), '');
      assert.throws(
        () => makeDirsSync(join(dir, 'file', 'a', 'b')),
        (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR',
      );
      assert.throws(
        () => makeDirsSync(join(dir, 'file')),
        (e: NodeJS.ErrnoException) => e.code === 'EEXIST',
      );
      const deep = join(dir, 's', 't', 'u');
      makeDirsSync(deep, 0o700);
      assert.ok(statSync(deep).isDirectory());
      assert.equal(statSync(join(dir, 's')).mode & 0o777, 0o700);
      makeDirsSync(deep);
    }));
});
