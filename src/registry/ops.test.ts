// What operators see of a running registry: /healthz and /readyz, /metrics, the JSON request log with its
// request ids, and a shutdown that lets the requests in flight finish.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { digestOf } from '../oci/digest.js';
import { loadRegistryConfig } from './config.js';
import { createRegistryLog } from './log.js';
import { requestIdFrom, routeKindOf } from './_observe.js';
import { pushImage, uploadBlob, withRegistry } from './_testing.js';
import { startRegistry } from './server.js';
import { openFsStorage } from './storage/fs.js';
import type { RegistryStorage } from './storage/types.js';

/** A JSON log whose lines the test reads. */
function capturedLog(): { log: ReturnType<typeof createRegistryLog>; lines: () => Record<string, unknown>[] } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return {
    log: createRegistryLog({ format: 'json', destination: out }),
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** A log line is written when the response closes, just after the client has it. */
async function eventually<T>(fn: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * PUTs `data` to finish an upload, in `parts` writes `gapMs` apart; `onStarted` runs as the second part goes
 * out (the server is reading the request by then). Resolves with the status.
 */
function slowPut(url: string, location: string, data: Buffer, parts: number, gapMs: number, onStarted: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(location, url);
    target.searchParams.set('digest', digestOf(data));
    const req = request(target, { method: 'PUT', headers: { 'Content-Length': String(data.length), 'Content-Type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    const size = Math.ceil(data.length / parts);
    let i = 0;
    const next = () => {
      if (req.destroyed) return;
      req.write(data.subarray(i * size, (i + 1) * size));
      // By the second part, the server has read the head and the handler is streaming the body.
      if (i === 1) onStarted();
      i++;
      if (i < parts) setTimeout(next, gapMs);
      else req.end();
    };
    next();
  });
}

async function startUpload(url: string, repo: string): Promise<string> {
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(res.status, 202);
  return res.headers.get('location')!;
}

/** A new connection is refused (tried a few times: the first try may go to a pooled connection the server just closed). */
async function refused(url: string): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    try {
      await fetch(`${url}/healthz`);
      return false;
    } catch (e) {
      if (/ECONNREFUSED/.test(String((e as { cause?: unknown }).cause ?? e))) return true;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('registry operations', { timeout: 60_000 }, () => {
  it('answers /healthz always and /readyz only while the storage answers', () =>
    withRegistry(
      async (r) => {
        for (const path of ['/healthz', '/readyz']) {
          const res = await fetch(`${r.url}${path}`);
          assert.equal(res.status, 200, path);
          assert.equal(((await res.json()) as { status: string }).status, 'ok');
        }
        await rm(join(r.dir, 'storage'), { recursive: true, force: true });
        const ready = await fetch(`${r.url}/readyz`);
        assert.equal(ready.status, 503);
        assert.deepEqual(await ready.json(), { status: 'unavailable', checks: { storage: 'ENOENT' } });
        assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
      },
      { log: createRegistryLog({ level: 'silent' }) },
    ));

  it('checks the filesystem storage is there and writable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ops-'));
    try {
      const s = await openFsStorage(join(dir, 's'));
      await s.check();
      await rm(join(dir, 's', 'blobs'), { recursive: true });
      await writeFile(join(dir, 's', 'blobs'), '');
      await assert.rejects(s.check(), { code: 'ENOTDIR' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps /healthz and /readyz open when access control is on, /v2/ protected, and /metrics to who may list the catalog', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ops-'));
    const htpasswd = join(dir, 'users');
    await writeFile(htpasswd, `alice:${bcrypt.hashSync('pw', 4)}\n`);
    const { log, lines } = capturedLog();
    const r = await startRegistry({ addr: '127.0.0.1:0', storage: join(dir, 'storage'), auth: { htpasswd, catalog: ['*'], access: [] }, log });
    try {
      assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${r.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${r.url}/v2/`)).status, 401);
      const auth = { Authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
      const ok = await fetch(`${r.url}/v2/`, { headers: { ...auth, 'X-Request-Id': 'alice-probe' } });
      assert.equal(ok.status, 200);
      const line = await eventually(() => lines().find((l) => l['requestId'] === 'alice-probe'), 'the log line');
      assert.equal(line['user'], 'alice');
      assert.equal(line['status'], 200);
      const denied = await fetch(`${r.url}/v2/`, {
        headers: { Authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}`, 'X-Request-Id': 'bad-pw' },
      });
      assert.equal(denied.status, 401);
      const refusedLine = await eventually(() => lines().find((l) => l['requestId'] === 'bad-pw'), 'the 401 line');
      assert.equal(refusedLine['user'], undefined);
      const anonymous = await fetch(`${r.url}/metrics`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers.get('www-authenticate'), 'Basic realm="berth-registry"');
      const scrape = await fetch(`${r.url}/metrics`, { headers: auth });
      assert.equal(scrape.status, 200);
      assert.ok(sample(await scrape.text(), 'berth_registry_http_requests_total', { route: 'base', code: '401' }) >= 1);
    } finally {
      await r.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('uses a usable X-Request-Id, replaces an unusable one, and echoes it on every answer', async () => {
    assert.equal(requestIdFrom('trace-0af7651916cd43dd8448eb211c80319c'), 'trace-0af7651916cd43dd8448eb211c80319c');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), 'tab\there', 'é']) assert.match(requestIdFrom(bad), uuid, String(bad));
    assert.equal(requestIdFrom(['first', 'second']), 'first');
    await withRegistry(
      async (r) => {
        const digest = await uploadBlob(r.url, 'ids/repo', 'some bytes');
        // A blob GET goes straight into the socket, a 404 through Hono's notFound, a 400 through its onError.
        for (const [path, status] of [
          [`/v2/ids/repo/blobs/${digest}`, 200],
          ['/nothing/here', 404],
          ['/v2/Bad_Name/tags/list', 400],
          ['/healthz', 200],
        ] as const) {
          const given = await fetch(`${r.url}${path}`, { headers: { 'X-Request-Id': 'client-id-1' } });
          assert.equal(given.status, status, path);
          assert.equal(given.headers.get('x-request-id'), 'client-id-1', path);
          const made = await fetch(`${r.url}${path}`, { headers: { 'X-Request-Id': 'not usable' } });
          assert.match(made.headers.get('x-request-id') ?? '', uuid, path);
          await given.arrayBuffer();
          await made.arrayBuffer();
        }
      },
      { log: createRegistryLog({ level: 'silent' }) },
    );
  });

  it('reads [log], [metrics] and [http] drain_timeout from the config, refusing bad values', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-ops-'));
    try {
      const file = join(dir, 'r.toml');
      await writeFile(file, '[http]\ndrain_timeout = "45s"\n[log]\nlevel = "warn"\nformat = "json"\n[metrics]\nenabled = false\n');
      assert.deepEqual(await loadRegistryConfig(file), { drainTimeoutMs: 45_000, log: { level: 'warn', format: 'json' }, metrics: false });
      for (const [text, why] of [
        ['[log]\nformat = "xml"\n', /log\.format must be "json" or "text"/],
        ['[log]\nlevel = "loud"\n', /log\.level must be one of trace, debug, info/],
        ['[log]\ncolour = true\n', /unknown key "colour" in \[log\]/],
        ['[metrics]\nenabled = "yes"\n', /metrics\.enabled must be true or false/],
        ['[http]\ndrain_timeout = "soon"\n', /http\.drain_timeout must be a duration/],
      ] as const) {
        await writeFile(file, text);
        await assert.rejects(loadRegistryConfig(file), why, text);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes the text log as before: no line per request, errors with their stack', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const log = createRegistryLog({ destination: out });
    log.request({ requestId: 'x', method: 'GET', path: '/v2/', route: 'base', status: 200, bytesIn: 1, bytesOut: 1, durationMs: 1 });
    log.info('registry: hello');
    log.error('registry: internal error', new Error('boom'));
    assert.match(text, /^registry: hello\nregistry: internal error: Error: boom\n    at /);
    const quiet = createRegistryLog({ destination: out, level: 'error' });
    text = '';
    quiet.info('not shown');
    quiet.warn('not shown either');
    assert.equal(text, '');
  });

  it('labels routes by kind', () => {
    assert.equal(routeKindOf('GET', '/v2/'), 'base');
    assert.equal(routeKindOf('GET', '/v2/_catalog?n=1'), 'catalog');
    assert.equal(routeKindOf('POST', '/v2/a/b/blobs/uploads/'), 'upload');
    assert.equal(routeKindOf('PATCH', '/v2/a/blobs/uploads/123'), 'upload');
    assert.equal(routeKindOf('GET', '/v2/a/blobs/sha256:00'), 'blob');
    assert.equal(routeKindOf('PUT', '/v2/a/manifests/latest'), 'manifest');
    assert.equal(routeKindOf('GET', '/v2/a/tags/list'), 'tags');
    assert.equal(routeKindOf('GET', '/v2/a/referrers/sha256:00'), 'referrers');
    assert.equal(routeKindOf('GET', '/metrics'), 'other');
    assert.equal(routeKindOf('GET', '/token?scope=x'), 'other');
  });

  it('counts requests, bytes, upload sessions, GC and storage latency, per server', async () => {
    const { log } = capturedLog();
    await withRegistry(
      async (other) => {
        await withRegistry(
          async (r) => {
            const { digest: manifest } = await pushImage(r.url, 'm/repo', 'v1');
            const blob = randomBytes(300_000);
            const blobDigest = await uploadBlob(r.url, 'm/repo', blob);
            // A chunked upload, and one cancelled.
            const location = await startUpload(r.url, 'm/repo');
            const chunk = await fetch(new URL(location, r.url), { method: 'PATCH', body: new Uint8Array(Buffer.from('abc')) });
            assert.equal(chunk.status, 202);
            const done = await fetch(new URL(`${chunk.headers.get('location')!}?digest=${digestOf('abc')}`, r.url), { method: 'PUT' });
            assert.equal(done.status, 201);
            const cancelled = await startUpload(r.url, 'm/repo');
            assert.equal((await fetch(new URL(cancelled, r.url), { method: 'DELETE' })).status, 204);
            await startUpload(r.url, 'm/repo'); // left open
            const got = await fetch(`${r.url}/v2/m/repo/blobs/${blobDigest}`);
            assert.equal((await got.arrayBuffer()).byteLength, blob.length);
            const m = await fetch(`${r.url}/v2/m/repo/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
            assert.equal(m.headers.get('docker-content-digest'), manifest);
            await m.arrayBuffer();
            assert.equal((await fetch(`${r.url}/v2/m/repo/manifests/v2`)).status, 404);
            await (await fetch(`${r.url}/v2/m/repo/tags/list`)).arrayBuffer();
            await (await fetch(`${r.url}/v2/_catalog`)).arrayBuffer();
            // The blob pushed alone is held by nothing: GC frees it.
            const report = await r.gc({ graceMs: 0 });
            assert.ok(report.bytesFreed >= blob.length);

            const text = await metrics(r.url);
            const q = (name: string, labels?: Record<string, string>) => sample(text, `berth_registry_${name}`, labels);
            assert.equal(q('http_requests_total', { route: 'blob', method: 'GET', code: '200' }), 1);
            assert.equal(q('http_requests_total', { route: 'manifest', method: 'PUT', code: '201' }), 1);
            assert.equal(q('http_requests_total', { route: 'manifest', method: 'GET', code: '200' }), 1);
            assert.equal(q('http_requests_total', { route: 'manifest', method: 'GET', code: '404' }), 1);
            assert.equal(q('http_requests_total', { route: 'upload', method: 'POST', code: '201' }), 3); // monolithic: 2 of pushImage, 1 more
            assert.equal(q('http_requests_total', { route: 'upload', method: 'PATCH', code: '202' }), 1);
            assert.equal(q('http_requests_total', { route: 'tags', method: 'GET', code: '200' }), 1);
            assert.equal(q('http_requests_total', { route: 'catalog', method: 'GET', code: '200' }), 1);
            assert.equal(q('http_request_duration_seconds_count', { route: 'blob', method: 'GET', code: '200' }), 1);
            assert.ok(q('http_sent_bytes_total', { route: 'blob' }) > blob.length);
            assert.ok(q('http_received_bytes_total', { route: 'upload' }) > blob.length);
            assert.equal(q('http_requests_in_flight'), 1); // this scrape
            assert.equal(q('upload_sessions_started_total'), 6);
            assert.equal(q('upload_sessions_finished_total', { result: 'completed' }), 4);
            assert.equal(q('upload_sessions_finished_total', { result: 'cancelled' }), 1);
            assert.equal(q('upload_sessions_in_flight'), 1);
            assert.equal(q('gc_runs_total', { result: 'ok' }), 1);
            assert.equal(q('gc_freed_bytes_total'), report.bytesFreed);
            assert.equal(q('gc_removed_total', { kind: 'blob' }), report.blobsRemoved.length);
            assert.ok(q('storage_operation_duration_seconds_count', { operation: 'uploads.finish', result: 'ok' }) >= 4);
            assert.ok(q('storage_operation_duration_seconds_count', { operation: 'blobs.list', result: 'ok' }) >= 1);
            assert.ok(q('storage_operation_duration_seconds_count', { operation: 'manifests.get' }) >= 1);
            assert.ok(sample(text, 'process_resident_memory_bytes') > 0);
            // The other server in this process counted only its own.
            assert.equal(sample(await metrics(other.url), 'berth_registry_http_requests_total', { route: 'blob' }), 0);
          },
          { log },
        );
      },
      { log },
    );
  });

  it('counts and logs a request whose client left before the answer as 499', async () => {
    const { log, lines } = capturedLog();
    await withRegistry(
      async (r) => {
        const target = new URL(await startUpload(r.url, 'gone/repo'), r.url);
        target.searchParams.set('digest', digestOf('x'));
        await new Promise<void>((resolve) => {
          const req = request(target, { method: 'PUT', headers: { 'Content-Length': '1000000', 'X-Request-Id': 'gone' } });
          req.on('error', () => resolve());
          req.write(Buffer.alloc(1000));
          setTimeout(() => req.destroy(), 100);
        });
        const line = await eventually(() => lines().find((l) => l['requestId'] === 'gone'), 'the line');
        assert.equal(line['status'], 499);
        assert.equal(line['aborted'], true);
        assert.equal(sample(await metrics(r.url), 'berth_registry_http_requests_total', { route: 'upload', method: 'PUT', code: '499' }), 1);
      },
      { log },
    );
  });

  it('serves no /metrics when told not to', () =>
    withRegistry(
      async (r) => {
        assert.equal((await fetch(`${r.url}/metrics`)).status, 404);
        assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
      },
      { metrics: false, log: createRegistryLog({ level: 'silent' }) },
    ));

  it('logs a JSON line per request, and internal errors with the request id', async () => {
    const { log, lines } = capturedLog();
    const broken = (s: RegistryStorage): RegistryStorage => {
      const tags = new Proxy(s.tags, {
        get: (t, p) => (p === 'list' ? () => Promise.reject(new Error('the disk is on fire')) : Reflect.get(t, p, t)),
      });
      return new Proxy(s, { get: (t, p) => (p === 'tags' ? tags : Reflect.get(t, p, t)) });
    };
    const dir = await mkdtemp(join(tmpdir(), 'berth-ops-'));
    const r = await startRegistry({ addr: '127.0.0.1:0', storage: broken(await openFsStorage(join(dir, 's'))), log });
    try {
      const digest = await uploadBlob(r.url, 'logs/repo', 'twelve bytes');
      const res = await fetch(`${r.url}/v2/logs/repo/blobs/${digest}?x=1`, { headers: { 'X-Request-Id': 'pull-1' } });
      assert.equal(await res.text(), 'twelve bytes');
      const line = await eventually(() => lines().find((l) => l['requestId'] === 'pull-1'), 'the request line');
      assert.equal(line['msg'], 'request');
      assert.equal(line['level'], 'info');
      assert.equal(line['method'], 'GET');
      assert.equal(line['path'], `/v2/logs/repo/blobs/${digest}`);
      assert.equal(line['query'], 'x=1');
      assert.equal(line['route'], 'blob');
      assert.equal(line['status'], 200);
      assert.equal(line['remoteAddress'], '127.0.0.1');
      assert.ok((line['bytesOut'] as number) > 12);
      assert.ok((line['bytesIn'] as number) > 0);
      assert.equal(typeof line['durationMs'], 'number');
      assert.equal(typeof line['time'], 'string');

      const failed = await fetch(`${r.url}/v2/logs/repo/tags/list`);
      assert.equal(failed.status, 500);
      const id = failed.headers.get('x-request-id');
      const error = await eventually(() => lines().find((l) => l['level'] === 'error'), 'the error line');
      assert.equal(error['requestId'], id);
      assert.equal(error['msg'], 'registry: internal error');
      assert.match(String((error['err'] as { message: string }).message), /the disk is on fire/);
      assert.match(String((error['err'] as { stack: string }).stack), /Error: the disk is on fire/);
    } finally {
      await r.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logs the reports of periodic GC as JSON, and counts them', async () => {
    const { log, lines } = capturedLog();
    await withRegistry(
      async (r) => {
        await uploadBlob(r.url, 'gc/repo', 'unreferenced');
        const line = await eventually(() => lines().find((l) => (l['gc'] as { blobsRemoved?: number } | undefined)?.blobsRemoved === 1), 'a GC line');
        assert.equal((line['gc'] as { bytesFreed: number }).bytesFreed, 'unreferenced'.length);
        assert.ok(sample(await metrics(r.url), 'berth_registry_gc_runs_total', { result: 'ok' }) >= 1);
      },
      { log, gc: { intervalMs: 100, graceMs: 0 } },
    );
  });

  it('finishes an upload in flight on shutdown, and refuses new connections meanwhile', () =>
    withRegistry(
      async (r) => {
        const data = randomBytes(2 * 1024 * 1024);
        const location = await startUpload(r.url, 'drain/repo');
        let stopping: Promise<void> | undefined;
        const status = slowPut(r.url, location, data, 10, 100, () => {
          stopping = r.shutdown(10_000);
        });
        // While the upload streams in, the listener is closed.
        await eventually(() => stopping, 'shutdown');
        assert.equal(await refused(r.url), true);
        assert.equal(await status, 201);
        await stopping;
        const storage = await openFsStorage(join(r.dir, 'storage'));
        assert.deepEqual(await storage.blobs.stat(digestOf(data)), { digest: digestOf(data), size: data.length });
      },
      { log: createRegistryLog({ level: 'silent' }) },
    ));

  it('gives up on requests still in flight when the drain time is over', () =>
    withRegistry(
      async (r) => {
        const location = await startUpload(r.url, 'drain/stuck');
        let stopping: Promise<void> | undefined;
        const started = Date.now();
        const status = slowPut(r.url, location, randomBytes(1024 * 1024), 100, 200, () => {
          stopping = r.shutdown(500);
        }).catch((e: unknown) => e);
        await eventually(() => stopping, 'shutdown');
        await stopping;
        assert.ok(Date.now() - started < 5000);
        assert.ok((await status) instanceof Error, 'the stalled upload was cut off');
      },
      { log: createRegistryLog({ level: 'silent' }) },
    ));

  it('leaves nothing of the storage check behind', () =>
    withRegistry(
      async (r) => {
        for (let i = 0; i < 3; i++) assert.equal((await fetch(`${r.url}/readyz`)).status, 200);
        const tmp = await stat(join(r.dir, 'storage', 'tmp'));
        assert.ok(tmp.isDirectory());
        const { readdir } = await import('node:fs/promises');
        assert.deepEqual(await readdir(join(r.dir, 'storage', 'tmp')), []);
      },
      { log: createRegistryLog({ level: 'silent' }) },
    ));
});
