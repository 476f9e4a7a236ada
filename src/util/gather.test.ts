import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { gatherChunks } from './gather.js';

/** Every write the destination sees, as it sees it (a file stream's writes). */
async function writesOf(pieces: Buffer[], bytes?: number): Promise<Buffer[]> {
  const writes: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk);
      done();
    },
  });
  await pipeline(Readable.from(pieces), gatherChunks(bytes), sink);
  return writes;
}

test('small pieces reach the file gathered, every byte in order', async () => {
  const pieces = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000, i));
  const writes = await writesOf(pieces, 4000);
  assert.deepEqual(
    writes.map((b) => b.length),
    [...Array(12).fill(4000), 2000],
  );
  assert.ok(Buffer.concat(writes).equals(Buffer.concat(pieces)));
});

test('an empty stream writes nothing', async () => {
  assert.deepEqual(await writesOf([]), []);
});
