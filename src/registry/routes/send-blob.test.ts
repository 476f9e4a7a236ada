// Blob downloads through the real server, where they go out through recycled buffers: a buffer must
// never be refilled while a socket still reads it, and a client that leaves must not keep a file open.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { startRegistry, type RunningRegistry } from '../server.js';

const REPO = 'send/blob';

async function push(url: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  const res = await fetch(`${url}/v2/${REPO}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: new Uint8Array(data),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

async function download(url: string, digest: string, range?: string): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const res = await fetch(`${url}/v2/${REPO}/blobs/${digest}`, range ? { headers: { Range: range } } : {});
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

/** Reads a download slowly at first, so that the socket falls behind and writes queue up behind it. */
function slowDownload(url: string, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v2/${REPO}/blobs/${digest}`, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (chunks.length % 8 === 1) {
          res.pause();
          setTimeout(() => res.resume(), 30);
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads the first bytes of a download, then drops the connection. */
function abandon(url: string, digest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v2/${REPO}/blobs/${digest}`, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end();
  });
}

async function openBlobFiles(storage: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target.startsWith(join(storage, 'blobs'))) n++;
  }
  return n;
}

describe('blob downloads from the server', () => {
  let dir = '';
  let registry: RunningRegistry | undefined;
  // Several chunks each, of sizes that do not divide evenly into them.
  const a = randomBytes(3 * 1024 * 1024 + 12345);
  const b = randomBytes(2 * 1024 * 1024 + 777);
  let da = '';
  let db = '';
  // Larger than loopback's socket buffers, so that a slow reader leaves writes pending.
  const c = randomBytes(24 * 1024 * 1024);
  let dc = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-send-blob-'));
    registry = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage') });
    da = await push(registry.url, a);
    db = await push(registry.url, b);
    dc = await push(registry.url, c);
  });
  after(async () => {
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves every byte of concurrent downloads while others are abandoned midway', async () => {
    const url = registry!.url;
    const results = await Promise.all([
      ...[0, 1, 2, 3].map((i) => download(url, i % 2 ? da : db)),
      abandon(url, da),
      abandon(url, db),
      ...[0, 1, 2, 3].map((i) => download(url, i % 2 ? db : da)),
    ]);
    for (const r of results) {
      if (!r) continue;
      assert.equal(r.status, 200);
      const expected = r.headers.get('docker-content-digest');
      assert.equal(digestOf(r.body), expected);
      assert.equal(Number(r.headers.get('content-length')), r.body.length);
    }
  });

  it('sends the right bytes to a reader slower than the disk', async () => {
    const [slow, fast] = await Promise.all([slowDownload(registry!.url, dc), download(registry!.url, da)]);
    assert.equal(digestOf(slow), dc);
    assert.equal(digestOf(fast.body), da);
  });

  it('serves ranges that start and end inside chunks', async () => {
    for (const [range, start, end] of [
      ['bytes=100000-700000', 100000, 700000],
      ['bytes=262143-262144', 262143, 262144],
      ['bytes=-5', a.length - 5, a.length - 1],
      [`bytes=${a.length - 1}-`, a.length - 1, a.length - 1],
    ] as const) {
      const r = await download(registry!.url, da, range);
      assert.equal(r.status, 206, range);
      assert.ok(r.body.equals(a.subarray(start, end + 1)), range);
      assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${a.length}`);
    }
  });

  it('closes the blob file of every download, finished or abandoned', async () => {
    const storage = join(dir, 'storage');
    await abandon(registry!.url, da);
    await download(registry!.url, db);
    let open = await openBlobFiles(storage);
    for (let i = 0; i < 50 && open > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      open = await openBlobFiles(storage);
    }
    assert.equal(open, 0);
  });
});
