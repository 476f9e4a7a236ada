import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readFileAtMost } from './read-limits.js';
import { writeUserFile } from './user-file.js';
import { inScratch, mkfifo } from '../testing/scratch.js';

describe('readFileAtMost', { timeout: 10_000 }, () => {
  test('reads a file up to the limit and refuses a larger one before reading, with one line naming it', () =>
    inScratch(async (dir) => {
      const file = join(dir, 'config.json');
      writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 'a'));
      assert.equal((await readFileAtMost(file, 3 * 1024 * 1024, 'config')).length, 3 * 1024 * 1024);
      await assert.rejects(readFileAtMost(file, 2 * 1024 * 1024, 'a.tar: image config x.json'), {
        name: 'BerthError',
        message: 'a.tar: image config x.json is 3 MiB, more than the 2 MiB berth accepts',
      });
    }));

  test('counts what a FIFO (no size) delivers', () =>
    inScratch(async (dir) => {
      const fifo = join(dir, 'fifo');
      mkfifo(fifo);
      // The writer fails with EPIPE once the refusing reader closes its end.
      const feeding = writeUserFile(fifo, Buffer.alloc(3000, 'b')).catch(() => undefined);
      await assert.rejects(readFileAtMost(fifo, 2048, 'manifest'), { message: 'manifest is larger than the 2048 bytes berth accepts' });
      await feeding;
    }));
});
