import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { serveBerthRegistry } from '../testing/berth-registry.js';
import { berth, busyboxRootfs, ok, tempDir } from '../testing/cli.js';

describe('berth registry serve (CLI)', { timeout: 180_000 }, () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('serves on loopback, takes an image from skopeo, and stops on SIGTERM', async () => {
    const s = await serveBerthRegistry(join(tmp.path, 'store'), ['--addr', '127.0.0.1:0']);
    const host = s.host;
    try {
      assert.ok((await fetch(`${s.url}/v2/`)).ok, 'registry did not come up');
      const rootfs = join(tmp.path, 'busybox.tar');
      await busyboxRootfs(rootfs);
      assert.equal((await berth(join(tmp.path, 'store'), ['import', '-q', rootfs, 'bb'])).code, 0);
      const layout = join(tmp.path, 'layout');
      assert.equal((await berth(join(tmp.path, 'store'), ['save', '--format', 'oci-dir', '-o', layout, 'bb'])).code, 0);
      await ok('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:localhost/bb:latest`, `docker://${host}/team/bb:1`]);
      const tags = (await (await fetch(`http://${host}/v2/team/bb/tags/list`)).json()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['1']);
      // Delete the manifest, leaving its blobs unreferenced for gc below.
      const head = await fetch(`http://${host}/v2/team/bb/manifests/1`, {
        method: 'HEAD',
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      const digest = head.headers.get('docker-content-digest');
      assert.match(digest ?? '', /^sha256:/);
      assert.equal((await fetch(`http://${host}/v2/team/bb/manifests/${digest}`, { method: 'DELETE' })).status, 202);
    } finally {
      s.child.kill('SIGTERM');
    }
    assert.equal(await s.exited, 0);
    const storage = join(tmp.path, 'store', 'registry');
    const dry = await berth(join(tmp.path, 'store'), ['registry', 'gc', '--storage', storage, '--grace', '0', '--dry-run', '--format', 'json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as { blobsRemoved: string[] }).blobsRemoved.length, 3); // config, layer and the manifest itself
    const gc = await berth(join(tmp.path, 'store'), ['registry', 'gc', '--storage', storage, '--grace', '0', '--format', 'json']);
    assert.equal(gc.code, 0, gc.stderr);
    const report = JSON.parse(gc.stdout) as { blobsRemoved: string[]; bytesFreed: number };
    assert.equal(report.blobsRemoved.length, 3); // config, layer and the manifest itself
    assert.ok(report.bytesFreed > 1_000_000);
    const again = JSON.parse((await berth(join(tmp.path, 'store'), ['registry', 'gc', '--storage', storage, '--grace', '0', '--format', 'json'])).stdout) as {
      blobsRemoved: string[];
    };
    assert.deepEqual(again.blobsRemoved, []);
  });

  it('refuses a non-loopback address while it has no access control', async () => {
    const r = await berth(join(tmp.path, 'store'), ['registry', 'serve', '--addr', '0.0.0.0:5999']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: refusing to listen on 0\.0\.0\.0:5999/);
    const v6 = await berth(join(tmp.path, 'store'), ['registry', 'serve', '--addr', '[::]:5999']);
    assert.equal(v6.code, 125);
    assert.equal(
      v6.stderr,
      'Error: refusing to listen on [::]:5999 without access control: it is not a loopback address; configure [auth] or [[access]] rules (or --htpasswd), or listen on a loopback address\n',
    );
  });

  it('serves without access control on loopback names and addresses', async () => {
    for (const addr of ['localhost:0', '[::1]:0', '127.0.0.1:0']) {
      const s = await serveBerthRegistry(join(tmp.path, 'store'), ['--addr', addr]);
      try {
        assert.equal((await fetch(`${s.url}/v2/`)).status, 200, addr);
      } finally {
        s.child.kill('SIGTERM');
      }
      assert.equal(await s.exited, 0, addr);
    }
  });
});
