import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { berth, busyboxRootfs, ok, podmanArgs, run, tempDir } from '../testing/cli.js';
import { startRegistry, type Registry } from '../testing/registry.js';

/**
 * copy --all of a two-platform index between an OCI layout and a registry (apt's docker-registry), and layers
 * recompressed to zstd on push, checked with skopeo and podman.
 */

const ERROR_LINES = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('Error:'));
const RUN_QUIRKS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=4096:4096'];
const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * An OCI layout holding one index (ref name `tag`) of linux/amd64 and linux/arm64: both children share the
 * busybox layer (gzip); the arm64 one only says arm64 in its config. index.json is written as berth writes it.
 */
function writeIndexLayout(dir: string, tar: Buffer, tag: string, format: 'oci' | 'docker' = 'oci'): { index: Buffer; children: Record<string, Buffer> } {
  const docker = format === 'docker';
  const types = docker
    ? { manifest: MediaType.DockerManifest, config: MediaType.DockerConfig, layer: MediaType.DockerLayerGzip, index: MediaType.DockerManifestList }
    : { manifest: MediaType.OciManifest, config: MediaType.OciConfig, layer: MediaType.OciLayerGzip, index: MediaType.OciIndex };
  const layer = gzipSync(tar);
  const blobs: Buffer[] = [layer];
  const children: Record<string, Buffer> = {};
  const entries: object[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const config = Buffer.from(
      JSON.stringify({ architecture, os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [digestOf(tar)] } }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: types.manifest,
        config: { mediaType: types.config, digest: digestOf(config), size: config.length },
        layers: [{ mediaType: types.layer, digest: digestOf(layer), size: layer.length }],
      }),
    );
    blobs.push(config, manifest);
    children[architecture] = manifest;
    entries.push({ mediaType: types.manifest, digest: digestOf(manifest), size: manifest.length, platform: { architecture, os: 'linux' } });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: types.index, manifests: entries }));
  blobs.push(index);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of blobs) writeFileSync(join(dir, 'blobs', 'sha256', digestOf(b).slice(7)), b);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: types.index, digest: digestOf(index), size: index.length, annotations: { [REF_NAME]: tag } }],
    }),
  );
  return { index, children };
}

/** Every blob of a layout, by name, as bytes. */
function layoutBlobs(dir: string): Map<string, Buffer> {
  const d = join(dir, 'blobs', 'sha256');
  return new Map(
    readdirSync(d)
      .sort()
      .map((f) => [f, readFileSync(join(d, f))]),
  );
}

describe('image indexes and layer compression against a registry', { timeout: 600_000 }, () => {
  const tmp = tempDir();
  const root = join(tmp.path, 'store');
  const podman = (args: string[]) => ok('podman', [...podmanArgs(tmp.path), ...args]);
  let reg: Registry;
  let tar: Buffer;
  let id = '';

  before(async () => {
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    tar = readFileSync(rootfs);
    id = (await berth(root, ['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfs, 'bb'])).stdout.trim();
    assert.match(id, /^sha256:/);
    reg = await startRegistry(join(tmp.path, 'registry'));
  });
  after(async () => {
    await reg?.stop();
    await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
    tmp.cleanup();
  });

  it('copy --all moves a two-platform index to a registry and back with every digest kept', async () => {
    const layout = join(tmp.path, 'multi-src');
    const { index, children } = writeIndexLayout(layout, tar, 'multi');
    const dest = `docker://${reg.host}/x:multi`;
    const copy = (...args: string[]) => berth(join(tmp.path, 'copy-store'), ['copy', '-q', '--tls-verify=false', ...args]);
    const digestFile = join(tmp.path, 'multi.digest');
    const up = await copy('--all', '--preserve-digests', '--digestfile', digestFile, `oci:${layout}:multi`, dest);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(readFileSync(digestFile, 'utf8'), digestOf(index));
    // The registry holds the index's exact bytes, and each child by its digest.
    const raw = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', dest])).stdout;
    assert.equal(digestOf(Buffer.from(raw)), digestOf(index));
    for (const manifest of Object.values(children)) {
      const child = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/x@${digestOf(manifest)}`])).stdout;
      assert.equal(child, manifest.toString());
    }

    // Back into another layout: index.json and every blob are byte for byte the source's.
    const back = join(tmp.path, 'multi-back');
    const down = await copy('--multi-arch', 'all', dest, `oci:${back}:multi`);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(readFileSync(join(back, 'index.json'), 'utf8'), readFileSync(join(layout, 'index.json'), 'utf8'));
    assert.deepEqual(layoutBlobs(back), layoutBlobs(layout));

    // skopeo copy --all agrees: the same blobs, the same index under the name.
    const bySkopeo = join(tmp.path, 'multi-skopeo');
    await ok('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', dest, `oci:${bySkopeo}:multi`]);
    assert.deepEqual(layoutBlobs(bySkopeo), layoutBlobs(layout));
    const skopeoIndex = JSON.parse(readFileSync(join(bySkopeo, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    assert.deepEqual(
      skopeoIndex.manifests.map((m) => [m.digest, m.annotations[REF_NAME]]),
      [[digestOf(index), 'multi']],
    );

    // dir: with --all holds the index and each child's manifest as skopeo writes them, file for file.
    const dirOurs = join(tmp.path, 'multi-dir-berth');
    const dirTheirs = join(tmp.path, 'multi-dir-skopeo');
    assert.equal((await copy('--all', dest, `dir:${dirOurs}`)).code, 0);
    await ok('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', dest, `dir:${dirTheirs}`]);
    assert.deepEqual(readdirSync(dirOurs).sort(), readdirSync(dirTheirs).sort());
    for (const f of readdirSync(dirTheirs)) assert.ok(readFileSync(join(dirOurs, f)).equals(readFileSync(join(dirTheirs, f))), f);
    const fromDir = await copy('--all', '--preserve-digests', `dir:${dirTheirs}`, `docker://${reg.host}/x:from-dir`);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    assert.equal((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/x:from-dir`])).stdout, index.toString());

    // Without --all one platform is taken: the host's, or the one --override-arch names.
    const one = join(tmp.path, 'one');
    assert.equal((await copy(dest, `oci:${one}:amd`)).code, 0);
    assert.equal((await copy('--override-arch', 'arm64', dest, `oci:${one}:arm`)).code, 0);
    const oneIndex = JSON.parse(readFileSync(join(one, 'index.json'), 'utf8')) as { manifests: { digest: string; mediaType: string }[] };
    assert.deepEqual(
      oneIndex.manifests.map((m) => [m.mediaType, m.digest]),
      [
        [MediaType.OciManifest, digestOf(children['amd64']!)],
        [MediaType.OciManifest, digestOf(children['arm64']!)],
      ],
    );

    // --multi-arch index-only writes the index alone: its children are already in the repository.
    const indexOnly = await copy('--multi-arch', 'index-only', `oci:${layout}:multi`, `docker://${reg.host}/x:index-only`);
    assert.equal(indexOnly.code, 0, indexOnly.stderr);
    assert.equal((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/x:index-only`])).stdout, index.toString());

    // A docker-archive or the store cannot hold an index: one clear line, before anything is read.
    for (const target of [`docker-archive:${join(tmp.path, 'x.tar')}`, 'berth:localhost/x:multi']) {
      const refused = await copy('--all', dest, target);
      assert.equal(refused.code, 125, refused.stderr);
      assert.equal(ERROR_LINES(refused.stderr).length, 1, refused.stderr);
      assert.match(refused.stderr, /cannot hold an image index/);
    }
    const contradict = await copy('--all', '--multi-arch', 'system', dest, `oci:${one}:z`);
    assert.equal(contradict.code, 125);

    // sync --all mirrors the index whole.
    const sync = await berth(join(tmp.path, 'copy-store'), [
      'sync',
      '-q',
      '--all',
      '--src',
      'docker',
      '--dest',
      'docker',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `${reg.host}/x:multi`,
      `${reg.host}/mirror`,
    ]);
    assert.equal(sync.code, 0, sync.stderr);
    const mirrored = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/mirror/x:multi`])).stdout;
    assert.equal(mirrored, index.toString());
  });

  it('push --compression-format zstd writes zstd layers under an OCI manifest that podman and berth pull', async () => {
    const ref = `${reg.host}/berth/zstd:1`;
    const push = await berth(root, ['push', '-q', '--tls-verify=false', '--compression-format', 'zstd', '--compression-level', '5', 'bb', ref]);
    assert.equal(push.code, 0, push.stderr);
    const rawManifest = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout;
    const manifest = JSON.parse(rawManifest) as { mediaType: string; config: { digest: string }; layers: { mediaType: string; digest: string }[] };
    assert.equal(manifest.mediaType, MediaType.OciManifest);
    assert.deepEqual(
      manifest.layers.map((l) => l.mediaType),
      [MediaType.OciLayerZstd],
    );
    assert.equal(manifest.config.digest, id);
    const blob = Buffer.from(await (await fetch(`http://${reg.host}/v2/berth/zstd/blobs/${manifest.layers[0]!.digest}`)).arrayBuffer());
    assert.deepEqual([...blob.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    assert.equal(digestOf(blob), manifest.layers[0]!.digest);

    // berth pulls it into a fresh store: the same image ID (the config, so the diff IDs, did not change).
    const fresh = join(tmp.path, 'zstd-pull');
    const pull = await berth(fresh, ['pull', '-q', '--tls-verify=false', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stdout, `${id.slice(7)}\n`);
    const [info] = JSON.parse((await berth(fresh, ['inspect', ref])).stdout) as { Digest: string }[];
    assert.equal(info!.Digest, digestOf(Buffer.from(rawManifest)));

    // podman pulls and runs it.
    await podman(['pull', '-q', '--tls-verify=false', ref]);
    assert.equal(`sha256:${(await podman(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim()}`, id);
    const out = await podman(['run', '--rm', '--network', 'none', ...RUN_QUIRKS, ref, 'sh', '-c', 'echo hello from zstd']);
    assert.equal(out.stdout, 'hello from zstd\n');

    // copy --dest-compress-format gzip turns it back: gzip layers, the same config.
    const gz = `docker://${reg.host}/berth/gz:1`;
    const copy = await berth(fresh, ['copy', '-q', '--tls-verify=false', '--dest-compress-format', 'gzip', `docker://${ref}`, gz]);
    assert.equal(copy.code, 0, copy.stderr);
    const gzManifest = JSON.parse((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', gz])).stdout) as {
      config: { digest: string };
      layers: { mediaType: string; digest: string }[];
    };
    assert.deepEqual(
      gzManifest.layers.map((l) => l.mediaType),
      [MediaType.OciLayerGzip],
    );
    assert.equal(gzManifest.config.digest, id);
    const gzBlob = Buffer.from(await (await fetch(`http://${reg.host}/v2/berth/gz/blobs/${gzManifest.layers[0]!.digest}`)).arrayBuffer());
    assert.deepEqual([...gzBlob.subarray(0, 2)], [0x1f, 0x8b]);

    // --force-compression=false keeps a blob of the layer the registry already holds (here: the gzip an earlier
    // push made of the layer stored uncompressed, and remembered).
    assert.equal((await berth(root, ['push', '-q', '--tls-verify=false', 'bb', `${reg.host}/berth/kept:plain`])).code, 0);
    const plain = JSON.parse((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/berth/kept:plain`])).stdout) as {
      layers: { mediaType: string; digest: string }[];
    };
    const kept = await berth(root, [
      'push',
      '-q',
      '--tls-verify=false',
      '--compression-format',
      'zstd',
      '--force-compression=false',
      'bb',
      `${reg.host}/berth/kept:zstd`,
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    const keptManifest = JSON.parse((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/berth/kept:zstd`])).stdout) as {
      layers: { mediaType: string; digest: string }[];
    };
    assert.deepEqual(
      keptManifest.layers.map((l) => [l.mediaType, l.digest]),
      plain.layers.map((l) => [MediaType.OciLayerGzip, l.digest]),
    );

    // Docker schema 2 has no zstd type: asking for both is refused.
    const v2s2 = await berth(root, ['push', '-q', '--tls-verify=false', '--format', 'v2s2', '--compression-format', 'zstd', 'bb', `${reg.host}/berth/zstd:2`]);
    assert.equal(v2s2.code, 125);
    assert.equal(ERROR_LINES(v2s2.stderr).length, 1, v2s2.stderr);
    assert.match(v2s2.stderr, /no zstd layer type/);
  });

  it('copy --all keeps a Docker manifest list in a registry, and makes it an OCI index in a layout', async () => {
    const layout = join(tmp.path, 'list-src');
    const { index, children } = writeIndexLayout(layout, tar, 'list', 'docker');
    const dest = `docker://${reg.host}/x:list`;
    const copy = (...args: string[]) => berth(join(tmp.path, 'copy-store'), ['copy', '-q', '--tls-verify=false', ...args]);
    const up = await copy('--all', '--preserve-digests', `oci:${layout}:list`, dest);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', dest])).stdout, index.toString());
    // An OCI layout holds OCI manifests only: --preserve-digests refuses, without it the list is converted.
    const out = join(tmp.path, 'list-back');
    const refused = await copy('--all', '--preserve-digests', dest, `oci:${out}:list`);
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /--preserve-digests/);
    assert.equal((await copy('--all', dest, `oci:${out}:list`)).code, 0);
    const converted = JSON.parse((await ok('skopeo', ['inspect', '--raw', `oci:${out}:list`])).stdout) as {
      mediaType: string;
      manifests: { mediaType: string; digest: string; platform: { architecture: string } }[];
    };
    assert.equal(converted.mediaType, MediaType.OciIndex);
    assert.deepEqual(
      converted.manifests.map((m) => [m.mediaType, m.platform.architecture]),
      [
        [MediaType.OciManifest, 'amd64'],
        [MediaType.OciManifest, 'arm64'],
      ],
    );
    for (const m of converted.manifests) assert.ok(!Object.values(children).some((c) => digestOf(c) === m.digest));
    // skopeo reads the converted arm64 child, and its config (the image ID) is the source's.
    const cfg = JSON.parse((await ok('skopeo', ['inspect', '--config', '--override-arch', 'arm64', `oci:${out}:list`])).stdout) as { architecture: string };
    assert.equal(cfg.architecture, 'arm64');
  });

  it('copy --all --dest-compress-format zstd rewrites every child and the index', async () => {
    const layout = join(tmp.path, 'multi-zstd-src');
    const { index } = writeIndexLayout(layout, tar, 'multi');
    const dest = `docker://${reg.host}/x:zstd`;
    const copy = await berth(join(tmp.path, 'copy-store'), [
      'copy',
      '-q',
      '--dest-tls-verify=false',
      '--all',
      '--dest-compress-format',
      'zstd',
      `oci:${layout}:multi`,
      dest,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const raw = (await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', dest])).stdout;
    assert.notEqual(digestOf(Buffer.from(raw)), digestOf(index));
    const written = JSON.parse(raw) as { mediaType: string; manifests: { digest: string; platform: { architecture: string } }[] };
    assert.equal(written.mediaType, MediaType.OciIndex);
    assert.deepEqual(
      written.manifests.map((m) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
    for (const m of written.manifests) {
      const child = JSON.parse((await ok('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/x@${m.digest}`])).stdout) as {
        layers: { mediaType: string }[];
      };
      assert.deepEqual(
        child.layers.map((l) => l.mediaType),
        [MediaType.OciLayerZstd],
      );
    }
    const keep = await berth(join(tmp.path, 'copy-store'), [
      'copy',
      '-q',
      '--dest-tls-verify=false',
      '--all',
      '--preserve-digests',
      '--dest-compress-format',
      'zstd',
      `oci:${layout}:multi`,
      dest,
    ]);
    assert.equal(keep.code, 125);
    assert.match(keep.stderr, /--preserve-digests/);
  });
});
