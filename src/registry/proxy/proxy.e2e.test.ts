import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import type { MiddlewareHandler } from 'hono';
import { digestOf } from '../../oci/digest.js';
import { serveBerthRegistry } from '../../testing/berth-registry.js';
import { berth, ok, run, tempDir } from '../../testing/cli.js';
import { writeTestLayout } from '../../testing/oci-layout.js';
import { waitFor } from '../../testing/wait.js';
import { startRegistry as startDistribution } from '../../testing/registry.js';
import type { RegistryEnv } from '../app.js';
import { startRegistry } from '../server.js';

/** The manifest digest of the one image of an OCI layout. */
async function layoutDigest(dir: string): Promise<string> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  return index.manifests[0]!.digest;
}

describe('registry serve as a pull-through cache, with berth, skopeo and the CNCF registry', { timeout: 300_000 }, () => {
  const tmp = tempDir('berth-proxy-e2e-');
  after(() => tmp.cleanup());

  it('`registry serve` with [proxy]: berth pull and skopeo copy through it, the second without upstream blob requests', { timeout: 180_000 }, async () => {
    const blobGets: string[] = [];
    const count: MiddlewareHandler<RegistryEnv> = async (c, next) => {
      if (c.req.method === 'GET' && c.var.target.kind === 'blob') blobGets.push(c.var.target.ref!);
      await next();
    };
    const upstream = await startRegistry({ addr: '127.0.0.1:0', storage: join(tmp.path, 'upstream'), middleware: [count] });
    const config = join(tmp.path, 'proxy.toml');
    await writeFile(config, `[http]\naddr = "127.0.0.1:0"\n[storage]\npath = "proxy-storage"\n[proxy]\nremote = "${upstream.url}"\nttl = "10m"\n`);
    const served = await serveBerthRegistry(join(tmp.path, 'proxy-root'), ['--config', config]);
    try {
      const proxy = served.host;
      assert.ok((await fetch(`${served.url}/v2/`)).ok);
      // Logged just after the address the helper waits for: it may come in a later chunk.
      await waitFor('the proxy line in the log', () => (/pull-through cache/.test(served.stderr()) ? true : undefined), 10_000);
      assert.match(served.stderr(), new RegExp(`a pull-through cache of ${upstream.url.replace(/[.]/g, '\\.')}`));
      const layout = join(tmp.path, 'layout');
      const digest = await writeTestLayout(layout, 'v1', { text: 'hello through the proxy\n', config: { Cmd: ['/hello'] } });
      await ok('skopeo', [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--dest-tls-verify=false',
        `oci:${layout}:v1`,
        `docker://${upstream.url.slice(7)}/lib/hello:v1`,
      ]);
      blobGets.length = 0;

      const first = join(tmp.path, 'store-1');
      const pull = await berth(first, ['pull', '-q', '--tls-verify=false', `${proxy}/lib/hello:v1`]);
      assert.equal(pull.code, 0, pull.stderr);
      const [info] = JSON.parse((await berth(first, ['inspect', `${proxy}/lib/hello:v1`])).stdout) as { Digest: string; Config: { Cmd: string[] } }[];
      assert.equal(info!.Digest, digest);
      assert.deepEqual(info!.Config.Cmd, ['/hello']);
      assert.equal(blobGets.length, 2, `config and layer, once each: ${blobGets.join(' ')}`);

      blobGets.length = 0;
      const again = await berth(join(tmp.path, 'store-2'), ['pull', '-q', '--tls-verify=false', `${proxy}/lib/hello:v1`]);
      assert.equal(again.code, 0, again.stderr);
      const out = join(tmp.path, 'out');
      await ok('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', `docker://${proxy}/lib/hello:v1`, `oci:${out}:v1`]);
      assert.equal(await layoutDigest(out), digest);
      assert.deepEqual(blobGets, [], 'the second and third pulls come from the cache');
      // Pushing through the proxy is refused.
      const push = await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${proxy}/lib/mine:v1`]);
      assert.notEqual(push.code, 0);
      assert.match(push.stderr, /405|UNSUPPORTED|not supported/i);
    } finally {
      await served.stop();
      await upstream.close();
      await berth(join(tmp.path, 'store-1'), ['system', 'reset', '-f']).catch(() => undefined);
      await berth(join(tmp.path, 'store-2'), ['system', 'reset', '-f']).catch(() => undefined);
    }
    assert.doesNotMatch(served.stderr(), /internal error/);
  });

  it('proxies the CNCF distribution registry behind htpasswd (Basic) with the configured credentials', { timeout: 120_000 }, async () => {
    const dir = join(tmp.path, 'cncf');
    const htpasswd = join(tmp.path, 'users.htpasswd');
    await writeFile(htpasswd, `puller:${bcrypt.hashSync('pull-secret', 5)}\n`);
    const upstream = await startDistribution(dir, { htpasswd });
    let upstreamUp = true;
    const proxy = await startRegistry({
      addr: '127.0.0.1:0',
      storage: join(tmp.path, 'cncf-proxy'),
      proxy: { remote: `http://${upstream.host}`, username: 'puller', password: 'pull-secret', ttlMs: 60_000 },
    });
    try {
      const layout = join(tmp.path, 'cncf-layout');
      const digest = await writeTestLayout(layout, 'v1', { text: 'hello from distribution\n' });
      await ok('skopeo', [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--dest-tls-verify=false',
        '--dest-creds',
        'puller:pull-secret',
        `oci:${layout}:v1`,
        `docker://${upstream.host}/team/hello:v1`,
      ]);
      const host = proxy.url.slice(7);
      const out = join(tmp.path, 'cncf-out');
      await ok('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/team/hello:v1`, `oci:${out}:v1`]);
      assert.equal(await layoutDigest(out), digest);
      const tags = JSON.parse((await ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/team/hello`])).stdout) as { Tags: string[] };
      assert.deepEqual(tags.Tags, ['v1']);
      // What skopeo got is what the proxy keeps: the exact manifest bytes.
      const raw = await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/team/hello:v1`]);
      assert.equal(digestOf(raw.stdout), digest);
      // The upstream gone, the proxy still serves what it holds.
      upstreamUp = false;
      await upstream.stop();
      const cached = join(tmp.path, 'cncf-cached');
      await ok('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${host}/team/hello@${digest}`, `oci:${cached}:v1`]);
      assert.equal(await layoutDigest(cached), digest);
    } finally {
      await proxy.close();
      // (stop() waits for an exit that happened already when called twice)
      if (upstreamUp) await upstream.stop();
    }
  });
});
