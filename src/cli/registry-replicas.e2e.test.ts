import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CephRgw, startCephRgw } from '../testing/ceph-rgw.js';
import { berth, berthBin, busyboxRootfs, ok, podmanArgs, tempDir } from '../testing/cli.js';
import { type NetnsHost, type NetnsLan, netnsLan } from '../testing/netns-lan.js';
import { createBucket } from '../testing/s3-registry.js';
import { waitFor } from '../testing/wait.js';

/**
 * Issue 18's replicas: several `berth registry serve` processes on one S3 bucket (a real Ceph RGW),
 * each in a network namespace of its own at its own address, as separate machines would be. What one
 * takes, every other serves at once; a tag pushed through two at once ends with one winner; a chunked
 * upload survives its replica's kill -9 and finishes through another; garbage collection through one
 * never takes a blob that a push through another links.
 */

const USER = 'replica';
const PASSWORD = 'replica-secret';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Replica {
  host: NetnsHost;
  url: string;
  hostPort: string;
  config: string;
  process: ChildProcess;
}

async function api(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { Authorization: AUTH, ...(init.headers as Record<string, string> | undefined) } });
}

/** Starts an upload on `base` and returns its path (what a client keeps across replicas). */
async function startUpload(base: string, repo: string): Promise<string> {
  const r = await api(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(r.status, 202, await r.text());
  return new URL(r.headers.get('location')!, base).pathname + new URL(r.headers.get('location')!, base).search;
}

async function pushBlob(base: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const path = await startUpload(base, repo);
  const sep = path.includes('?') ? '&' : '?';
  const r = await api(`${base}${path}${sep}digest=${digest}`, {
    method: 'PUT',
    body: new Uint8Array(data),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(r.status, 201, await r.text());
  return digest;
}

function manifestOf(config: [string, number], layers: [string, number][]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config[0], size: config[1] },
      layers: layers.map(([digest, size]) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size })),
    }),
  );
}

async function putManifest(base: string, repo: string, ref: string, bytes: Buffer): Promise<Response> {
  return api(`${base}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'Content-Type': OCI_MANIFEST } });
}

describe('registry replicas on one S3 bucket, each in its own network namespace', { timeout: 600_000 }, () => {
  const tmp = tempDir();
  let lan: NetnsLan;
  let rgw: CephRgw;
  const replicas: Replica[] = [];
  const bucket = `replicas-${process.pid}`;

  async function startReplica(i: number, host: NetnsHost, extra = ''): Promise<Replica> {
    const config = join(tmp.path, `replica-${i}.toml`);
    writeFileSync(
      config,
      `[http]
addr = "${host.address}:5000"
[storage.s3]
endpoint = "http://${lan.gateway}:${new URL(rgw.endpoint).port}"
region = "${rgw.region}"
bucket = "${bucket}"
path_style = true
access_key = "${rgw.accessKey}"
secret_key = "${rgw.secretKey}"
[auth]
htpasswd = "${join(tmp.path, 'users.htpasswd')}"
${extra}`,
    );
    const child = host.spawn(berthBin, ['--root', join(tmp.path, `store-${i}`), 'registry', 'serve', '--config', config], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const url = `http://${host.address}:5000`;
    await waitFor(
      `replica ${i} to answer`,
      async () => {
        if (child.exitCode !== null) throw new Error(`replica ${i} exited with ${child.exitCode}`);
        return (
          (await fetch(`${url}/v2/`).then(
            (r) => r.status === 401 || r.ok,
            () => false,
          )) || undefined
        );
      },
      30_000,
    );
    return { host, url, hostPort: `${host.address}:5000`, config, process: child };
  }

  before(async () => {
    lan = await netnsLan();
    rgw = await startCephRgw({ alsoListenOn: [lan.gateway] });
    await createBucket(rgw, bucket);
    writeFileSync(join(tmp.path, 'users.htpasswd'), (await ok('htpasswd', ['-Bbn', USER, PASSWORD])).stdout);
    for (let i = 0; i < 3; i++) replicas.push(await startReplica(i, await lan.addHost()));
  });

  after(async () => {
    for (const r of replicas) r.process.kill('SIGKILL');
    await lan?.cleanup();
    await rgw?.stop();
    tmp.cleanup();
  });

  it('an image pushed through one replica is pulled through the others at once (berth, skopeo, podman)', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const store = join(tmp.path, 'client-store');
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    assert.equal((await berth(store, ['import', '-q', rootfs, 'bb'])).code, 0);
    const creds = `${USER}:${PASSWORD}`;
    const pushed = await berth(store, ['push', '-q', '--tls-verify=false', '--creds', creds, 'bb', `${a.hostPort}/team/bb:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const inspect = await ok('skopeo', ['inspect', '--tls-verify=false', '--creds', creds, `docker://${b.hostPort}/team/bb:1`]);
    const digest = (JSON.parse(inspect.stdout) as { Digest: string }).Digest;
    assert.match(digest, /^sha256:/);
    const pm = podmanArgs(tmp.path);
    await ok('podman', [...pm, 'pull', '-q', '--tls-verify=false', '--creds', creds, `${c.hostPort}/team/bb:1`]);
    const podmanDigest = (await ok('podman', [...pm, 'image', 'inspect', '--format', '{{.Digest}}', `${c.hostPort}/team/bb:1`])).stdout.trim();
    assert.equal(podmanDigest, digest);
    // The other way round: podman pushes through C, skopeo copies it out through A.
    await ok('podman', [...pm, 'push', '-q', '--tls-verify=false', '--creds', creds, `${c.hostPort}/team/bb:1`, `docker://${c.hostPort}/team/again:2`]);
    await ok('skopeo', ['copy', '-q', '--src-tls-verify=false', '--src-creds', creds, `docker://${a.hostPort}/team/again:2`, `dir:${join(tmp.path, 'out')}`]);
    const tags = (await (await api(`${b.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(tags.repositories.filter((r) => r.startsWith('team/')).sort(), ['team/again', 'team/bb']);
  });

  it('a tag pushed through two replicas at once ends on one of the two manifests, both whole', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const configDigest = await pushBlob(a.url, 'race/app', config);
    for (let round = 0; round < 5; round++) {
      const layers = [randomBytes(1024), randomBytes(1024)];
      const digests = [await pushBlob(a.url, 'race/app', layers[0]!), await pushBlob(b.url, 'race/app', layers[1]!)];
      const manifests = digests.map((d) => manifestOf([configDigest, config.length], [[d, 1024]]));
      const results = await Promise.all([putManifest(a.url, 'race/app', 'latest', manifests[0]!), putManifest(b.url, 'race/app', 'latest', manifests[1]!)]);
      assert.deepEqual(
        results.map((r) => r.status),
        [201, 201],
      );
      const got = await api(`${c.url}/v2/race/app/manifests/latest`, { headers: { Accept: OCI_MANIFEST } });
      const body = Buffer.from(await got.arrayBuffer());
      assert.ok(
        manifests.some((m) => m.equals(body)),
        'the tag names neither manifest',
      );
      for (const m of manifests) {
        const byDigest = Buffer.from(await (await api(`${c.url}/v2/race/app/manifests/${sha256(m)}`, { headers: { Accept: OCI_MANIFEST } })).arrayBuffer());
        assert.ok(byDigest.equals(m), 'a manifest was damaged');
      }
    }
  });

  it('a chunked upload whose replica is killed with SIGKILL is finished through another', async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    const data = randomBytes(12 * 1024 * 1024 + 123);
    const cut = 7 * 1024 * 1024;
    const path = await startUpload(a.url, 'resume/blob');
    const first = await api(`${a.url}${path}`, {
      method: 'PATCH',
      body: new Uint8Array(data.subarray(0, cut)),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${cut - 1}` },
    });
    assert.equal(first.status, 202, await first.text());
    a.process.kill('SIGKILL');
    await new Promise((r) => a.process.once('exit', r));
    // The client learns where its upload stands from another replica, and goes on from there.
    const status = await api(`${b.url}${path}`);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${cut - 1}`);
    const second = await api(`${b.url}${path}`, {
      method: 'PATCH',
      body: new Uint8Array(data.subarray(cut)),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${cut}-${data.length - 1}` },
    });
    assert.equal(second.status, 202, await second.text());
    const sep = path.includes('?') ? '&' : '?';
    const done = await api(`${b.url}${path}${sep}digest=${sha256(data)}`, { method: 'PUT' });
    assert.equal(done.status, 201, await done.text());
    const got = Buffer.from(await (await api(`${c.url}/v2/resume/blob/blobs/${sha256(data)}`)).arrayBuffer());
    assert.ok(got.equals(data), 'the blob arrived changed');
    replicas[0] = await startReplica(0, a.host);
  });

  it('garbage collection through one replica never takes what a push through another links', async () => {
    // Replica B collects on its own every second with no grace period, while pushes go through A.
    replicas[1]!.process.kill('SIGKILL');
    await new Promise((r) => replicas[1]!.process.once('exit', r));
    replicas[1] = await startReplica(1, replicas[1]!.host, '[gc]\ninterval = "1s"\ngrace = "0s"\n');
    const [a, b] = replicas as [Replica, Replica, Replica];
    // An orphan, unreferenced from the start: the collection must take it.
    const orphan = await pushBlob(a.url, 'gc/orphan', randomBytes(4096));
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const pushed: { repo: string; manifest: Buffer; layers: string[] }[] = [];
    let refused = 0;
    const started = Date.now();
    for (let i = 0; Date.now() - started < 8_000 || pushed.length < 5; i++) {
      const repo = `gc/app${i % 3}`;
      const configDigest = await pushBlob(a.url, repo, config);
      const layers = [await pushBlob(a.url, repo, randomBytes(2048)), await pushBlob(a.url, repo, randomBytes(2048))];
      const manifest = manifestOf(
        [configDigest, config.length],
        layers.map((d) => [d, 2048]),
      );
      const r = await putManifest(a.url, repo, `v${i}`, manifest);
      // With no grace period a push may lose its blobs before its manifest and be refused; it must never be accepted without them.
      if (r.status === 201) pushed.push({ repo, manifest, layers: [configDigest, ...layers] });
      else {
        assert.equal(r.status, 400, await r.text());
        refused++;
      }
    }
    await waitFor(
      'the orphan blob to be collected',
      async () => (await api(`${a.url}/v2/gc/orphan/blobs/${orphan}`, { method: 'HEAD' })).status === 404 || undefined,
      20_000,
    );
    // Stop B's collections before the check, so that what is checked is what the pushes left.
    b.process.kill('SIGKILL');
    await new Promise((r) => b.process.once('exit', r));
    for (const p of pushed) {
      for (const d of [...p.layers, sha256(p.manifest)]) {
        const kind = d === sha256(p.manifest) ? 'manifests' : 'blobs';
        const r = await api(`${a.url}/v2/${p.repo}/${kind}/${d}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
        assert.equal(r.status, 200, `${p.repo}: ${d} is gone though its manifest was accepted (${pushed.length} accepted, ${refused} refused)`);
      }
    }
    // And the offline collector, from another machine, agrees: nothing referenced is garbage.
    const gc = await berth(join(tmp.path, 'gc-store'), ['registry', 'gc', '--config', b.config, '--grace', '0', '--dry-run', '--format', 'json']);
    assert.equal(gc.code, 0, gc.stderr);
    const removable = new Set((JSON.parse(gc.stdout) as { blobsRemoved: { digest: string }[] }).blobsRemoved.map((x) => x.digest));
    for (const p of pushed) for (const d of p.layers) assert.ok(!removable.has(d), `${d} of an accepted manifest counts as garbage`);
    replicas[1] = await startReplica(1, b.host);
  });
});
