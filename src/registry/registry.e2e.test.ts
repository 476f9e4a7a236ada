import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { ok, podmanArgs, run, tempDir } from '../testing/cli.js';
import { oneFileLayer, writeTestLayout } from '../testing/oci-layout.js';
import { startRegistry, type RunningRegistry } from './server.js';

const writeLayout = (dir: string, tag: string) =>
  writeTestLayout(dir, tag, {
    text: 'hello from the berth registry\n',
    config: { Cmd: ['/hello'] },
    annotations: { 'org.example.test': 'berth-registry-e2e' },
  });

describe('registry end to end with skopeo and podman', () => {
  const tmp = tempDir('berth-reg-e2e-');
  let registry: RunningRegistry;
  let host = '';

  before(async () => {
    registry = await startRegistry({ addr: '127.0.0.1:0', storage: join(tmp.path, 'storage') });
    host = registry.url.replace(/^http:\/\//, '');
  });
  after(async () => {
    await registry?.close();
    await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
    tmp.cleanup();
  });

  it('skopeo copies an OCI layout in and back out with the same manifest digest', async () => {
    const src = join(tmp.path, 'layout-in');
    const digest = await writeLayout(src, 'v1');
    await ok('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${host}/e2e/skopeo/img:v1`]);

    const raw = await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/e2e/skopeo/img:v1`]);
    assert.equal(digestOf(raw.stdout), digest);
    const tags = JSON.parse((await ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${host}/e2e/skopeo/img`])).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);

    const out = join(tmp.path, 'layout-out');
    await ok('skopeo', ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', `docker://${host}/e2e/skopeo/img@${digest}`, `oci:${out}:back`]);
    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests[0]!.digest, digest);
    assert.deepEqual(await readFile(join(out, 'blobs', 'sha256', digest.slice(7))), await readFile(join(src, 'blobs', 'sha256', digest.slice(7))));
  });

  it('podman pushes an image and pulls it back', async () => {
    const podman = (args: string[]) => ok('podman', [...podmanArgs(tmp.path), ...args]);
    const rootfs = join(tmp.path, 'rootfs.tar');
    await writeFile(rootfs, await oneFileLayer('hello from the berth registry\n'));
    await podman(['import', '--change', 'CMD ["/hello"]', rootfs, 'localhost/e2e-podman:v1']);
    const id = (await podman(['image', 'inspect', '--format', '{{.Id}}', 'localhost/e2e-podman:v1'])).stdout.trim();
    const ref = `${host}/e2e/podman/img:v1`;
    await podman(['push', '--quiet', '--tls-verify=false', 'localhost/e2e-podman:v1', `docker://${ref}`]);
    await podman(['rmi', '--force', 'localhost/e2e-podman:v1']);

    await podman(['pull', '--quiet', '--tls-verify=false', ref]);
    assert.equal((await podman(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim(), id);
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(catalog.repositories.includes('e2e/podman/img'));
  });
});
