import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { isBerthError } from '../util/errors.js';
import { autoDecompress, compressStream, decompressStream, detectCompression, type Compression } from './compression.js';
import { childrenNamed, streamOf } from './_testing.js';

const dir = (name: string): string => fixture('containers-image', 'pkg', 'compression', 'fixtures', name);

async function collect(s: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of s) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

async function roundTrip(kind: Compression, data: Buffer, level?: number): Promise<{ compressed: Buffer; back: Buffer }> {
  const c = compressStream(kind, level);
  const [compressed] = await Promise.all([collect(c), pipeline(streamOf(data, 65536), c)]);
  const back = await collect(await autoDecompress(streamOf(compressed, 1000)));
  return { compressed, back };
}

async function noChild(command: string): Promise<void> {
  for (let i = 0; i < 100 && childrenNamed(command).length > 0; i++) await sleep(20);
  assert.deepEqual(childrenNamed(command), [], `a ${command} process was left behind`);
}

describe('detectCompression', () => {
  it('recognises the fixtures by their magic bytes', () => {
    assert.equal(detectCompression(readFileSync(dir('Hello.gz'))), 'gzip');
    assert.equal(detectCompression(readFileSync(dir('Hello.zst'))), 'zstd');
    assert.equal(detectCompression(readFileSync(dir('Hello.uncompressed'))), 'none');
    assert.equal(detectCompression(Buffer.alloc(0)), 'none');
    assert.equal(detectCompression(Buffer.from([0x1f])), 'none');
    assert.equal(detectCompression(Buffer.from([0x5e, 0x2a, 0x4d, 0x18])), 'zstd'); // skippable frame
  });

  it('refuses bzip2 and xz by name', () => {
    for (const [file, word] of [
      ['Hello.bz2', 'bzip2'],
      ['Hello.xz', 'xz'],
    ] as const) {
      assert.throws(
        () => detectCompression(readFileSync(dir(file))),
        (e: unknown) => isBerthError(e, 'ARCHIVE_INVALID') && e.message.startsWith(`${word}-compressed data is not supported`),
      );
    }
  });
});

describe('autoDecompress', () => {
  const expected = (): Buffer => readFileSync(dir('Hello.uncompressed'));

  for (const name of ['Hello.gz', 'Hello.zst', 'Hello.uncompressed']) {
    it(`decompresses ${name}`, async () => {
      assert.deepEqual(await collect(await autoDecompress(createReadStream(dir(name)))), expected());
      // one byte per chunk: the peek must gather the magic across chunks
      assert.deepEqual(await collect(await autoDecompress(streamOf(readFileSync(dir(name)), 1))), expected());
    });
  }

  it('passes short and empty inputs through', async () => {
    assert.deepEqual(await collect(await autoDecompress(streamOf(Buffer.alloc(0)))), Buffer.alloc(0));
    assert.deepEqual(await collect(await autoDecompress(streamOf(Buffer.from('ab')))), Buffer.from('ab'));
    const s = new Readable({ read() {} });
    s.push(Buffer.from('abc'));
    setTimeout(() => s.push(null), 20); // ends while the peek waits
    assert.deepEqual(await collect(await autoDecompress(s)), Buffer.from('abc'));
  });

  it('rejects bzip2 and xz', async () => {
    await assert.rejects(autoDecompress(createReadStream(dir('Hello.xz'))), (e: unknown) => isBerthError(e, 'ARCHIVE_INVALID'));
    await assert.rejects(autoDecompress(createReadStream(dir('Hello.bz2'))), (e: unknown) => isBerthError(e, 'ARCHIVE_INVALID'));
  });

  it('surfaces an error of the input on the decompressed stream', async () => {
    const gz = readFileSync(dir('Hello.gz'));
    const input = new Readable({ read() {} });
    input.push(gz.subarray(0, 10));
    const out = await autoDecompress(input);
    setTimeout(() => input.destroy(new Error('network went away')), 10);
    await assert.rejects(collect(out), /network went away/);
  });

  it('reports corrupt gzip as ARCHIVE_INVALID', async () => {
    const gz = Buffer.from(readFileSync(dir('Hello.gz')));
    gz.fill(0x55, 10, 20);
    await assert.rejects(collect(await autoDecompress(streamOf(gz))), (e: unknown) => isBerthError(e, 'ARCHIVE_INVALID') && /^gzip/.test(e.message));
  });
});

describe("zstd in Node's zlib", () => {
  it('round-trips large data with backpressure', async () => {
    const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(5 << 20, 7)]);
    const { compressed, back } = await roundTrip('zstd', data, 5);
    assert.equal(detectCompression(compressed), 'zstd');
    assert.ok(compressed.length < data.length);
    assert.ok(back.equals(data));
    await noChild('zstd');
  });

  it('compresses deterministically', async () => {
    const data = randomBytes(1 << 20);
    assert.ok((await roundTrip('zstd', data)).compressed.equals((await roundTrip('zstd', data)).compressed));
  });

  it("fails with zstd's own message on corrupt data, and leaves no process", async () => {
    const zst = Buffer.from(readFileSync(dir('Hello.zst')));
    zst.fill(0xaa, 6); // keep the magic, break the frame
    await assert.rejects(
      collect(await autoDecompress(streamOf(zst))),
      (e: unknown) => isBerthError(e, 'ARCHIVE_INVALID') && /^zstd decompression failed: .+/.test(e.message),
    );
    await noChild('zstd');
  });

  it('fails on a truncated frame', async () => {
    const { compressed } = await roundTrip('zstd', randomBytes(200_000));
    await assert.rejects(collect(await autoDecompress(streamOf(compressed.subarray(0, compressed.length - 100)))), (e: unknown) =>
      isBerthError(e, 'ARCHIVE_INVALID'),
    );
    await noChild('zstd');
  });

  it('starts no zstd process, and the zstd tool reads what it writes', async () => {
    const data = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(1 << 20, 3)]);
    const d = compressStream('zstd');
    const out = collect(d);
    d.end(data);
    const compressed = await out;
    assert.equal(childrenNamed('zstd').length, 0);
    const tool = spawnSync('zstd', ['-d', '-c', '-q'], { input: compressed, maxBuffer: 1 << 24, timeout: 30_000 });
    assert.equal(tool.status, 0, String(tool.stderr));
    assert.ok(Buffer.from(tool.stdout).equals(data));
  });
});

describe('gzip', () => {
  it('round-trips', async () => {
    const data = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(1 << 20)]);
    const { compressed, back } = await roundTrip('gzip', data, 9);
    assert.equal(detectCompression(compressed), 'gzip');
    assert.ok(back.equals(data));
  });

  it('passes "none" through both ways', async () => {
    const data = Buffer.concat([Buffer.from('plain'), randomBytes(100_000)]);
    assert.ok((await roundTrip('none', data)).back.equals(data));
    const d = decompressStream('none');
    const [out] = await Promise.all([collect(d), pipeline(streamOf(data), d)]);
    assert.ok(out.equals(data));
  });
});
