import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berth, tempDir, type RunResult } from '../testing/cli.js';
import type { IncomingMessage } from 'node:http';
import { answer, dropAfter, FaultRegistry, makeTestImage, sha256, type Fault, type TestImage } from '../testing/fault-registry.js';
import { freePort } from '../testing/registry.js';
import { snapshotStore } from '../testing/snapshot.js';

/**
 * berth pull and push against a registry that misbehaves on purpose (src/testing/fault-registry.ts):
 * dropped connections, temporary failures, corrupt blobs, wrong passwords, hosts that are not there.
 */

/** A fault that answers `status` to the first request `matches` picks, and lets every other one through. */
function failFirst(status: number, matches: (req: IncomingMessage, path: string) => boolean): { fault: Fault; failures: () => number } {
  let failures = 0;
  const fault: Fault = (req, res, { path }) => {
    if (failures > 0 || !matches(req, path)) return false;
    failures++;
    return answer(req, res, status);
  };
  return { fault, failures: () => failures };
}

const ERROR_LINES = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('Error:'));

function images(store: string): { id: string; names?: string[]; layerBlobs: string[] }[] {
  const file = join(store, 'images.json');
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as { images: { id: string; names?: string[]; layerBlobs: string[] }[] }).images;
}

/** Everything left under the store's temp space (per-process directories and their content). */
function tempLeftovers(store: string): string[] {
  const dir = join(store, 'tmp');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String);
}

describe('berth pull and push against a misbehaving registry', { timeout: 300_000 }, () => {
  const tmp = tempDir('berth-faults-');
  const authfile = join(tmp.path, 'auth.json');
  let image: TestImage;
  let small: TestImage;
  let reg: FaultRegistry;
  let n = 0;
  const freshStore = () => join(tmp.path, `store-${++n}`);
  const pull = (store: string, ref: string, extra: string[] = []): Promise<RunResult> =>
    berth(store, ['pull', '--tls-verify=false', '--authfile', authfile, ...extra, ref]);

  before(async () => {
    writeFileSync(authfile, '{}');
    // One large layer (6 MiB of random bytes, so its gzip is as large) and a small one.
    image = await makeTestImage('faults/big', 'v1', [6 * 1024 * 1024, 1000]);
    small = await makeTestImage('faults/small', 'v1', [2000]);
    reg = await new FaultRegistry().start();
    reg.add(image);
    reg.add(small);
  });
  after(async () => {
    await reg?.stop();
    tmp.cleanup();
  });

  const ref = () => `${reg.host}/${image.repository}:${image.tag}`;
  const bigLayer = () => image.layers[0]!;
  const blobPath = (img: TestImage, digest: string) => `/v2/${img.repository}/blobs/${digest}`;
  const manifestPath = (img: TestImage) => `/v2/${img.repository}/manifests/${img.tag}`;

  it('a connection dropped in the middle of a large layer is resumed with Range', async () => {
    reg.resetLog();
    const cut = 2 * 1024 * 1024 + 123;
    reg.fault = (req, res, { path, count }) =>
      req.method === 'GET' && path === blobPath(image, bigLayer().digest) && count === 1 ? dropAfter(req, res, bigLayer().bytes, cut) : false;
    const store = freshStore();
    const r = await pull(store, ref());
    reg.fault = undefined;
    assert.equal(r.code, 0, r.stderr);
    const gets = reg.requests('GET', blobPath(image, bigLayer().digest));
    assert.equal(gets.length, 2, JSON.stringify(gets));
    assert.equal(gets[0]!.range, undefined);
    // The second asks for the rest, from somewhere at or before the cut (what reached the client).
    const m = /^bytes=(\d+)-$/.exec(gets[1]!.range ?? '');
    assert.ok(m, `expected a Range request, got ${JSON.stringify(gets[1])}`);
    assert.ok(Number(m[1]) > 0 && Number(m[1]) <= cut, gets[1]!.range);
    assert.equal(gets[1]!.status, 206);
    const [rec] = images(store);
    assert.deepEqual(
      rec!.layerBlobs,
      image.layers.map((l) => l.digest),
    );
    assert.equal(rec!.id, sha256(image.config));
    for (const l of image.layers) assert.equal(sha256(readFileSync(join(store, 'blobs', 'sha256', l.digest.slice(7)))), l.digest);
  });

  it('a registry that cannot resume, or resumes elsewhere than asked, is a clear error and stores nothing', async () => {
    const layer = bigLayer();
    const cut = 1024 * 1024;
    for (const [how, expect] of [
      ['ignores Range', /cannot resume \(status 200 to a Range request\)/],
      ['resumes from 0', /broke at byte \d+ and the registry resumed at byte 0 instead/],
    ] as const) {
      reg.resetLog();
      reg.fault = (req, res, { path }) => {
        if (req.method !== 'GET' || path !== blobPath(image, layer.digest)) return false;
        if (!req.headers.range) return dropAfter(req, res, layer.bytes, cut);
        req.resume();
        if (how === 'ignores Range') res.writeHead(200, { 'Content-Length': String(layer.size) });
        else res.writeHead(206, { 'Content-Length': String(layer.size), 'Content-Range': `bytes 0-${layer.size - 1}/${layer.size}` });
        res.end(layer.bytes);
        return true;
      };
      const store = freshStore();
      const r = await pull(store, ref());
      reg.fault = undefined;
      assert.equal(r.code, 125, r.stderr);
      const errors = ERROR_LINES(r.stderr);
      assert.equal(errors.length, 1, r.stderr);
      assert.ok(errors[0]!.includes(layer.digest), errors[0]);
      assert.match(errors[0]!, expect);
      assert.deepEqual(images(store), []);
      assert.ok(!existsSync(join(store, 'blobs', 'sha256', layer.digest.slice(7))));
      assert.deepEqual(tempLeftovers(store), []);
    }
  });

  it('a server that drops every response after 1.5 MiB still gives the whole layer, resumed each time', async () => {
    reg.resetLog();
    const each = 1536 * 1024;
    const layer = bigLayer();
    reg.fault = (req, res, { path }) => {
      if (req.method !== 'GET' || path !== blobPath(image, layer.digest)) return false;
      const from = Number(/^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))?.[1] ?? 0);
      const rest = layer.bytes.subarray(from);
      if (rest.length <= each) return false;
      req.resume();
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(rest.length) };
      if (from > 0) headers['Content-Range'] = `bytes ${from}-${layer.size - 1}/${layer.size}`;
      res.writeHead(from > 0 ? 206 : 200, headers);
      res.write(rest.subarray(0, each), () => setTimeout(() => res.socket?.destroy(), 20));
      return true;
    };
    const store = freshStore();
    const r = await pull(store, ref());
    reg.fault = undefined;
    assert.equal(r.code, 0, r.stderr);
    const gets = reg.requests('GET', blobPath(image, layer.digest));
    // Each drop costs one Range request; more drops than the retry policy's attempts, but each made progress.
    assert.ok(gets.length > 4 && gets.length <= Math.ceil(layer.size / each) + 1, JSON.stringify(gets));
    const starts = gets.slice(1).map((q) => Number(/^bytes=(\d+)-$/.exec(q.range ?? '')?.[1]));
    assert.ok(
      starts.every((v, i) => v > (i === 0 ? 0 : starts[i - 1]!)),
      JSON.stringify(starts),
    );
    assert.deepEqual(
      images(store)[0]!.layerBlobs,
      image.layers.map((l) => l.digest),
    );
  });

  it('a server that stalls in the middle of a layer is given up on after the idle timeout and resumed', async () => {
    reg.resetLog();
    const stall = 1024 * 1024;
    reg.fault = (req, res, { path, count }) => {
      if (req.method !== 'GET' || path !== blobPath(image, bigLayer().digest) || count !== 1) return false;
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bigLayer().size) });
      res.write(bigLayer().bytes.subarray(0, stall)); // and then nothing, the connection left open
      return true;
    };
    const store = freshStore();
    const r = await berth(store, ['pull', '--tls-verify=false', '--authfile', authfile, ref()], { env: { BERTH_REGISTRY_IDLE_TIMEOUT: '1' } });
    reg.fault = undefined;
    assert.equal(r.code, 0, r.stderr);
    const gets = reg.requests('GET', blobPath(image, bigLayer().digest));
    assert.equal(gets.length, 2, JSON.stringify(gets));
    const m = /^bytes=(\d+)-$/.exec(gets[1]!.range ?? '');
    assert.ok(m && Number(m[1]) > 0 && Number(m[1]) <= stall, JSON.stringify(gets[1]));
    assert.deepEqual(
      images(store)[0]!.layerBlobs,
      image.layers.map((l) => l.digest),
    );
  });

  it('500, 503, 429 with Retry-After and a connection closed before answering are retried, a limited number of times', async () => {
    reg.resetLog();
    const cfg = blobPath(image, sha256(image.config));
    reg.fault = (req, res, { path, count }) => {
      if (req.method === 'GET' && path === manifestPath(image) && count === 1) return answer(req, res, 500);
      if (req.method === 'GET' && path === cfg && count <= 2) return answer(req, res, 503);
      if (req.method === 'GET' && path === blobPath(image, bigLayer().digest) && count === 1) return answer(req, res, 429, { 'Retry-After': '1' });
      // A connection closed before any answer.
      if (req.method === 'GET' && path === blobPath(image, image.layers[1]!.digest) && count === 1) {
        req.socket.destroy();
        return true;
      }
      return false;
    };
    const store = freshStore();
    const r = await pull(store, ref());
    reg.fault = undefined;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      reg.requests('GET', manifestPath(image)).map((q) => q.status),
      [500, 200],
    );
    assert.deepEqual(
      reg.requests('GET', cfg).map((q) => q.status),
      [503, 503, 200],
    );
    assert.deepEqual(
      reg.requests('GET', blobPath(image, bigLayer().digest)).map((q) => q.status),
      [429, 200],
    );
    assert.deepEqual(
      reg.requests('GET', blobPath(image, image.layers[1]!.digest)).map((q) => q.status),
      [0, 200],
    );
    assert.deepEqual(
      images(store)[0]!.layerBlobs,
      image.layers.map((l) => l.digest),
    );

    // A registry that keeps failing is given up on after the policy's attempts, with the status said.
    reg.resetLog();
    reg.fault = (req, res, { path }) => (path === manifestPath(image) ? answer(req, res, 503) : false);
    const store2 = freshStore();
    const down = await pull(store2, ref());
    reg.fault = undefined;
    assert.equal(down.code, 125);
    assert.equal(ERROR_LINES(down.stderr).length, 1, down.stderr);
    assert.match(ERROR_LINES(down.stderr)[0]!, new RegExp(`${reg.host}/faults/big.*(503|injected 503)`));
    assert.equal(reg.requests('GET', manifestPath(image)).length, 4);
  });

  it('an image the store holds under another name costs one manifest request, no blob', async () => {
    const again = { ...small, repository: 'faults/again' };
    reg.add(again);
    const store = freshStore();
    assert.equal((await pull(store, `${reg.host}/${small.repository}:${small.tag}`)).code, 0);
    reg.resetLog();
    const r = await pull(store, `${reg.host}/${again.repository}:${again.tag}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reg.requests('GET', manifestPath(again)).length, 1);
    assert.deepEqual(
      reg.log.filter((e) => e.path.includes('/blobs/')),
      [],
      JSON.stringify(reg.log),
    );
    assert.deepEqual(
      images(store).map((i) => i.id),
      [sha256(small.config)],
    );
  });

  it('a 404 or 400 is not retried', async () => {
    reg.resetLog();
    reg.fault = (req, res, { path }) => (path === manifestPath(image) ? answer(req, res, 400) : false);
    const r = await pull(freshStore(), ref());
    reg.fault = undefined;
    assert.equal(r.code, 125);
    assert.equal(ERROR_LINES(r.stderr).length, 1, r.stderr);
    assert.equal(reg.requests('GET', manifestPath(image)).length, 1);
    reg.resetLog();
    const missing = await pull(freshStore(), `${reg.host}/faults/absent:v1`);
    assert.equal(missing.code, 125);
    assert.match(ERROR_LINES(missing.stderr)[0]!, /faults\/absent.*manifest unknown/);
    assert.equal(reg.requests('GET', '/v2/faults/absent/manifests/v1').length, 1);
  });

  it('a blob that does not match its digest fails the pull and leaves the store as it was', async () => {
    const store = freshStore();
    const first = await pull(store, `${reg.host}/${small.repository}:${small.tag}`);
    assert.equal(first.code, 0, first.stderr);
    const before = snapshotStore(store);
    const bad = image.layers[1]!;
    const flipped = Buffer.from(bad.bytes);
    flipped[flipped.length >> 1] = flipped[flipped.length >> 1]! ^ 0xff;
    reg.corrupt.set(bad.digest, flipped);
    reg.resetLog();
    const r = await pull(store, ref());
    reg.corrupt.clear();
    assert.equal(r.code, 125, r.stderr);
    const errors = ERROR_LINES(r.stderr);
    assert.equal(errors.length, 1, r.stderr);
    assert.ok(errors[0]!.includes(bad.digest), errors[0]);
    assert.match(errors[0]!, /does not match/);
    assert.deepEqual(snapshotStore(store), before);
    assert.equal(images(store).length, 1);
    assert.ok(!existsSync(join(store, 'blobs', 'sha256', bad.digest.slice(7))));
    assert.deepEqual(tempLeftovers(store), []);
    // A corrupt blob is not a temporary failure: it is fetched once.
    assert.equal(reg.requests('GET', blobPath(image, bad.digest)).length, 1);
  });

  for (const kind of ['basic', 'bearer'] as const) {
    it(`a wrong password for ${kind} auth is one clear error, without a retry storm`, async () => {
      const guarded = await new FaultRegistry({ kind, username: 'alice', password: 'right' }).start();
      try {
        guarded.add(small);
        const name = `${guarded.host}/${small.repository}:${small.tag}`;
        const good = await pull(freshStore(), name, ['--creds', 'alice:right']);
        assert.equal(good.code, 0, good.stderr);
        guarded.resetLog();
        const store = freshStore();
        const r = await pull(store, name, ['--creds', 'alice:wrong']);
        assert.equal(r.code, 125, r.stderr);
        const errors = ERROR_LINES(r.stderr);
        assert.equal(errors.length, 1, r.stderr);
        assert.ok(errors[0]!.includes(guarded.host), errors[0]);
        assert.match(errors[0]!, /unauthorized|authentication/i);
        assert.match(errors[0]!, /invalid username\/password/);
        assert.ok(guarded.requests('GET', '/token').length <= 1, JSON.stringify(guarded.log));
        assert.ok(guarded.log.length <= 3, JSON.stringify(guarded.log));
        assert.deepEqual(images(store), []);
      } finally {
        await guarded.stop();
      }
    });
  }

  describe('push', () => {
    let target: FaultRegistry;
    let huge: TestImage;
    const source = join(tmp.path, 'push-source');
    const push = (name: string, dest: string) => berth(source, ['push', '--tls-verify=false', '--authfile', authfile, name, dest]);
    before(async () => {
      // Above the 16 MiB chunk size: pushed in PATCH chunks.
      huge = await makeTestImage('faults/huge', 'v1', [17 * 1024 * 1024]);
      reg.add(huge);
      for (const img of [image, huge]) {
        const r = await pull(source, `${reg.host}/${img.repository}:${img.tag}`);
        assert.equal(r.code, 0, r.stderr);
      }
      target = await new FaultRegistry().start();
    });
    after(async () => {
      await target?.stop();
    });
    const pushed = (img: TestImage, repository: string) => {
      const digest = target.tags.get(`${repository}:v1`);
      assert.ok(digest, `nothing tagged ${repository}:v1`);
      for (const l of img.layers) assert.equal(sha256(target.blobs.get(l.digest) ?? Buffer.alloc(0)), l.digest);
      assert.ok(target.blobs.has(sha256(img.config)));
    };

    it('an upload the registry fails once with 500 is uploaded again', async () => {
      target.resetLog();
      target.fault = failFirst(500, (req, path) => req.method === 'PUT' && /\/blobs\/uploads\//.test(path)).fault;
      const r = await push(`${reg.host}/${image.repository}:${image.tag}`, `${target.host}/put500/img:v1`);
      target.fault = undefined;
      assert.equal(r.code, 0, r.stderr);
      pushed(image, 'put500/img');
      const puts = target.requests('PUT', /^\/v2\/put500\/img\/blobs\/uploads\//);
      // Two layers and the config, plus the one refused.
      assert.deepEqual(puts.map((q) => q.status).sort(), [201, 201, 201, 500]);
      assert.equal(target.requests('POST', '/v2/put500/img/blobs/uploads/').length, 4);
    });

    it('a config upload the registry fails once with 503 is uploaded again', async () => {
      target.resetLog();
      const once = failFirst(503, (req) => req.method === 'PUT' && (req.url ?? '').includes(`digest=${encodeURIComponent(sha256(image.config))}`));
      target.fault = once.fault;
      const r = await push(`${reg.host}/${image.repository}:${image.tag}`, `${target.host}/config503/img:v1`);
      target.fault = undefined;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(once.failures(), 1);
      pushed(image, 'config503/img');
    });

    it('a PATCH chunk the registry fails with 500 restarts the blob', async () => {
      target.resetLog();
      target.fault = failFirst(500, (req) => req.method === 'PATCH' && String(req.headers['content-range'] ?? '').startsWith(`${16 * 1024 * 1024}-`)).fault;
      const r = await push(`${reg.host}/${huge.repository}:${huge.tag}`, `${target.host}/patch500/img:v1`);
      target.fault = undefined;
      assert.equal(r.code, 0, r.stderr);
      pushed(huge, 'patch500/img');
      assert.deepEqual(
        target.requests('PATCH', /^\/v2\/patch500\//).map((q) => q.status),
        [202, 500, 202, 202],
      );
    });

    it('a connection dropped in the middle of an upload is retried once, then a clear error', async () => {
      target.resetLog();
      const bigPut = (req: import('node:http').IncomingMessage) => req.method === 'PUT' && Number(req.headers['content-length'] ?? 0) > 1024 * 1024;
      let drops = 0;
      target.fault = (req) => {
        if (drops < 1 && bigPut(req)) {
          drops++;
          let got = 0;
          req.on('data', (c: Buffer) => {
            got += c.length;
            if (got > 1024 * 1024) req.socket.destroy();
          });
          return true;
        }
        return false;
      };
      const r = await push(`${reg.host}/${image.repository}:${image.tag}`, `${target.host}/drop/img:v1`);
      assert.equal(r.code, 0, r.stderr);
      pushed(image, 'drop/img');

      // A registry that drops every attempt: the push fails with one line naming the blob.
      target.resetLog();
      let dropped = 0;
      target.fault = (req) => {
        if (!bigPut(req)) return false;
        dropped++;
        let got = 0;
        req.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 1024 * 1024) req.socket.destroy();
        });
        return true;
      };
      const failing = await push(`${reg.host}/${image.repository}:${image.tag}`, `${target.host}/dropall/img:v1`);
      target.fault = undefined;
      assert.equal(failing.code, 125, failing.stderr);
      const errors = ERROR_LINES(failing.stderr);
      assert.equal(errors.length, 1, failing.stderr);
      assert.ok(errors[0]!.includes(bigLayer().digest), errors[0]);
      assert.match(errors[0]!, /connection reset|broken pipe|socket hang up/);
      // The large layer was tried twice (both dropped), then given up on; nothing was tagged.
      assert.equal(dropped, 2);
      assert.equal(target.tags.get('dropall/img:v1'), undefined);
    });
  });

  it('a registry that refuses the tokens its own issuer gave is asked once more, not forever', async () => {
    const guarded = await new FaultRegistry({ kind: 'bearer', username: 'alice', password: 'right' }).start();
    try {
      guarded.add(small);
      guarded.fault = (req, res, { path }) => {
        if (path !== manifestPath(small)) return false;
        return answer(req, res, 401, {
          'WWW-Authenticate': `Bearer realm="http://${guarded.host}/token",service="fault-registry",scope="repository:${small.repository}:pull"`,
        });
      };
      const r = await pull(freshStore(), `${guarded.host}/${small.repository}:${small.tag}`, ['--creds', 'alice:right']);
      assert.equal(r.code, 125, r.stderr);
      const errors = ERROR_LINES(r.stderr);
      assert.equal(errors.length, 1, r.stderr);
      assert.match(errors[0]!, new RegExp(`${guarded.host}/${small.repository}.*unauthorized`));
      assert.equal(guarded.requests('GET', manifestPath(small)).length, 2, JSON.stringify(guarded.log));
      assert.equal(guarded.requests('GET', '/token').length, 2, JSON.stringify(guarded.log));
    } finally {
      await guarded.stop();
    }
  });

  it('an unreachable registry is one clear error', async () => {
    const port = await freePort();
    const refused = await pull(freshStore(), `127.0.0.1:${port}/x/y:1`);
    assert.equal(refused.code, 125);
    assert.equal(ERROR_LINES(refused.stderr).length, 1, refused.stderr);
    assert.match(ERROR_LINES(refused.stderr)[0]!, new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    const unknown = await pull(freshStore(), 'nonexistent.invalid/x/y:1');
    assert.equal(unknown.code, 125);
    assert.equal(ERROR_LINES(unknown.stderr).length, 1, unknown.stderr);
    assert.match(ERROR_LINES(unknown.stderr)[0]!, /nonexistent\.invalid.*no such host/);
  });
});
