import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { digestOf } from '../../oci/digest.js';
import { isBerthError } from '../../util/errors.js';
import { openBlob, uploadBlob } from './blobs.js';
import { RegistryClient } from './client.js';
import { networkErrorMessage, nextLink, retryAfterMs } from './_http.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A tiny registry stand-in on 127.0.0.1; `hits` records "METHOD path" of each request. */
async function serve(handler: Handler): Promise<{ host: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      handler(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, hits, close: () => new Promise((r) => server.close(() => r())) };
}

const fast = { retry: { baseDelayMs: 1, maxDelayMs: 5 }, authfile: '/nonexistent/auth.json', certDir: '/nonexistent' };

function collect(s: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('Link pagination', () => {
  it('finds rel="next" and resolves it against the request', () => {
    const base = new URL('http://r.example/v2/a/tags/list?n=2');
    assert.equal(nextLink('</v2/a/tags/list?last=b&n=2>; rel="next"', base)?.href, 'http://r.example/v2/a/tags/list?last=b&n=2');
    assert.equal(nextLink('<https://other/x>; rel=next', base)?.href, 'https://other/x');
    assert.equal(nextLink('</p>; rel="prev", </n>; rel="next"', base)?.pathname, '/n');
    assert.equal(nextLink('</p>; rel="prev"', base), undefined);
    assert.equal(nextLink(undefined, base), undefined);
  });

  it('lists every tag across pages', async () => {
    const all = ['a', 'b', 'c', 'd', 'e'];
    const srv = await serve((req, res) => {
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/v2/') return res.end('{}');
      const last = u.searchParams.get('last');
      const start = last ? all.indexOf(last) + 1 : 0;
      const page = all.slice(start, start + 2);
      if (start + 2 < all.length) res.setHeader('Link', `</v2/repo/tags/list?n=2&last=${page.at(-1)}>; rel="next"`);
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ name: 'repo', tags: page }));
    });
    after(srv.close);
    const client = await RegistryClient.open(srv.host, fast);
    assert.deepEqual(await client.listTags('repo', 2), all);
    assert.equal(srv.hits.filter((h) => h.includes('tags/list')).length, 3);
    client.close();
  });
});

describe('retries', () => {
  it('retries 503 and 429 on idempotent requests, then succeeds', async () => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {}, layers: [] }));
    let n = 0;
    const srv = await serve((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      n++;
      if (n === 1) return res.writeHead(503).end();
      if (n === 2) return res.writeHead(429, { 'Retry-After': '0' }).end();
      res.setHeader('Content-Type', 'application/vnd.oci.image.manifest.v1+json');
      res.end(manifest);
    });
    after(srv.close);
    const client = await RegistryClient.open(srv.host, fast);
    const got = await client.getManifest('repo', 'latest');
    assert.equal(got.digest, digestOf(manifest));
    assert.equal(n, 3);
    client.close();
  });

  it('gives up after the configured attempts with the registry status', async () => {
    const srv = await serve((req, res) => (req.url === '/v2/' ? res.end('{}') : res.writeHead(502).end()));
    after(srv.close);
    const client = await RegistryClient.open(srv.host, { ...fast, retry: { attempts: 3, baseDelayMs: 1 } });
    await assert.rejects(client.getManifest('repo', 'latest'), (e: unknown) => isBerthError(e, 'IO') && e.temporary && /502/.test(e.message));
    assert.equal(srv.hits.filter((h) => h.includes('manifests')).length, 3);
    client.close();
  });
});

describe('retry decisions and messages', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('3', now), 3000);
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:02 GMT', now), 2000);
    assert.equal(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });

  it('says network failures in words, naming the request', () => {
    const err = (code: string) => Object.assign(new Error(`x ${code}`), { code });
    const url = new URL('https://r.example/v2/');
    assert.equal(networkErrorMessage(err('ECONNREFUSED'), 'GET', url), 'GET https://r.example/v2/: dial tcp r.example:443: connection refused');
    assert.equal(networkErrorMessage(err('ENOTFOUND'), 'GET', url), 'GET https://r.example/v2/: lookup r.example: no such host');
    assert.equal(networkErrorMessage(err('ECONNRESET'), 'PUT', new URL('http://h:5000/v2/a?digest=x')), 'PUT http://h:5000/v2/a: connection reset by peer');
    assert.equal(networkErrorMessage(new Error('certificate has expired'), 'GET', url), 'GET https://r.example/v2/: certificate has expired');
  });

  for (const status of [400, 401, 403, 404]) {
    it(`does not retry a ${status}`, async () => {
      const srv = await serve((req, res) => (req.url === '/v2/' ? res.end('{}') : res.writeHead(status).end()));
      after(srv.close);
      const client = await RegistryClient.open(srv.host, fast);
      await assert.rejects(client.getManifest('repo', 'latest'), (e: unknown) => isBerthError(e) && !e.temporary);
      assert.equal(srv.hits.filter((h) => h.includes('manifests')).length, 1);
      client.close();
    });
  }
});

describe('blob downloads', () => {
  const blob = Buffer.alloc(256 * 1024, 7).map((_, i) => i % 251);
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;

  it('resumes a broken download with Range and verifies the whole blob', async () => {
    const ranges: string[] = [];
    const srv = await serve((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      const range = req.headers.range;
      if (!range) {
        // send half, then drop the connection
        res.writeHead(200, { 'Content-Length': blob.length });
        res.write(blob.subarray(0, blob.length / 2), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      ranges.push(range);
      const from = Number(/bytes=(\d+)-/.exec(range)![1]);
      res.writeHead(206, { 'Content-Length': blob.length - from, 'Content-Range': `bytes ${from}-${blob.length - 1}/${blob.length}` });
      res.end(blob.subarray(from));
    });
    after(srv.close);
    const client = await RegistryClient.open(srv.host, fast);
    const got = await collect(await openBlob(client, 'repo', digest, blob.length, { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }));
    assert.ok(got.equals(blob));
    assert.equal(ranges.length, 1);
    assert.match(ranges[0]!, /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(ranges[0]!)![0]) > 0);
    client.close();
  });

  it('refuses a registry that answers a Range request with the whole blob again', async () => {
    const srv = await serve((req, res) => {
      if (req.url === '/v2/') return res.end('{}');
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, 1000), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    after(srv.close);
    const client = await RegistryClient.open(srv.host, fast);
    await assert.rejects(collect(await openBlob(client, 'repo', digest, blob.length, { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 })), /cannot resume/);
    client.close();
  });

  it('fails the stream when the bytes do not match the digest', async () => {
    const srv = await serve((req, res) => (req.url === '/v2/' ? res.end('{}') : res.end(Buffer.from('not the blob'))));
    after(srv.close);
    const client = await RegistryClient.open(srv.host, fast);
    await assert.rejects(collect(await openBlob(client, 'repo', digest)), (e: unknown) => isBerthError(e, 'DIGEST_MISMATCH'));
    client.close();
  });
});

describe('uploads', () => {
  it('sends a large blob in streamed PATCH chunks with Content-Range, then PUT ?digest=', async () => {
    const blob = Buffer.alloc(100_000).map((_, i) => i % 13);
    const digest = digestOf(blob);
    const received: Buffer[] = [];
    const ranges: string[] = [];
    const srv = await serve((req, res, body) => {
      const u = new URL(req.url!, 'http://x');
      if (u.pathname === '/v2/') return res.end('{}');
      if (req.method === 'POST') return res.writeHead(202, { Location: '/v2/repo/blobs/uploads/s1' }).end();
      if (req.method === 'PATCH') {
        ranges.push(`${req.headers['content-range']} ${req.headers['content-length']}`);
        received.push(body);
        return res.writeHead(202, { Location: `/v2/repo/blobs/uploads/s1?part=${ranges.length}` }).end();
      }
      if (req.method === 'PUT') {
        const ok = u.searchParams.get('digest') === digest && digestOf(Buffer.concat(received)) === digest;
        return res.writeHead(ok ? 201 : 400).end();
      }
      res.writeHead(405).end();
    });
    after(srv.close);
    const client = await RegistryClient.open(srv.host, { ...fast, push: true });
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < blob.length; i += 7000) yield blob.subarray(i, i + 7000);
      })(),
    );
    await uploadBlob(client, 'repo', { digest, size: blob.length }, source, { chunkSize: 30_000 });
    assert.deepEqual(ranges, ['0-29999 30000', '30000-59999 30000', '60000-89999 30000', '90000-99999 10000']);
    assert.ok(srv.hits.at(-1)!.startsWith('PUT /v2/repo/blobs/uploads/s1?part=4&digest='));
    client.close();
  });
});
