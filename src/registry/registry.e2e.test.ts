import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { ok, podmanArgs, run, tempDir } from '../testing/cli.js';
import { startRegistry, type RunningRegistry } from './server.js';

/** A one-file layer tar, made with tar-stream. */
async function layerTar(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, 'hello from the berth registry\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes a tiny OCI layout (one image, tagged `tag`) into `dir`; the manifest's digest. */
async function writeLayout(dir: string, tag: string): Promise<string> {
  const raw = await layerTar();
  const layer = gzipSync(raw);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/hello'] }, rootfs: { type: 'layers', diff_ids: [digestOf(raw)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
      annotations: { 'org.example.test': 'berth-registry-e2e' },
    }),
  );
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [layer, config, manifest]) await writeFile(join(dir, 'blobs', 'sha256', digestOf(b).slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry = { mediaType: MediaType.OciManifest, digest: digestOf(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [entry] }));
  return digestOf(manifest);
}

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
    await writeFile(rootfs, await layerTar());
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
