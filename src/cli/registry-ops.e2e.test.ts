// `berth registry serve` as an operator runs it: health and readiness probes, Prometheus metrics, JSON
// request logs on stderr, and SIGTERM letting an upload in flight finish.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { serveBerthRegistry } from '../testing/berth-registry.js';
import { tempDir } from '../testing/cli.js';

const sha256 = (data: string | Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Starts `registry serve` with a config file, on a port the kernel picks. */
const serve = (root: string, config: string) => serveBerthRegistry(root, ['--config', config, '--addr', '127.0.0.1:0']);

function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (m && m[1] === name && Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

async function upload(url: string, repo: string, data: string | Uint8Array): Promise<string> {
  const digest = sha256(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data as BodyInit });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

describe('berth registry serve: health, metrics, logs and shutdown', { timeout: 120_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('answers probes, counts a push and a pull in /metrics, logs JSON lines with request ids, and is not ready without its storage', async () => {
    const storage = join(tmp.path, 'storage-1');
    const config = join(tmp.path, 'registry-1.toml');
    await writeFile(config, `[storage]\npath = "${storage}"\n[log]\nformat = "json"\n`);
    const s = await serve(join(tmp.path, 'store'), config);
    try {
      assert.deepEqual(await (await fetch(`${s.url}/readyz`)).json(), { status: 'ok', checks: { storage: 'ok' } });
      // Push: a config, a layer and a manifest naming them.
      const configBlob = '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}';
      const layer = randomBytes(200_000);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await upload(s.url, 'ops/app', configBlob), size: configBlob.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await upload(s.url, 'ops/app', layer), size: layer.length }],
      });
      const put = await fetch(`${s.url}/v2/ops/app/manifests/1.0`, {
        method: 'PUT',
        body: manifest,
        headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'X-Request-Id': 'e2e-push' },
      });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('x-request-id'), 'e2e-push');
      // Pull.
      const got = await fetch(`${s.url}/v2/ops/app/manifests/1.0`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(await got.text(), manifest);
      const blob = await fetch(`${s.url}/v2/ops/app/blobs/${sha256(layer)}`, { headers: { 'X-Request-Id': 'e2e-pull' } });
      assert.equal(Buffer.from(await blob.arrayBuffer()).length, layer.length);
      assert.equal(blob.headers.get('x-request-id'), 'e2e-pull');

      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      const q = (name: string, labels?: Record<string, string>) => sample(metrics, `berth_registry_${name}`, labels);
      assert.equal(q('http_requests_total', { route: 'upload', method: 'POST', code: '201' }), 2);
      assert.equal(q('http_requests_total', { route: 'manifest', method: 'PUT', code: '201' }), 1);
      assert.equal(q('http_requests_total', { route: 'manifest', method: 'GET', code: '200' }), 1);
      assert.equal(q('http_requests_total', { route: 'blob', method: 'GET', code: '200' }), 1);
      assert.ok(q('http_received_bytes_total', { route: 'upload' }) > layer.length);
      assert.ok(q('http_sent_bytes_total', { route: 'blob' }) > layer.length);
      assert.equal(q('upload_sessions_started_total'), 2);
      assert.equal(q('upload_sessions_finished_total', { result: 'completed' }), 2);
      assert.equal(q('upload_sessions_in_flight'), 0);
      assert.ok(q('storage_operation_duration_seconds_count', { operation: 'manifests.put', result: 'ok' }) >= 1);

      const lines = logLines(s.stderr());
      assert.match(String(lines[0]?.['msg']), /^berth registry listening on http:\/\/127\.0\.0\.1:\d+ /);
      const pull = lines.find((l) => l['requestId'] === 'e2e-pull');
      assert.ok(pull, s.stderr());
      assert.equal(pull['route'], 'blob');
      assert.equal(pull['status'], 200);
      assert.ok((pull['bytesOut'] as number) > layer.length);
      const push = lines.find((l) => l['requestId'] === 'e2e-push');
      assert.equal(push?.['path'], '/v2/ops/app/manifests/1.0');
      assert.equal(push['method'], 'PUT');
      // Requests without an id got one each.
      const ids = lines.filter((l) => l['msg'] === 'request').map((l) => l['requestId']);
      assert.equal(new Set(ids).size, ids.length);

      await rm(storage, { recursive: true, force: true });
      const ready = await fetch(`${s.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: { storage: string } }).checks.storage, 'ENOENT');
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    } finally {
      s.child.kill('SIGTERM');
    }
    assert.equal(await s.exited, 0);
  });

  it('on SIGTERM refuses new connections, finishes the upload in flight and exits 0', async () => {
    const storage = join(tmp.path, 'storage-2');
    const config = join(tmp.path, 'registry-2.toml');
    await writeFile(config, `[storage]\npath = "${storage}"\n[http]\ndrain_timeout = "30s"\n`);
    const s = await serve(join(tmp.path, 'store'), config);
    try {
      const start = await fetch(`${s.url}/v2/drain/app/blobs/uploads/`, { method: 'POST' });
      assert.equal(start.status, 202);
      const data = randomBytes(4 * 1024 * 1024);
      const target = new URL(start.headers.get('location')!, s.url);
      target.searchParams.set('digest', sha256(data));
      const parts = 20;
      const size = data.length / parts;
      let signalled = false;
      // The body goes out in 20 parts 100 ms apart; SIGTERM arrives after the second.
      const status = new Promise<number>((resolve, reject) => {
        const req = request(
          target,
          { method: 'PUT', headers: { 'Content-Length': String(data.length), 'Content-Type': 'application/octet-stream' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        let i = 0;
        const next = () => {
          if (req.destroyed) return;
          req.write(data.subarray(i * size, (i + 1) * size));
          if (i === 1) {
            s.child.kill('SIGTERM');
            signalled = true;
          }
          i++;
          if (i < parts) setTimeout(next, 100);
          else req.end();
        };
        next();
      });
      while (!signalled) await new Promise((r) => setTimeout(r, 20));
      // The listener closes while the upload still streams in.
      let refused = false;
      for (let i = 0; i < 50 && !refused; i++) {
        refused = await fetch(`${s.url}/healthz`).then(
          () => false,
          (e: unknown) => /ECONNREFUSED/.test(String((e as { cause?: unknown }).cause)),
        );
        if (!refused) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(refused, 'a new connection after SIGTERM was not refused');
      assert.equal(await status, 201);
      assert.equal(await s.exited, 0);
      const hex = sha256(data).slice('sha256:'.length);
      assert.equal((await stat(join(storage, 'blobs', 'sha256', hex.slice(0, 2), hex))).size, data.length);
      assert.match(s.stderr(), /registry: SIGTERM: finishing the requests in flight \(up to 30000 ms/);
    } finally {
      s.child.kill('SIGKILL');
      await s.exited;
    }
  });
});
