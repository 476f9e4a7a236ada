import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { lightStdio } from './light-stdio.js';

/** A stand-in for Node's own stdout: what reaches it, in order. */
function nodeStandIn(): { stream: NodeJS.WriteStream; text: () => string } {
  const pass = new PassThrough();
  const chunks: Buffer[] = [];
  pass.on('data', (c: Buffer) => chunks.push(c));
  return { stream: pass as unknown as NodeJS.WriteStream, text: () => Buffer.concat(chunks).toString() };
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (e) => (e ? reject(e) : resolve())));
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: write`), { code, syscall: 'write' });
}

describe('light stdio', { timeout: 10_000 }, () => {
  it('writes a regular file in order, at once, without Node’s own stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
    const fd = openSync(join(dir, 'out'), 'w');
    try {
      let asked = false;
      const out = lightStdio(fd, () => {
        asked = true;
        return nodeStandIn().stream;
      });
      assert.ok(out, 'a file gets the light stream');
      assert.equal((out as unknown as { fd: number }).fd, fd);
      assert.equal(out.isTTY, undefined);
      out.write('one\n');
      out.write(Buffer.from('two\n'));
      // Written when write() returns: nothing waits for the event loop.
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'one\ntwo\n');
      await write(out, 'three\n');
      assert.equal(readFileSync(join(dir, 'out'), 'utf8'), 'one\ntwo\nthree\n');
      assert.equal(asked, false);
      out.destroy();
      writeSync(fd, 'still open\n');
      assert.match(readFileSync(join(dir, 'out'), 'utf8'), /still open\n$/);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives a pipe its first 4 KiB directly and the rest through Node’s stream, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = openSync(fifo, 'w');
    try {
      const node = nodeStandIn();
      const out = lightStdio(fd, () => node.stream);
      assert.ok(out, 'a pipe gets the light stream');
      await write(out, 'a'.repeat(4000));
      await write(out, 'b'.repeat(200));
      await write(out, 'c');
      const direct = Buffer.alloc(8192);
      assert.equal(readSync(reader, direct), 4000, 'what fits the budget went to the pipe at once');
      assert.equal(node.text(), `${'b'.repeat(200)}c`, 'the chunk past it and all after went to Node’s stream');
    } finally {
      closeSync(fd);
      closeSync(reader);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a character device (a terminal, /dev/null) to Node', () => {
    const fd = openSync('/dev/null', 'w');
    try {
      assert.equal(
        lightStdio(fd, () => nodeStandIn().stream),
        undefined,
      );
    } finally {
      closeSync(fd);
    }
  });

  it('on EAGAIN hands the rest of the chunk and every later one to Node’s stream, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
    const fd = openSync(join(dir, 'out'), 'w');
    try {
      const written: string[] = [];
      let calls = 0;
      // The first call takes 3 bytes, the second finds the pipe full.
      const fake = ((_fd: number, buf: Buffer, off: number, len: number) => {
        calls++;
        if (calls === 1) {
          written.push(buf.subarray(off, off + 3).toString());
          return 3;
        }
        if (calls === 2) throw errno('EAGAIN');
        written.push(buf.subarray(off, off + len).toString());
        return len;
      }) as unknown as typeof writeSync;
      const node = nodeStandIn();
      const out = lightStdio(fd, () => node.stream, fake);
      assert.ok(out);
      await write(out, 'abcdef');
      await write(out, 'ghi');
      assert.deepEqual(written, ['abc']);
      assert.equal(node.text(), 'defghi');
      assert.equal(calls, 2, 'nothing is written directly once Node’s stream has taken over');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports any other failure (a closed pipe) as the stream’s error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-stdio-'));
    const fd = openSync(join(dir, 'out'), 'w');
    try {
      const fake = (() => {
        throw errno('EPIPE');
      }) as unknown as typeof writeSync;
      const out = lightStdio(fd, () => nodeStandIn().stream, fake);
      assert.ok(out);
      const failed = new Promise<NodeJS.ErrnoException>((resolve) => out.once('error', resolve));
      out.write('x');
      assert.equal((await failed).code, 'EPIPE');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
