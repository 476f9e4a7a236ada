import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MiddlewareHandler } from 'hono';
import { digestOf } from '../../oci/digest.js';
import { MediaType } from '../../oci/mediatypes.js';
import type { RegistryEnv } from '../app.js';
import { basic, bearer, pushImageAs, USERS, withAuthRegistry } from '../auth/_testing.js';
import { loadRegistryConfig } from '../config.js';
import { errorCode, pushImage, uploadBlob } from '../_testing.js';
import { startRegistry, type RegistryServerOptions, type RunningRegistry } from '../server.js';
import type { RegistryStorage } from '../storage/types.js';
import type { ProxyOptions } from './index.js';
import { parseChallenge } from './upstream.js';

interface Pair {
  upstream: RunningRegistry;
  proxy: RunningRegistry;
  /** `METHOD kind ref` of every /v2/ request the upstream received. */
  seen: string[];
  warnings: string[];
  stopUpstream(): Promise<void>;
}

/** An upstream berth registry (requests recorded, `upstreamMiddleware` first) and a proxy of it; both removed after `fn`. */
async function withProxy(
  opts: { proxy?: Partial<ProxyOptions>; upstream?: Partial<RegistryServerOptions>; upstreamMiddleware?: MiddlewareHandler<RegistryEnv>[] },
  fn: (p: Pair) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-'));
  const seen: string[] = [];
  const record: MiddlewareHandler<RegistryEnv> = async (c, next) => {
    const t = c.var.target;
    seen.push(`${c.req.method} ${t.kind} ${t.ref ?? ''}`.trim());
    await next();
  };
  let upstream: RunningRegistry | undefined;
  let proxy: RunningRegistry | undefined;
  let upstreamUp = false;
  try {
    upstream = await startRegistry({
      addr: '127.0.0.1:0',
      storage: join(dir, 'upstream'),
      ...opts.upstream,
      middleware: [record, ...(opts.upstreamMiddleware ?? [])],
    });
    upstreamUp = true;
    const warnings: string[] = [];
    proxy = await startRegistry({
      addr: '127.0.0.1:0',
      storage: join(dir, 'proxy'),
      proxy: { remote: upstream.url, ttlMs: 60_000, onWarning: (m) => warnings.push(m), ...opts.proxy },
    });
    const up = upstream;
    await fn({
      upstream,
      proxy,
      seen,
      warnings,
      async stopUpstream() {
        upstreamUp = false;
        await up.close();
      },
    });
  } finally {
    await proxy?.close();
    if (upstreamUp) await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface PushedImage {
  digest: string;
  bytes: string;
  blobs: string[];
}

async function pushed(url: string, repo: string, tag: string, extra: Record<string, unknown> = {}): Promise<PushedImage> {
  const { bytes, digest } = await pushImage(url, repo, tag, extra);
  const m = JSON.parse(bytes) as { config: { digest: string }; layers: { digest: string }[] };
  return { bytes, digest, blobs: [m.config.digest, ...m.layers.map((l) => l.digest)] };
}

/** Pulls an image's manifest and blobs through `url` as a client does; fails on anything but the expected bytes. */
async function pull(url: string, repo: string, tag: string, image: PushedImage): Promise<void> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-content-digest'), image.digest);
  assert.equal(await res.text(), image.bytes);
  for (const blob of image.blobs) {
    const b = await fetch(`${url}/v2/${repo}/blobs/${blob}`);
    assert.equal(b.status, 200);
    assert.equal(digestOf(new Uint8Array(await b.arrayBuffer())), blob);
  }
}

const blobGets = (seen: string[]) => seen.filter((s) => s.startsWith('GET blob '));

describe('registry pull-through cache ([proxy])', { timeout: 120_000 }, () => {
  it('serves the upstream image, and a second pull asks the upstream for no blob', { timeout: 30_000 }, () =>
    withProxy({}, async ({ upstream, proxy, seen }) => {
      const image = await pushed(upstream.url, 'lib/app', 'v1');
      seen.length = 0;
      await pull(proxy.url, 'lib/app', 'v1', image);
      assert.deepEqual(blobGets(seen).sort(), image.blobs.map((b) => `GET blob ${b}`).sort());
      seen.length = 0;
      await pull(proxy.url, 'lib/app', 'v1', image);
      await pull(proxy.url, 'lib/app', image.digest, image);
      assert.deepEqual([...seen], [], 'a fresh tag and stored blobs need no upstream request');
      // Kept as the exact bytes, tagged, and listed in the proxy's own catalog.
      assert.equal(await proxy.storage.tags.get('lib/app', 'v1'), image.digest);
      assert.deepEqual(((await (await fetch(`${proxy.url}/v2/_catalog`)).json()) as { repositories: string[] }).repositories, ['lib/app']);
      // HEAD of a blob the proxy does not hold asks the upstream, which a pull by another name then fetches.
      const other = await pushed(upstream.url, 'lib/other', 'v1');
      const head = await fetch(`${proxy.url}/v2/lib/other/blobs/${other.blobs[1]}`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(Buffer.byteLength('layer of lib/other:v1')));
      assert.equal(await proxy.storage.blobs.stat(other.blobs[1]!), undefined);
      // A blob held for lib/app is served for lib/other once the upstream confirms lib/other has it (a HEAD, no GET),
      // and not for a repository whose upstream lacks it.
      seen.length = 0;
      const shared = image.blobs[0]!; // the config: pushImage's is the same for every image
      assert.equal(other.blobs[0], shared);
      const linked = await fetch(`${proxy.url}/v2/lib/other/blobs/${shared}`);
      assert.equal(digestOf(new Uint8Array(await linked.arrayBuffer())), shared);
      assert.deepEqual([...seen], [`HEAD blob ${shared}`]);
      assert.equal((await fetch(`${proxy.url}/v2/lib/secret/blobs/${shared}`)).status, 404);
      // Unknown upstream: the spec's errors.
      assert.equal((await fetch(`${proxy.url}/v2/lib/app/manifests/nope`)).status, 404);
      const missing = await fetch(`${proxy.url}/v2/lib/app/blobs/${digestOf('not there')}`);
      assert.equal(missing.status, 404);
      assert.equal(await errorCode(missing), 'BLOB_UNKNOWN');
    }),
  );

  it('lists tags from the upstream, and from the cache once it is down', { timeout: 30_000 }, () =>
    withProxy({}, async ({ upstream, proxy, warnings, stopUpstream }) => {
      const image = await pushed(upstream.url, 'lib/app', 'v1');
      await pushed(upstream.url, 'lib/app', 'v2');
      const tags = async () => ((await (await fetch(`${proxy.url}/v2/lib/app/tags/list`)).json()) as { tags: string[] }).tags;
      assert.deepEqual(await tags(), ['v1', 'v2']);
      await pull(proxy.url, 'lib/app', 'v1', image);
      await stopUpstream();
      assert.deepEqual(await tags(), ['v1']);
      assert.equal(warnings.length, 1);
    }),
  );

  it('fetches a blob once for 8 concurrent requests', { timeout: 30_000 }, () => {
    // The upstream holds each blob GET back a while, so that every request reaches the proxy before any answer.
    const slow: MiddlewareHandler<RegistryEnv> = async (c, next) => {
      if (c.var.target.kind === 'blob' && c.req.method === 'GET') await sleep(300);
      await next();
    };
    return withProxy({ upstreamMiddleware: [slow] }, async ({ upstream, proxy, seen }) => {
      const data = randomBytes(6 << 20);
      const digest = await uploadBlob(upstream.url, 'lib/big', data);
      const bodies = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await fetch(`${proxy.url}/v2/lib/big/blobs/${digest}`);
          assert.equal(res.status, 200);
          return Buffer.from(await res.arrayBuffer());
        }),
      );
      for (const body of bodies) assert.ok(body.equals(data));
      assert.deepEqual(blobGets(seen), [`GET blob ${digest}`]);
      // A range of a blob not yet held waits for the whole of it, and is cut from the storage.
      const small = await uploadBlob(upstream.url, 'lib/big', 'abcdefghij');
      const ranged = await fetch(`${proxy.url}/v2/lib/big/blobs/${small}`, { headers: { Range: 'bytes=2-4' } });
      assert.equal(ranged.status, 206);
      assert.equal(await ranged.text(), 'cde');
    });
  });

  it('streams a blob to its first client while storing it, and publishes it only once whole', { timeout: 30_000 }, () => {
    const data = randomBytes(1 << 20);
    const digest = digestOf(data);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The upstream sends the first half in small pieces, then waits for the test.
    const trickle: MiddlewareHandler<RegistryEnv> = async (c, next) => {
      if (c.req.method !== 'GET' || c.var.target.ref !== digest) return next();
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let at = 0; at < data.length / 2; at += 16 << 10) controller.enqueue(data.subarray(at, at + (16 << 10)));
          await gate;
          controller.enqueue(data.subarray(data.length / 2));
          controller.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'Content-Length': String(data.length), 'Docker-Content-Digest': digest } });
    };
    return withProxy({ upstreamMiddleware: [trickle] }, async ({ upstream, proxy }) => {
      assert.equal(await uploadBlob(upstream.url, 'lib/app', data), digest);
      const res = await fetch(`${proxy.url}/v2/lib/app/blobs/${digest}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(data.length));
      const reader = res.body!.getReader();
      const chunks: Uint8Array[] = [];
      let first = await reader.read();
      chunks.push(first.value!);
      assert.ok(first.value!.length > 0);
      // Bytes arrived while the upstream still holds back half: nothing is published yet.
      assert.equal(await proxy.storage.blobs.stat(digest), undefined);
      release();
      for (first = await reader.read(); !first.done; first = await reader.read()) chunks.push(first.value);
      assert.equal(digestOf(Buffer.concat(chunks)), digest);
      assert.deepEqual(await proxy.storage.links.stat('lib/app', digest), { digest, size: data.length });
    });
  });

  it('finishes storing a blob whose client left, and stops a fetch cleanly when the proxy closes', { timeout: 30_000 }, () => {
    const held = new Map<string, { data: Buffer; gate: Promise<void>; release: () => void }>();
    const hold = (data: Buffer) => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      held.set(digestOf(data), { data, gate, release });
      return digestOf(data);
    };
    // Half of each held blob, then nothing until it is released.
    const trickle: MiddlewareHandler<RegistryEnv> = async (c, next) => {
      const h = c.req.method === 'GET' ? held.get(c.var.target.ref ?? '') : undefined;
      if (!h) return next();
      const half = h.data.length / 2;
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let at = 0; at < half; at += 16 << 10) controller.enqueue(h.data.subarray(at, at + (16 << 10)));
          await h.gate;
          controller.enqueue(h.data.subarray(half));
          controller.close();
        },
      });
      return new Response(body, { status: 200, headers: { 'Content-Length': String(h.data.length) } });
    };
    return withProxy({ upstreamMiddleware: [trickle] }, async ({ upstream, proxy }) => {
      const left = randomBytes(1 << 20);
      await uploadBlob(upstream.url, 'lib/app', left);
      const leftDigest = hold(left);
      const abort = new AbortController();
      const res = await fetch(`${proxy.url}/v2/lib/app/blobs/${leftDigest}`, { signal: abort.signal });
      await res.body!.getReader().read();
      abort.abort();
      held.get(leftDigest)!.release();
      for (let i = 0; i < 100 && !(await proxy.storage.links.stat('lib/app', leftDigest)); i++) await sleep(50);
      assert.deepEqual(await proxy.storage.links.stat('lib/app', leftDigest), { digest: leftDigest, size: left.length });

      const stuck = randomBytes(1 << 20);
      await uploadBlob(upstream.url, 'lib/app', stuck);
      const stuckDigest = hold(stuck);
      const pending = fetch(`${proxy.url}/v2/lib/app/blobs/${stuckDigest}`).then((r) => r.arrayBuffer());
      pending.catch(() => undefined);
      while ((await proxy.storage.uploads.list()).length === 0) await sleep(20);
      // close() ends the fetch (its upload session dropped) before it closes the storage.
      await proxy.close();
      await assert.rejects(pending);
      held.get(stuckDigest)!.release();
      assert.equal(await proxy.storage.blobs.stat(stuckDigest), undefined);
      assert.deepEqual(await proxy.storage.uploads.list(), []);
    });
  });

  it('serves cached tags while the upstream is down, and fails for what it does not hold', { timeout: 30_000 }, () =>
    withProxy({ proxy: { ttlMs: 0 } }, async ({ upstream, proxy, warnings, stopUpstream }) => {
      const image = await pushed(upstream.url, 'lib/app', 'v1');
      const other = await pushed(upstream.url, 'lib/app', 'v2', { annotations: { second: 'yes' } });
      await pull(proxy.url, 'lib/app', 'v1', image);
      assert.deepEqual(warnings, []);
      await stopUpstream();
      await pull(proxy.url, 'lib/app', 'v1', image);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /serving lib\/app:v1 from the cache: upstream http:\/\/127\.0\.0\.1:\d+ is unreachable/);
      const uncached = await fetch(`${proxy.url}/v2/lib/app/manifests/v2`);
      assert.equal(uncached.status, 503);
      assert.equal(await errorCode(uncached), 'UNAVAILABLE');
      // (its layer: the config is the same as v1's, which the proxy holds)
      const blob = await fetch(`${proxy.url}/v2/lib/app/blobs/${other.blobs[1]}`);
      assert.equal(blob.status, 503);
      assert.equal(await proxy.storage.blobs.stat(other.blobs[1]!), undefined);
    }),
  );

  it('serves a cached tag when the upstream answers 503 or 429, but not a tag it never held', { timeout: 30_000 }, () => {
    let failWith = 0;
    const failing: MiddlewareHandler<RegistryEnv> = async (c, next) => {
      if (failWith !== 0 && c.var.target.kind === 'manifest') return c.json({ errors: [{ code: 'UNKNOWN', message: 'down' }] }, failWith as 503);
      await next();
    };
    return withProxy({ proxy: { ttlMs: 0 }, upstreamMiddleware: [failing] }, async ({ upstream, proxy, warnings }) => {
      const image = await pushed(upstream.url, 'lib/app', 'v1');
      await pushed(upstream.url, 'lib/app', 'v2');
      await pull(proxy.url, 'lib/app', 'v1', image);
      for (const [status, code] of [
        [503, 'UNAVAILABLE'],
        [429, 'TOOMANYREQUESTS'],
      ] as const) {
        failWith = status;
        await pull(proxy.url, 'lib/app', 'v1', image);
        const res = await fetch(`${proxy.url}/v2/lib/app/manifests/v2`);
        assert.equal(res.status, status);
        assert.equal(await errorCode(res), code);
      }
      assert.equal(warnings.length, 2);
    });
  });

  it('refreshes a tag once its ttl has passed', { timeout: 30_000 }, () =>
    withProxy({ proxy: { ttlMs: 500 } }, async ({ upstream, proxy, seen }) => {
      const first = await pushed(upstream.url, 'lib/app', 'v1');
      await pull(proxy.url, 'lib/app', 'v1', first);
      const second = await pushed(upstream.url, 'lib/app', 'v1', { annotations: { version: '2' } });
      assert.notEqual(second.digest, first.digest);
      seen.length = 0;
      await pull(proxy.url, 'lib/app', 'v1', first);
      assert.deepEqual([...seen], [], 'within the ttl the cached tag is served');
      await sleep(600);
      await pull(proxy.url, 'lib/app', 'v1', second);
      assert.deepEqual(
        seen.filter((s) => s.includes('manifest')),
        ['HEAD manifest v1', 'GET manifest v1'],
      );
      // Unchanged upstream: the HEAD alone confirms it.
      await sleep(600);
      seen.length = 0;
      await pull(proxy.url, 'lib/app', 'v1', second);
      assert.deepEqual(seen, ['HEAD manifest v1']);
    }),
  );

  it('refuses pushes and deletes with 405 UNSUPPORTED', { timeout: 30_000 }, () =>
    withProxy({}, async ({ upstream, proxy }) => {
      const image = await pushed(upstream.url, 'lib/app', 'v1');
      await pull(proxy.url, 'lib/app', 'v1', image);
      for (const [method, path] of [
        ['POST', '/v2/lib/app/blobs/uploads/'],
        ['PUT', '/v2/lib/app/manifests/v2'],
        ['DELETE', '/v2/lib/app/manifests/v1'],
        ['DELETE', `/v2/lib/app/blobs/${image.blobs[0]}`],
      ] as const) {
        const res = await fetch(`${proxy.url}${path}`, { method, ...(method === 'PUT' ? { body: image.bytes } : {}) });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(await errorCode(res), 'UNSUPPORTED');
      }
      await assert.rejects(pushImage(proxy.url, 'lib/mine', 'v1'), /405/);
      assert.equal(await proxy.storage.tags.get('lib/app', 'v1'), image.digest);
    }),
  );

  it('keeps nothing of an upstream blob whose bytes do not match its digest', { timeout: 30_000 }, () => {
    let corrupt = '';
    const liar: MiddlewareHandler<RegistryEnv> = async (c, next) => {
      if (c.req.method === 'GET' && c.var.target.ref === corrupt) {
        const bytes = Buffer.alloc(3 << 20, 'x');
        return new Response(bytes, { status: 200, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) } });
      }
      await next();
    };
    return withProxy({ upstreamMiddleware: [liar] }, async ({ upstream, proxy }) => {
      const digest = await uploadBlob(upstream.url, 'lib/app', randomBytes(3 << 20));
      corrupt = digest;
      // The streaming client sees its response cut off before the end; a second one gets an error at once.
      await assert.rejects(
        fetch(`${proxy.url}/v2/lib/app/blobs/${digest}`).then((r) => r.arrayBuffer()),
        /terminated|other side closed|aborted/,
      );
      const again = await fetch(`${proxy.url}/v2/lib/app/blobs/${digest}`, { headers: { Range: 'bytes=0-9' } });
      assert.equal(again.status, 503);
      assert.match(((await again.json()) as { errors: { message: string }[] }).errors[0]!.message, /does not match/);
      assert.equal(await proxy.storage.blobs.stat(digest), undefined);
      assert.equal(await proxy.storage.links.stat('lib/app', digest), undefined);
      assert.deepEqual(await proxy.storage.uploads.list(), []);
      // Once the upstream mends its ways, the blob comes through.
      corrupt = '';
      const fixed = await fetch(`${proxy.url}/v2/lib/app/blobs/${digest}`);
      assert.equal(digestOf(new Uint8Array(await fixed.arrayBuffer())), digest);
    });
  });

  it('pulls from an upstream with htpasswd users (Basic), with the configured credentials', { timeout: 60_000 }, () =>
    withAuthRegistry({ token: false }, async ({ dir, registry: upstream }) => {
      const digest = await pushImageAs(upstream.url, 'private/app', 'v1', basic('alice', USERS.alice));
      await withPlainProxy(dir, { remote: upstream.url, username: 'alice', password: USERS.alice }, async (proxy) => {
        const res = await fetch(`${proxy.url}/v2/private/app/manifests/v1`);
        assert.equal(res.status, 200);
        assert.equal(digestOf(new Uint8Array(await res.arrayBuffer())), digest);
        const layer = await fetch(`${proxy.url}/v2/private/app/blobs/${digestOf('layer of private/app:v1')}`);
        assert.equal(await layer.text(), 'layer of private/app:v1');
      });
      await withPlainProxy(dir, { remote: upstream.url }, async (proxy) => {
        const res = await fetch(`${proxy.url}/v2/private/app/manifests/v1`);
        assert.equal(res.status, 403);
        assert.equal(await errorCode(res), 'DENIED');
      });
    }),
  );

  it('trusts an upstream over TLS through proxy.ca', { timeout: 60_000 }, () =>
    withAuthRegistry({ token: false, tls: true }, async ({ dir, registry: upstream, certDir }) => {
      assert.match(upstream.url, /^https:/);
      const ca = join(certDir, 'ca.crt');
      // Node's fetch does not know the test CA: the image goes straight into the upstream's storage.
      const digest = await storeImage(upstream.storage, 'public/app', 'v1');
      await withPlainProxy(dir, { remote: upstream.url, ca }, async (proxy) => {
        const res = await fetch(`${proxy.url}/v2/public/app/manifests/v1`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), digest);
      });
      await withPlainProxy(dir, { remote: upstream.url }, async (proxy) => {
        const res = await fetch(`${proxy.url}/v2/public/app/manifests/v1`);
        assert.equal(res.status, 503);
        assert.match(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message, /certificate/);
      });
    }),
  );

  it('pulls from an upstream with a token server (Bearer), fetching a token with the credentials', { timeout: 60_000 }, () =>
    withAuthRegistry({ token: true }, async ({ dir, registry: upstream }) => {
      const q = new URLSearchParams({ service: 'berth-test', scope: 'repository:private/app:pull,push' });
      const { token } = (await (await fetch(`${upstream.url}/token?${q}`, { headers: basic('alice', USERS.alice) })).json()) as { token: string };
      const digest = await pushImageAs(upstream.url, 'private/app', 'v1', bearer(token));
      await withPlainProxy(dir, { remote: upstream.url, username: 'alice', password: USERS.alice }, async (proxy) => {
        const res = await fetch(`${proxy.url}/v2/private/app/manifests/v1`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), digest);
        const layer = await fetch(`${proxy.url}/v2/private/app/blobs/${digestOf('layer of private/app:v1')}`);
        assert.equal(await layer.text(), 'layer of private/app:v1');
      });
      await withPlainProxy(dir, { remote: upstream.url, username: 'bob', password: 'wrong' }, async (proxy) => {
        const res = await fetch(`${proxy.url}/v2/private/app/manifests/v1`);
        assert.equal(res.status, 403);
        assert.match(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message, /token endpoint refused proxy\.username and password/);
      });
    }),
  );

  it('reads the challenge of a 401: Bearer before Basic, quoted parameters', { timeout: 10_000 }, () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
      scheme: 'bearer',
      realm: 'https://auth.example/token',
      service: 'registry.example',
    });
    assert.deepEqual(parseChallenge('Basic realm="berth-registry"'), { scheme: 'basic', realm: 'berth-registry' });
    assert.deepEqual(parseChallenge('Basic realm="x", Bearer realm="https://t.example/a\\"b",service=s'), {
      scheme: 'bearer',
      realm: 'https://t.example/a"b',
      service: 's',
    });
    assert.equal(parseChallenge('Negotiate abc=='), undefined);
    assert.equal(parseChallenge(undefined), undefined);
  });

  it('reads [proxy] from the config file, and refuses a bad one', { timeout: 10_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-proxy-cfg-'));
    try {
      const file = join(dir, 'registry.toml');
      await writeFile(file, '[proxy]\nremote = "https://upstream.example:5000"\nusername = "u"\npassword = "p"\nttl = "90s"\nca = "ca.pem"\n');
      assert.deepEqual((await loadRegistryConfig(file)).proxy, {
        remote: 'https://upstream.example:5000',
        username: 'u',
        password: 'p',
        ttlMs: 90_000,
        ca: join(dir, 'ca.pem'),
      });
      await writeFile(file, '[proxy]\nremote = "http://127.0.0.1:5000/"\n');
      assert.deepEqual((await loadRegistryConfig(file)).proxy, { remote: 'http://127.0.0.1:5000', ttlMs: 300_000 });
      for (const [text, why] of [
        ['[proxy]\nttl = "5m"\n', /needs remote/],
        ['[proxy]\nremote = "ftp://x"\n', /must be http\(s\):\/\/host/],
        ['[proxy]\nremote = "https://x/v2/library"\n', /must be http\(s\):\/\/host/],
        ['[proxy]\nremote = "https://x"\nusername = "u"\n', /both username and password/],
        ['[proxy]\nremote = "https://x"\nttl = "soon"\n', /proxy\.ttl must be a duration/],
        ['[proxy]\nremote = "http://x"\nca = "ca.pem"\n', /needs an https/],
        ['[proxy]\nremote = "https://x"\nmirror = true\n', /unknown key "mirror" in \[proxy\]/],
      ] as const) {
        await writeFile(file, text);
        await assert.rejects(loadRegistryConfig(file), why);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A proxy of `opts.remote` over a fresh storage under `dir`, stopped and removed after `fn`. */
async function withPlainProxy(dir: string, opts: Omit<ProxyOptions, 'ttlMs'>, fn: (proxy: RunningRegistry) => Promise<void>): Promise<void> {
  const storage = await mkdtemp(join(dir, 'proxy-'));
  const proxy = await startRegistry({ addr: '127.0.0.1:0', storage, proxy: { ttlMs: 60_000, ...opts } });
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
    await rm(storage, { recursive: true, force: true });
  }
}

/** Puts a config, a layer and a manifest naming them into a registry's storage; the manifest's digest. */
async function storeImage(storage: RegistryStorage, repo: string, tag: string): Promise<string> {
  const blob = async (text: string) => {
    const session = await storage.uploads.create(repo);
    await storage.uploads.append(repo, session.id, 0, Readable.from([Buffer.from(text)]));
    return storage.uploads.finish(repo, session.id, digestOf(text));
  };
  const config = await blob('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const layer = await blob(`layer of ${repo}:${tag}`);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, ...config },
    layers: [{ mediaType: MediaType.OciLayerGzip, ...layer }],
  });
  const stored = await storage.manifests.put(repo, Buffer.from(manifest), MediaType.OciManifest);
  await storage.tags.set(repo, tag, stored.digest);
  return stored.digest;
}
