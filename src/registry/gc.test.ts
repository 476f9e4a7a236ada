import assert from 'node:assert/strict';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { pushImage, putManifest, uploadBlob, withRegistry, type TestRegistry } from './_testing.js';
import { collectGarbage, formatGcReport } from './gc.js';

const HOUR = 3_600_000;

/** Makes every file under the registry's blobs/, repositories/ and uploads/ look two hours old. */
async function age(r: TestRegistry): Promise<void> {
  const old = new Date(Date.now() - 2 * HOUR);
  for (const sub of ['blobs', 'repositories', 'uploads']) {
    const root = join(r.dir, 'storage', sub);
    for (const e of await readdir(root, { recursive: true, withFileTypes: true })) if (e.isFile()) await utimes(join(e.parentPath, e.name), old, old);
  }
}

async function status(url: string, path: string, init: RequestInit = {}): Promise<number> {
  const res = await fetch(`${url}${path}`, init);
  await res.arrayBuffer();
  return res.status;
}

/** An OCI manifest over a config and layers already pushed (with a subject when given). */
function manifest(config: string, layers: string[], subject?: { digest: string; size: number }): string {
  const doc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: Buffer.byteLength(config) },
    layers: layers.map((l) => ({ mediaType: MediaType.OciLayerGzip, digest: digestOf(l), size: Buffer.byteLength(l) })),
  };
  if (subject) Object.assign(doc, { artifactType: 'application/x-test-signature', subject: { mediaType: MediaType.OciManifest, ...subject } });
  return JSON.stringify(doc);
}

async function pushManifest(url: string, repo: string, ref: string, body: string, mediaType: string = MediaType.OciManifest): Promise<string> {
  const res = await putManifest(url, repo, ref, body, mediaType);
  assert.equal(res.status, 201, await res.text());
  return digestOf(body);
}

describe('registry garbage collection', () => {
  it('removes unreferenced blobs, keeps shared ones and young ones, and reports bytes freed', () =>
    withRegistry(async (r) => {
      const a = await pushImage(r.url, 'team/a', 'v1'); // both images share their config blob
      await pushImage(r.url, 'team/b', 'v1');
      const garbage = await uploadBlob(r.url, 'team/a', 'nobody refers to me');
      await age(r);
      const young = await uploadBlob(r.url, 'team/a', 'nobody refers to me either, but I am new');

      const dry = await collectGarbage(r.storage, { dryRun: true });
      assert.deepEqual(
        dry.blobsRemoved.map((b) => b.digest),
        [garbage],
      );
      assert.ok(await r.storage.blobs.stat(garbage), 'a dry run removes nothing');

      const report = await collectGarbage(r.storage);
      assert.deepEqual(report.blobsRemoved, [{ digest: garbage, size: 'nobody refers to me'.length }]);
      assert.equal(report.bytesFreed, 'nobody refers to me'.length);
      assert.equal(report.linksRemoved, 1);
      assert.ok(await r.storage.blobs.stat(young), 'within the grace period');
      assert.equal(await status(r.url, `/v2/team/a/blobs/${garbage}`, { method: 'HEAD' }), 404);
      assert.match(formatGcReport(report), /removed blob sha256:\w+ \(19 bytes\)/);

      // Deleting team/a's manifest frees its own layer, not the config team/b still uses.
      assert.equal(await status(r.url, `/v2/team/a/manifests/${a.digest}`, { method: 'DELETE' }), 202);
      await age(r);
      const after = await collectGarbage(r.storage);
      const manifestDoc = JSON.parse(a.bytes) as { config: { digest: string }; layers: { digest: string }[] };
      assert.deepEqual(new Set(after.blobsRemoved.map((b) => b.digest)), new Set([a.digest, manifestDoc.layers[0]!.digest, young]));
      assert.equal(await status(r.url, `/v2/team/b/blobs/${manifestDoc.config.digest}`), 200);
      assert.equal(await status(r.url, '/v2/team/b/manifests/v1'), 200);
    }));

  it('removes untagged manifests only when asked, keeping index children and referrers of live subjects', () =>
    withRegistry(async (r) => {
      const repo = 'multi/app';
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
      for (const blob of [config, 'layer 1', 'layer 2', 'layer old', 'sig']) await uploadBlob(r.url, repo, blob);
      const child1 = manifest(config, ['layer 1']);
      const child2 = manifest(config, ['layer 2']);
      const d1 = await pushManifest(r.url, repo, digestOf(child1), child1);
      const d2 = await pushManifest(r.url, repo, digestOf(child2), child2);
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [d1, d2].map((digest, i) => ({
          mediaType: MediaType.OciManifest,
          digest,
          size: Buffer.byteLength([child1, child2][i]!),
          platform: { architecture: i ? 'arm64' : 'amd64', os: 'linux' },
        })),
      });
      await pushManifest(r.url, repo, 'latest', index, MediaType.OciIndex);
      const oldImage = manifest(config, ['layer old']);
      const dOld = await pushManifest(r.url, repo, 'v1', oldImage);
      const sigOfChild = manifest(config, ['sig'], { digest: d1, size: Buffer.byteLength(child1) });
      const sigOfOld = manifest(config, ['sig'], { digest: dOld, size: Buffer.byteLength(oldImage) });
      const dSig = await pushManifest(r.url, repo, digestOf(sigOfChild), sigOfChild);
      const dSigOld = await pushManifest(r.url, repo, digestOf(sigOfOld), sigOfOld);
      assert.equal(await status(r.url, `/v2/${repo}/manifests/v1`, { method: 'DELETE' }), 202); // untag the old image
      await age(r);

      const keep = await collectGarbage(r.storage);
      assert.deepEqual([keep.manifestsRemoved, keep.blobsRemoved], [[], []], 'untagged manifests stay without the flag');

      const report = await collectGarbage(r.storage, { deleteUntagged: true });
      assert.deepEqual(new Set(report.manifestsRemoved.map((m) => m.digest)), new Set([dOld, dSigOld]));
      assert.deepEqual(new Set(report.blobsRemoved.map((b) => b.digest)), new Set([dOld, dSigOld, digestOf('layer old')]));
      for (const d of [d1, d2, dSig]) assert.equal(await status(r.url, `/v2/${repo}/manifests/${d}`), 200, d);
      const referrers = (await (await fetch(`${r.url}/v2/${repo}/referrers/${d1}`)).json()) as { manifests: { digest: string }[] };
      assert.deepEqual(
        referrers.manifests.map((m) => m.digest),
        [dSig],
      );
      assert.equal(await status(r.url, `/v2/${repo}/manifests/${dOld}`), 404);
      assert.equal(await status(r.url, `/v2/${repo}/blobs/${digestOf('sig')}`), 200, 'shared by a live referrer');
    }));

  it('never robs an upload in progress, and removes abandoned sessions past their age', () =>
    withRegistry(async (r) => {
      const data = 'the bytes of a blob that also lies around as garbage';
      const digest = await uploadBlob(r.url, 'up/load', data); // linked, referenced by nothing
      const abandoned = await fetch(`${r.url}/v2/up/load/blobs/uploads/`, { method: 'POST' });
      await age(r);
      const start = await fetch(`${r.url}/v2/up/load/blobs/uploads/`, { method: 'POST' });
      const location = start.headers.get('location')!;
      const patch = await fetch(`${r.url}${location}`, { method: 'PATCH', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(patch.status, 202);

      const report = await collectGarbage(r.storage, { graceMs: 0, uploadMaxAgeMs: HOUR });
      assert.deepEqual(
        report.blobsRemoved.map((b) => b.digest),
        [digest],
        'the old copy goes',
      );
      assert.deepEqual(
        report.uploadsRemoved.map((u) => `/v2/up/load/blobs/uploads/${u.id}`),
        [abandoned.headers.get('location')],
      );

      const put = await fetch(`${r.url}${location}?digest=${digest}`, { method: 'PUT' });
      assert.equal(put.status, 201, await put.text());
      const got = await fetch(`${r.url}/v2/up/load/blobs/${digest}`);
      assert.equal(await got.text(), data);
      assert.equal(await status(r.url, abandoned.headers.get('location')!), 404);
    }));

  it('does not remove a blob that a push touches while the sweep looks at it', () =>
    withRegistry(async (r) => {
      const digest = await uploadBlob(r.url, 'race/x', 'linked again just in time');
      await age(r);
      const cutoff = Date.now() - 1000;
      await r.storage.links.link('race/y', digest); // a cross-mount touches the blob
      assert.equal(await r.storage.blobs.delete(digest, { unusedSince: cutoff }), false);
      assert.ok(await r.storage.blobs.stat(digest));
    }));

  it('collects online while a push runs, without breaking it', () =>
    withRegistry(
      async (r) => {
        const garbage = await uploadBlob(r.url, 'live/old', 'stale garbage');
        await age(r);
        const layer = Buffer.alloc(256 * 1024, 7);
        const start = await fetch(`${r.url}/v2/live/app/blobs/uploads/`, { method: 'POST' });
        let location = start.headers.get('location')!;
        const sweeps: Promise<unknown>[] = [];
        for (let off = 0; off < layer.length; off += 64 * 1024) {
          sweeps.push(r.gc());
          const res = await fetch(`${r.url}${location}`, {
            method: 'PATCH',
            body: layer.subarray(off, off + 64 * 1024),
            headers: { 'Content-Range': `${off}-${off + 64 * 1024 - 1}`, 'Content-Type': 'application/octet-stream' },
          });
          assert.equal(res.status, 202);
          location = res.headers.get('location')!;
        }
        sweeps.push(r.gc());
        assert.equal(await status(r.url, `${location}?digest=${digestOf(layer)}`, { method: 'PUT' }), 201);
        sweeps.push(r.gc());
        const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
        await uploadBlob(r.url, 'live/app', config);
        const reports = (await Promise.all([...sweeps, r.gc()])) as Awaited<ReturnType<TestRegistry['gc']>>[];
        const m = JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
          layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
        });
        await pushManifest(r.url, 'live/app', 'v1', m);
        assert.ok(reports.some((x) => x.blobsRemoved.some((b) => b.digest === garbage)));
        assert.equal((await r.gc()).blobsRemoved.length, 0);
        assert.equal(Buffer.from(await (await fetch(`${r.url}/v2/live/app/blobs/${digestOf(layer)}`)).arrayBuffer()).equals(layer), true);
      },
      { gc: { graceMs: 5 * 60_000 } },
    ));
});
