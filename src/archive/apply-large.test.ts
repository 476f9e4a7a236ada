import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import { applyLayer } from './apply.js';
import { encodeHeader, END_OF_ARCHIVE, padding } from './_tar-writer.js';
import { tempDir } from './_testing.js';

const SIZE = 300 * 1024 * 1024 + 123; // not a whole number of blocks
const CHUNK = 64 * 1024; // what fs and zlib streams give

/** A tar with one SIZE-byte file, generated chunk by chunk in fresh buffers, hashed as it goes. */
function bigTar(): { stream: Readable; digest: () => string; contentDigest: () => string } {
  const tarHash = createHash('sha256');
  const contentHash = createHash('sha256');
  async function* gen(): AsyncGenerator<Buffer> {
    const emit = (b: Buffer): Buffer => (tarHash.update(b), b);
    yield emit(encodeHeader({ name: 'data/big.bin', type: 'file', mode: 0o644, uid: 0, gid: 0, size: SIZE, mtime: 1_600_000_000 }));
    for (let off = 0, i = 0; off < SIZE; off += CHUNK, i++) {
      const b = Buffer.allocUnsafe(Math.min(CHUNK, SIZE - off)).fill(i % 251);
      contentHash.update(b);
      yield emit(b);
      // Let timers run now and then, as a stream fed by I/O does: the RSS sampler needs them.
      if (i % 16 === 15) await new Promise((res) => setImmediate(res));
    }
    yield emit(padding(SIZE));
    yield emit(END_OF_ARCHIVE);
  }
  return {
    stream: Readable.from(gen(), { objectMode: false }),
    digest: () => `sha256:${tarHash.digest('hex')}`,
    contentDigest: () => contentHash.digest('hex'),
  };
}

it('streams a 300 MB file to disk with flat memory', async (t) => {
  const { dir: base, cleanup } = await tempDir();
  try {
    const dir = join(base, 'layer');
    await mkdir(dir);
    const tar = bigTar();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let samples = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
      samples++;
    }, 10);
    const started = process.hrtime.bigint();
    let result;
    try {
      result = await applyLayer(tar.stream, dir);
    } finally {
      clearInterval(sampler);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMB = (peak - baseline) / 2 ** 20;
    t.diagnostic(
      `300 MB in ${seconds.toFixed(2)} s (${(SIZE / 2 ** 20 / seconds).toFixed(0)} MB/s), peak RSS growth ${growthMB.toFixed(1)} MB (${samples} samples)`,
    );

    assert.equal(result.diffID, tar.digest());
    assert.equal(result.size, SIZE);
    const file = join(dir, 'data/big.bin');
    assert.equal((await stat(file)).size, SIZE);
    const h = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
    assert.equal(h.digest('hex'), tar.contentDigest());
    assert.ok(samples > 10, 'memory was sampled while unpacking');
    assert.ok(growthMB < 100, `RSS grew by ${growthMB.toFixed(1)} MB`);
  } finally {
    await cleanup();
  }
});
