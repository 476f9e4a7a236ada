import assert from 'node:assert/strict';
import { createReadStream, linkSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { writeUserFile, writeUserFileStream } from './user-file.js';
import { inScratch, mkfifo } from '../testing/scratch.js';

/** Everything written into the FIFO, read by a reader opened alongside the writer. */
async function drain(fifo: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of createReadStream(fifo)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('writeUserFile and writeUserFileStream', { timeout: 20_000 }, () => {
  test('a FIFO, and a symlink to one, are written in place and stay what they are', () =>
    inScratch(async (dir) => {
      const fifo = join(dir, 'fifo');
      const link = join(dir, 'link');
      mkfifo(fifo);
      symlinkSync(fifo, link);
      const [got] = await Promise.all([drain(fifo), writeUserFile(fifo, 'sha256:abc')]);
      assert.equal(got, 'sha256:abc');
      const [viaLink] = await Promise.all([drain(fifo), writeUserFileStream(link, (out) => pipeline(Readable.from(['a', 'b']), out))]);
      assert.equal(viaLink, 'ab');
      assert.ok(lstatSync(fifo).isFIFO());
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.deepEqual(readdirSync(dir).sort(), ['fifo', 'link']);
    }));

  test('a regular file is replaced whole (a new inode, its mode kept) and no temp file is left', () =>
    inScratch(async (dir) => {
      const file = join(dir, 'iid');
      const other = join(dir, 'hardlink');
      writeFileSync(file, 'old', { mode: 0o640 });
      linkSync(file, other);
      const before = statSync(file).ino;
      await writeUserFile(file, 'new');
      assert.equal(readFileSync(file, 'utf8'), 'new');
      assert.notEqual(statSync(file).ino, before, 'renamed over, not rewritten in place');
      assert.equal(readFileSync(other, 'utf8'), 'old');
      assert.equal(statSync(file).mode & 0o777, 0o640);
      assert.deepEqual(readdirSync(dir).sort(), ['hardlink', 'iid']);
    }));

  test('a symlink to a regular file stays a link; its target is replaced; an asked-for mode is exact', () =>
    inScratch(async (dir) => {
      const target = join(dir, 'auth.json');
      const link = join(dir, 'link.json');
      writeFileSync(target, '{}', { mode: 0o644 });
      symlinkSync('auth.json', link);
      await writeUserFile(link, '{"auths":{}}', { mode: 0o600 });
      assert.ok(lstatSync(link).isSymbolicLink());
      assert.equal(readFileSync(target, 'utf8'), '{"auths":{}}');
      assert.equal(statSync(target).mode & 0o777, 0o600);
    }));

  test('a failed stream leaves the old file and no temp file', () =>
    inScratch(async (dir) => {
      const file = join(dir, 'out.tar');
      writeFileSync(file, 'old');
      const failing = (out: NodeJS.WritableStream) =>
        pipeline(
          Readable.from(
            (async function* () {
              yield 'partial';
              throw new Error('source broke');
            })(),
          ),
          out as never,
        );
      await assert.rejects(writeUserFileStream(file, failing), /source broke/);
      assert.equal(readFileSync(file, 'utf8'), 'old');
      assert.deepEqual(readdirSync(dir), ['out.tar']);
    }));

  test('a name not there yet is created', () =>
    inScratch(async (dir) => {
      const file = join(dir, 'digest');
      await writeUserFile(file, 'x');
      assert.equal(readFileSync(file, 'utf8'), 'x');
    }));
});
