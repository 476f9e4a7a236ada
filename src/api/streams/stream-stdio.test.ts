import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { streamStdio } from './stream-stdio.js';

const written = (out: PassThrough) => {
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
};

describe('stream-stdio', { timeout: 10_000 }, () => {
  test('without a TTY each write is a frame of its stream; streams not asked for are dropped', async () => {
    const out = new PassThrough();
    const got = written(out);
    const io = streamStdio(out, { tty: false, stdout: true, stderr: false });
    io.stdout.write(Buffer.from('hi'));
    io.stderr.write(Buffer.from('no'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got(), Buffer.from([1, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]));
  });

  test('with a TTY the bytes go as they are', async () => {
    const out = new PassThrough();
    const got = written(out);
    const io = streamStdio(out, { tty: true, stdout: true, stderr: true });
    io.stdout.write(Buffer.from('a'));
    io.stderr.write(Buffer.from('b'));
    await new Promise((r) => setImmediate(r));
    assert.equal(got().toString(), 'ab');
  });
});
