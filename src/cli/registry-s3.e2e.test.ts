// `berth registry serve` and `registry gc` with `[storage.s3]` in their config file, against a private
// Ceph RGW: an image pushed by skopeo through one server is pulled through a second on the same bucket,
// `registry gc --config` collects what was deleted, and an https endpoint is checked against the
// config's `ca`, not the AWS_CA_BUNDLE the environment sets.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { startCephRgw, type CephRgw } from '../testing/ceph-rgw.js';
import { berth, busyboxRootfs, ok, tempDir } from '../testing/cli.js';
import { createBucket, s3ConfigToml, serveWithConfig } from '../testing/s3-registry.js';

const BUCKET = 'cli';

/** A TLS front for the RGW (bytes passed through as they are), with a certificate of its own CA. */
async function tlsFront(dir: string, target: string): Promise<{ endpoint: string; ca: string; close: () => Promise<void> }> {
  const ca = join(dir, 'ca.pem');
  const key = join(dir, 'key.pem');
  await ok('openssl', [
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', ca, '-days', '1'],
    ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  const { hostname, port } = new URL(target);
  const server: Server = createTlsServer({ cert: await readFile(ca), key: await readFile(key) }, (socket) => {
    const upstream = connect(Number(port), hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address() as { port: number };
  return { endpoint: `https://127.0.0.1:${address.port}`, ca, close: () => new Promise((ok) => server.close(() => ok())) };
}

describe('berth registry serve and gc on S3 (CLI)', { timeout: 10 * 60_000 }, () => {
  const tmp = tempDir('berth-registry-s3-');
  let rgw: CephRgw | undefined;
  before(
    async () => {
      rgw = await startCephRgw();
      await createBucket(rgw, BUCKET);
    },
    { timeout: 120_000 },
  );
  after(async () => {
    await rgw?.stop();
    tmp.cleanup();
  });

  it('pushes through one server, pulls through another on the same bucket, and collects with registry gc --config', async () => {
    const prefix = `cli-${randomUUID()}`;
    const [dirA, dirB] = [join(tmp.path, 'a'), join(tmp.path, 'b')];
    for (const d of [dirA, dirB]) await mkdir(d);
    const toml = s3ConfigToml(rgw!, BUCKET, prefix, ['redirect = true']);
    const a = await serveWithConfig(dirA, toml);
    const b = await serveWithConfig(dirB, toml);
    try {
      const store = join(tmp.path, 'store');
      const rootfs = join(tmp.path, 'busybox.tar');
      await busyboxRootfs(rootfs);
      assert.equal((await berth(store, ['import', '-q', rootfs, 'bb'])).code, 0);
      const layout = join(tmp.path, 'layout');
      assert.equal((await berth(store, ['save', '--format', 'oci-dir', '-o', layout, 'bb'])).code, 0);
      const hostA = new URL(a.url).host;
      const hostB = new URL(b.url).host;
      await ok('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:localhost/bb:latest`, `docker://${hostA}/team/bb:1`]);
      // Through B at once, blobs by redirect to RGW.
      const pulled = join(tmp.path, 'pulled');
      await ok('skopeo', ['copy', '--src-tls-verify=false', `docker://${hostB}/team/bb:1`, `oci:${pulled}:bb`]);
      const tags = (await (await fetch(`${b.url}/v2/team/bb/tags/list`)).json()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['1']);
      const head = await fetch(`${b.url}/v2/team/bb/manifests/1`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
      const digest = head.headers.get('docker-content-digest');
      assert.equal((await fetch(`${a.url}/v2/team/bb/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      // B may serve the revision from memory for the existence window (3 s), no longer.
      const deadline = Date.now() + 5_000;
      let status = 0;
      while ((status = (await fetch(`${b.url}/v2/team/bb/manifests/${digest}`)).status) !== 404 && Date.now() < deadline) await sleep(200);
      assert.equal(status, 404);
    } finally {
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    }
    const gc = await berth(join(tmp.path, 'store'), ['registry', 'gc', '--config', a.config, '--grace', '0', '--format', 'json']);
    assert.equal(gc.code, 0, gc.stderr);
    const report = JSON.parse(gc.stdout) as { blobsRemoved: string[]; bytesFreed: number };
    assert.equal(report.blobsRemoved.length, 3); // config, layer and the manifest itself
    assert.ok(report.bytesFreed > 1_000_000);
  });

  it('checks an https endpoint against the config ca, whatever AWS_CA_BUNDLE says; without it, fails in one line', async () => {
    const dir = join(tmp.path, 'tls');
    await mkdir(dir);
    const front = await tlsFront(dir, rgw!.endpoint);
    try {
      const prefix = `tls-${randomUUID()}`;
      // The machine's bundle (which does not hold our CA) in the environment: the config's ca wins.
      const server = await serveWithConfig(dir, s3ConfigToml(rgw!, BUCKET, prefix, [`ca = "${front.ca}"`], front.endpoint), {
        AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt',
      });
      try {
        const data = Buffer.from('over TLS to the object store');
        const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
        assert.equal((await fetch(`${server.url}/v2/t/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data })).status, 201);
        assert.equal(await (await fetch(`${server.url}/v2/t/blobs/${digest}`)).text(), data.toString());
      } finally {
        assert.equal(await server.stop(), 0);
      }
      const noCa = join(dir, 'no-ca');
      await mkdir(noCa);
      await assert.rejects(serveWithConfig(noCa, s3ConfigToml(rgw!, BUCKET, prefix, [], front.endpoint)), (e: Error) => {
        assert.match(e.message, /Error: S3 storage: bucket cli at https:\/\/127\.0\.0\.1:\d+: .*(self-signed|certificate)/i);
        return true;
      });
    } finally {
      await front.close();
    }
  });
});
