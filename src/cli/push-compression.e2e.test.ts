/**
 * push compresses what the store holds uncompressed (an imported, built or committed image), as podman and
 * docker do, and sends compressed layers as they are: checked against berth's own registry, pulled back by berth
 * and podman with the same image ID.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { startRegistry, type RunningRegistry } from '../registry/server.js';
import { berth, busyboxRootfs, ok, podmanArgs, run, tempDir } from '../testing/cli.js';

interface Manifest {
  mediaType: string;
  config: { digest: string };
  layers: { mediaType: string; digest: string; size: number }[];
}

/** The blobs the store holds for an image's layers. */
function layerBlobs(store: string, id: string): string[] {
  const doc = JSON.parse(readFileSync(join(store, 'images.json'), 'utf8')) as { images: { id: string; layerBlobs: string[] }[] };
  return doc.images.find((i) => i.id === id)!.layerBlobs;
}

describe('push compresses uncompressed layers', { timeout: 600_000 }, () => {
  const tmp = tempDir('berth-push-gzip-');
  const root = join(tmp.path, 'store');
  const podman = (args: string[]) => ok('podman', [...podmanArgs(tmp.path), ...args]);
  let registry: RunningRegistry;
  let host = '';
  let id = '';
  let diffIDs: string[] = [];

  const manifestOf = async (repo: string, tag: string): Promise<{ raw: string; m: Manifest }> => {
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: `${MediaType.OciManifest}, ${MediaType.DockerManifest}` } });
    assert.equal(res.status, 200, `${repo}:${tag}`);
    const raw = await res.text();
    return { raw, m: JSON.parse(raw) as Manifest };
  };
  const blobOf = async (repo: string, digest: string): Promise<Buffer> =>
    Buffer.from(await (await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`)).arrayBuffer());
  const push = (store: string, ...args: string[]) => berth(store, ['push', '--tls-verify=false', ...args]);

  before(async () => {
    registry = await startRegistry({ addr: '127.0.0.1:0', storage: join(tmp.path, 'registry') });
    host = registry.url.replace(/^http:\/\//, '');
    const rootfs = join(tmp.path, 'busybox.tar');
    await busyboxRootfs(rootfs);
    assert.equal((await berth(root, ['import', '-q', '--change', 'CMD ["/bin/sh"]', rootfs, 'bb'])).code, 0);
    // A built image on top: two layers, both stored uncompressed.
    const context = join(tmp.path, 'context');
    await ok('mkdir', ['-p', context]);
    writeFileSync(join(context, 'Containerfile'), 'FROM bb\nCOPY hello.txt /hello.txt\n');
    writeFileSync(join(context, 'hello.txt'), 'hello from a built layer\n'.repeat(1000));
    const built = await berth(root, ['build', '-q', '-t', 'built', context]);
    assert.equal(built.code, 0, built.stderr);
    id = `sha256:${built.stdout.trim()}`;
    const [info] = JSON.parse((await berth(root, ['inspect', 'built'])).stdout) as { RootFS: { Layers: string[] } }[];
    diffIDs = info!.RootFS.Layers;
    assert.equal(diffIDs.length, 2);
  });
  after(async () => {
    await registry?.close();
    await run('podman', [...podmanArgs(tmp.path), 'system', 'reset', '-f']);
    tmp.cleanup();
  });

  it('pushes gzip layers whose digests match the blobs and whose contents are the diff IDs; berth and podman pull them back', async () => {
    const pushed = await push(root, '--digestfile', join(tmp.path, 'digest'), 'built', `${host}/gz/built:1`);
    assert.equal(pushed.code, 0, pushed.stderr);
    const { raw, m } = await manifestOf('gz/built', '1');
    assert.equal(readFileSync(join(tmp.path, 'digest'), 'utf8'), digestOf(raw));
    assert.equal(m.mediaType, MediaType.OciManifest);
    assert.equal(m.config.digest, id, 'the config, and so the image ID and diff IDs, do not change');
    assert.deepEqual(
      m.layers.map((l) => l.mediaType),
      [MediaType.OciLayerGzip, MediaType.OciLayerGzip],
    );
    let uncompressed = 0;
    for (const [i, layer] of m.layers.entries()) {
      const blob = await blobOf('gz/built', layer.digest);
      assert.deepEqual([...blob.subarray(0, 2)], [0x1f, 0x8b]);
      assert.equal(digestOf(blob), layer.digest);
      assert.equal(blob.length, layer.size);
      const tar = gunzipSync(blob);
      assert.equal(digestOf(tar), diffIDs[i]);
      uncompressed += tar.length;
    }
    const compressed = m.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(compressed < uncompressed * 0.75, `${compressed} bytes pushed for ${uncompressed} uncompressed`);

    // berth pulls it into a fresh store: the same image, the registry's manifest digest.
    const fresh = join(tmp.path, 'fresh');
    const pull = await berth(fresh, ['pull', '-q', '--tls-verify=false', `${host}/gz/built:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(`sha256:${pull.stdout.trim()}`, id);
    const [info] = JSON.parse((await berth(fresh, ['inspect', `${host}/gz/built:1`])).stdout) as { Digest: string; RootFS: { Layers: string[] } }[];
    assert.equal(info!.Digest, digestOf(raw));
    assert.deepEqual(info!.RootFS.Layers, diffIDs);
    // podman pulls it with the same ID and sees the built file.
    await podman(['pull', '-q', '--tls-verify=false', `${host}/gz/built:1`]);
    assert.equal(`sha256:${(await podman(['image', 'inspect', '--format', '{{.Id}}', `${host}/gz/built:1`])).stdout.trim()}`, id);
    await ok('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/gz/built:1`]);
  });

  it('remembers what it compressed: a second push reuses the blobs the registry holds without compressing again', async () => {
    const first = await manifestOf('gz/built', '1');
    const stored = layerBlobs(root, id);
    const remembered = JSON.parse(readFileSync(join(root, 'compressed-layers.json'), 'utf8')) as { layers: Record<string, { digest: string }[]> };
    assert.deepEqual(
      stored.map((d) => remembered.layers[d]?.[0]?.digest),
      first.m.layers.map((l) => l.digest),
    );

    const traced = { env: { BERTH_TRACE: '1' } };
    const again = await berth(root, ['push', '--tls-verify=false', 'built', `${host}/gz/built:2`], traced);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stderr.match(/push: sha256:\S+ reused as sha256:/g) ?? []).length, 2, again.stderr);
    assert.doesNotMatch(again.stderr, /push: sha256:\S+ compressed to/);
    assert.equal((again.stderr.match(/Copying blob [0-9a-f]{12} skipped: already exists/g) ?? []).length, 2, again.stderr);
    assert.equal((await manifestOf('gz/built', '2')).raw, first.raw);

    // A repository that lacks them: compressed again (the same bytes, as the compression is deterministic) and uploaded.
    const other = await berth(root, ['push', '--tls-verify=false', 'built', `${host}/gz/other:1`], traced);
    assert.equal(other.code, 0, other.stderr);
    assert.equal((other.stderr.match(/push: sha256:\S+ compressed to/g) ?? []).length, 2, other.stderr);
    assert.equal((await manifestOf('gz/other', '1')).raw, first.raw);
    for (const l of first.m.layers) assert.equal(digestOf(await blobOf('gz/other', l.digest)), l.digest);
  });

  it('sends layers already compressed as they are: gzip and zstd, same digests, same manifest', async () => {
    const fresh = join(tmp.path, 'fresh');
    const { raw } = await manifestOf('gz/built', '1');
    const gz = await push(fresh, `${host}/gz/built:1`, `${host}/gz/copy:1`);
    assert.equal(gz.code, 0, gz.stderr);
    assert.equal((await manifestOf('gz/copy', '1')).raw, raw);

    // A zstd image pulled into a store stays zstd on a later push (no recompression to gzip).
    assert.equal((await push(root, '-q', '--compression-format', 'zstd', 'built', `${host}/zstd/built:1`)).code, 0);
    const zstd = await manifestOf('zstd/built', '1');
    assert.deepEqual(
      zstd.m.layers.map((l) => l.mediaType),
      [MediaType.OciLayerZstd, MediaType.OciLayerZstd],
    );
    const zstdStore = join(tmp.path, 'zstd-store');
    assert.equal((await berth(zstdStore, ['pull', '-q', '--tls-verify=false', `${host}/zstd/built:1`])).code, 0);
    assert.equal((await push(zstdStore, '-q', `${host}/zstd/built:1`, `${host}/zstd/again:1`)).code, 0);
    assert.equal((await manifestOf('zstd/again', '1')).raw, zstd.raw);
  });

  it('copy berth:NAME docker://… gzips as push does; --preserve-digests sends the layers as stored', async () => {
    const copied = await berth(root, ['copy', '-q', '--dest-tls-verify=false', 'berth:built', `docker://${host}/gz/copied:1`]);
    assert.equal(copied.code, 0, copied.stderr);
    const { m } = await manifestOf('gz/copied', '1');
    assert.equal(m.config.digest, id);
    assert.deepEqual(
      m.layers.map((l) => l.mediaType),
      [MediaType.OciLayerGzip, MediaType.OciLayerGzip],
    );
    for (const l of m.layers) assert.equal(digestOf(await blobOf('gz/copied', l.digest)), l.digest);
    const kept = await berth(root, ['copy', '-q', '--preserve-digests', '--dest-tls-verify=false', 'berth:built', `docker://${host}/gz/kept:1`]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.deepEqual(
      (await manifestOf('gz/kept', '1')).m.layers.map((l) => l.digest),
      layerBlobs(root, id),
    );
  });

  it('gzips for a Docker schema 2 manifest too, and takes --compression-level alone', async () => {
    const v2s2 = await push(root, '-q', '--format', 'v2s2', 'built', `${host}/gz/v2s2:1`);
    assert.equal(v2s2.code, 0, v2s2.stderr);
    const { m } = await manifestOf('gz/v2s2', '1');
    assert.equal(m.mediaType, MediaType.DockerManifest);
    assert.deepEqual(
      m.layers.map((l) => l.mediaType),
      [MediaType.DockerLayerGzip, MediaType.DockerLayerGzip],
    );
    const level = await push(root, '-q', '--compression-level', '1', 'built', `${host}/gz/level1:1`);
    assert.equal(level.code, 0, level.stderr);
    const fast = await manifestOf('gz/level1', '1');
    const best = await manifestOf('gz/built', '1');
    assert.deepEqual(
      fast.m.layers.map((l) => l.mediaType),
      [MediaType.OciLayerGzip, MediaType.OciLayerGzip],
    );
    assert.notEqual(fast.m.layers[0]!.digest, best.m.layers[0]!.digest, 'level 1 compresses differently from the default');
    for (const l of fast.m.layers) assert.equal(digestOf(await blobOf('gz/level1', l.digest)), l.digest);
  });

  it('pushes to a directory, an OCI layout and a docker-archive as podman does; skopeo reads each with the same config', async () => {
    const dests = [`dir:${join(tmp.path, 'out-dir')}`, `oci:${join(tmp.path, 'out-oci')}:built`, `docker-archive:${join(tmp.path, 'out.tar')}:built:1`];
    for (const dest of dests) {
      const pushed = await push(root, '-q', 'built', dest);
      assert.equal(pushed.code, 0, pushed.stderr);
      const config = JSON.parse((await ok('skopeo', ['inspect', '--config', dest.replace(/:built:1$/, '')])).stdout) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(config.rootfs.diff_ids, diffIDs, dest);
    }
    const events = await berth(root, ['events', '--stream=false', '--filter', 'event=push', '--format', '{{.Name}}']);
    for (const dest of dests) assert.match(events.stdout, new RegExp(`^${dest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const unknown = await push(root, 'built', 'nosuch:/x');
    assert.equal(unknown.code, 125);
  });
});
