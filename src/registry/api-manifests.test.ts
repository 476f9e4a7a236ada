import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digestOf } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { errorCode, pushImage, putManifest, uploadBlob, withRegistry } from './_testing.js';

describe('registry API: manifests', () => {
  it('pushes by tag and serves by tag and digest, as the exact bytes', () =>
    withRegistry(async ({ url }) => {
      const { bytes, digest } = await pushImage(url, 'team/app', 'v1');
      for (const ref of ['v1', digest]) {
        const res = await fetch(`${url}/v2/team/app/manifests/${ref}`, { headers: { Accept: MediaType.OciManifest } });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), MediaType.OciManifest);
        assert.equal(res.headers.get('docker-content-digest'), digest);
        assert.equal(await res.text(), bytes);
      }
      const head = await fetch(`${url}/v2/team/app/manifests/v1`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(bytes.length));
      assert.equal(head.headers.get('docker-content-digest'), digest);
      assert.equal(await head.text(), '');
    }));

  it('answers the PUT with Location and Docker-Content-Digest, and checks a digest reference', () =>
    withRegistry(async ({ url }) => {
      const { bytes, digest } = await pushImage(url, 'r', 'v1');
      const again = await putManifest(url, 'r', digest, bytes);
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('location'), `/v2/r/manifests/${digest}`);
      assert.equal(again.headers.get('docker-content-digest'), digest);
      const wrong = await putManifest(url, 'r', digestOf('other'), bytes);
      assert.equal(wrong.status, 400);
      assert.equal(await errorCode(wrong), 'DIGEST_INVALID');
    }));

  it('tags a manifest pushed by digest with ?tag=, and says so in OCI-Tag', () =>
    withRegistry(async ({ url }) => {
      const { bytes } = await pushImage(url, 'r', 'v1');
      // a sha512 digest: only ?tag= can tag it, a PUT by tag would name it by sha256
      const d512 = digestOf(bytes, 'sha512');
      const res = await fetch(`${url}/v2/r/manifests/${d512}?tag=a&tag=b&tag=a`, {
        method: 'PUT',
        body: bytes,
        headers: { 'Content-Type': MediaType.OciManifest },
      });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal(res.headers.get('oci-tag'), 'a, b');
      assert.equal(res.headers.get('docker-content-digest'), d512);
      for (const tag of ['a', 'b']) {
        const got = await fetch(`${url}/v2/r/manifests/${tag}`, { method: 'HEAD' });
        assert.equal(got.status, 200);
        assert.equal(got.headers.get('docker-content-digest'), d512);
      }
      const byTag = await fetch(`${url}/v2/r/manifests/v1?tag=c`, { method: 'PUT', body: bytes, headers: { 'Content-Type': MediaType.OciManifest } });
      assert.equal(byTag.status, 400);
      assert.equal(await errorCode(byTag), 'MANIFEST_INVALID');
      const badTag = await fetch(`${url}/v2/r/manifests/${d512}?tag=-x`, { method: 'PUT', body: bytes, headers: { 'Content-Type': MediaType.OciManifest } });
      assert.equal(badTag.status, 400);
      assert.equal((await fetch(`${url}/v2/r/manifests/c`, { method: 'HEAD' })).status, 404);
    }));

  it('negotiates the content type with Accept', () =>
    withRegistry(async ({ url }) => {
      await pushImage(url, 'r', 'v1');
      const get = (accept: string) => fetch(`${url}/v2/r/manifests/v1`, { headers: { Accept: accept } });
      const refused = await get(MediaType.DockerManifest);
      assert.equal(refused.status, 404);
      assert.equal(await errorCode(refused), 'MANIFEST_UNKNOWN');
      assert.equal((await get(`${MediaType.DockerManifest}, ${MediaType.OciManifest}`)).status, 200);
      assert.equal((await get('*/*')).status, 200);
      assert.equal((await get('application/*')).status, 200);
    }));

  it('refuses manifests whose blobs the repository lacks, one error per blob', () =>
    withRegistry(async ({ url }) => {
      const config = await uploadBlob(url, 'other', '{}');
      const manifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: config, size: 2 },
        layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf('absent'), size: 6 }],
      };
      const res = await putManifest(url, 'r', 'v1', JSON.stringify(manifest));
      assert.equal(res.status, 400);
      const body = (await res.json()) as { errors: { code: string; detail: { digest: string } }[] };
      assert.deepEqual(
        body.errors.map((e) => [e.code, e.detail.digest]),
        [
          ['MANIFEST_BLOB_UNKNOWN', config],
          ['MANIFEST_BLOB_UNKNOWN', digestOf('absent')],
        ],
      );
    }));

  it('refuses invalid, oversized and schema-breaking manifests', () =>
    withRegistry(
      async ({ url }) => {
        let res = await putManifest(url, 'r', 'v1', '{not json');
        assert.equal(res.status, 400);
        assert.equal(await errorCode(res), 'MANIFEST_INVALID');
        res = await putManifest(url, 'r', 'v1', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }));
        assert.equal(res.status, 400);
        assert.equal(await errorCode(res), 'MANIFEST_INVALID');
        res = await putManifest(url, 'r', 'v1', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, pad: 'x'.repeat(5000) }));
        assert.equal(res.status, 413);
        assert.equal(await errorCode(res), 'SIZE_INVALID');
        res = await putManifest(url, 'r', 'bad:tag!', '{}');
        assert.equal(res.status, 400);
      },
      { limits: { manifestBytes: 4096 } },
    ));

  it('takes an index only once its child manifests are in the repository', () =>
    withRegistry(async ({ url }) => {
      const child = JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: digestOf('{}'), size: 2 },
        layers: [],
      });
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [{ mediaType: MediaType.OciManifest, digest: digestOf(child), size: child.length, platform: { os: 'linux', architecture: 'amd64' } }],
      });
      let res = await putManifest(url, 'r', 'multi', index, MediaType.OciIndex);
      assert.equal(res.status, 400);
      assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
      await uploadBlob(url, 'r', '{}');
      assert.equal((await putManifest(url, 'r', digestOf(child), child)).status, 201);
      res = await putManifest(url, 'r', 'multi', index, MediaType.OciIndex);
      assert.equal(res.status, 201);
      const got = await fetch(`${url}/v2/r/manifests/multi`);
      assert.equal(got.headers.get('content-type'), MediaType.OciIndex);
    }));

  it('says MANIFEST_UNKNOWN for unknown manifests and NAME_UNKNOWN for unknown repositories', () =>
    withRegistry(async ({ url }) => {
      await pushImage(url, 'r', 'v1');
      let res = await fetch(`${url}/v2/r/manifests/v2`);
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
      res = await fetch(`${url}/v2/r/manifests/${digestOf('x')}`);
      assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
      res = await fetch(`${url}/v2/nobody/manifests/v1`);
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'NAME_UNKNOWN');
    }));

  it('deletes tags and manifests', () =>
    withRegistry(async ({ url }) => {
      const { digest } = await pushImage(url, 'r', 'v1');
      await fetch(`${url}/v2/r/manifests/v2`, {
        method: 'PUT',
        body: await (await fetch(`${url}/v2/r/manifests/v1`)).text(),
        headers: { 'Content-Type': MediaType.OciManifest },
      });
      assert.equal((await fetch(`${url}/v2/r/manifests/v1`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${url}/v2/r/manifests/v1`)).status, 404);
      assert.equal((await fetch(`${url}/v2/r/manifests/${digest}`)).status, 200);
      assert.equal((await fetch(`${url}/v2/r/manifests/${digest}`, { method: 'DELETE' })).status, 202);
      assert.equal((await fetch(`${url}/v2/r/manifests/${digest}`)).status, 404);
      assert.equal((await fetch(`${url}/v2/r/manifests/v2`)).status, 404, 'tags of a deleted manifest go with it');
      const res = await fetch(`${url}/v2/r/manifests/${digest}`, { method: 'DELETE' });
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'MANIFEST_UNKNOWN');
    }));
});

describe('registry API: listings', () => {
  it('lists tags with n/last pagination and Link headers', () =>
    withRegistry(async ({ url }) => {
      const { bytes } = await pushImage(url, 'a/b', 'v1');
      for (const t of ['v3', 'latest', 'v2']) await putManifest(url, 'a/b', t, bytes);
      let res = await fetch(`${url}/v2/a/b/tags/list`);
      assert.deepEqual(await res.json(), { name: 'a/b', tags: ['latest', 'v1', 'v2', 'v3'] });
      res = await fetch(`${url}/v2/a/b/tags/list?n=2`);
      assert.deepEqual(await res.json(), { name: 'a/b', tags: ['latest', 'v1'] });
      assert.equal(res.headers.get('link'), '</v2/a/b/tags/list?n=2&last=v1>; rel="next"');
      res = await fetch(`${url}/v2/a/b/tags/list?n=2&last=v1`);
      assert.deepEqual(await res.json(), { name: 'a/b', tags: ['v2', 'v3'] });
      assert.equal(res.headers.get('link'), null);
      res = await fetch(`${url}/v2/a/b/tags/list?n=0`);
      assert.deepEqual(await res.json(), { name: 'a/b', tags: [] });
      res = await fetch(`${url}/v2/a/b/tags/list?n=many`);
      assert.equal(res.status, 400);
      res = await fetch(`${url}/v2/a/nope/tags/list`);
      assert.equal(res.status, 404);
      assert.equal(await errorCode(res), 'NAME_UNKNOWN');
    }));

  it('lists the catalog in pages', () =>
    withRegistry(async ({ url }) => {
      for (const r of ['zeta', 'alpha/one', 'alpha', 'mid']) await uploadBlob(url, r, r);
      let res = await fetch(`${url}/v2/_catalog`);
      assert.deepEqual(await res.json(), { repositories: ['alpha', 'alpha/one', 'mid', 'zeta'] });
      res = await fetch(`${url}/v2/_catalog?n=3`);
      assert.deepEqual(await res.json(), { repositories: ['alpha', 'alpha/one', 'mid'] });
      assert.equal(res.headers.get('link'), '</v2/_catalog?n=3&last=mid>; rel="next"');
      res = await fetch(`${url}/v2/_catalog?n=3&last=mid`);
      assert.deepEqual(await res.json(), { repositories: ['zeta'] });
    }));

  it('indexes referrers by subject, filters by artifactType and says OCI-Subject', () =>
    withRegistry(async ({ url }) => {
      const empty = await uploadBlob(url, 'r', '{}');
      const subject = digestOf('a subject pushed later');
      const artifact = (type: string, note: string) =>
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          artifactType: type,
          config: { mediaType: MediaType.OciEmpty, digest: empty, size: 2 },
          layers: [],
          subject: { mediaType: MediaType.OciManifest, digest: subject, size: 22 },
          annotations: { note },
        });
      const sig = artifact('application/vnd.example.sig', 'signature');
      const sbom = artifact('application/vnd.example.sbom', 'sbom');
      for (const m of [sig, sbom]) {
        const res = await putManifest(url, 'r', digestOf(m), m);
        assert.equal(res.status, 201);
        assert.equal(res.headers.get('oci-subject'), subject);
      }
      let res = await fetch(`${url}/v2/r/referrers/${subject}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), MediaType.OciIndex);
      const index = (await res.json()) as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
      const want = [sig, sbom].map((m) => ({
        mediaType: MediaType.OciManifest,
        digest: digestOf(m),
        size: m.length,
        artifactType: (JSON.parse(m) as { artifactType: string }).artifactType,
        annotations: (JSON.parse(m) as { annotations: Record<string, string> }).annotations,
      }));
      assert.deepEqual(index, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: want.sort((a, b) => (a.digest < b.digest ? -1 : 1)) });
      res = await fetch(`${url}/v2/r/referrers/${subject}?artifactType=application/vnd.example.sbom`);
      assert.equal(res.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual(
        ((await res.json()) as typeof index).manifests.map((d) => d.digest),
        [digestOf(sbom)],
      );
      res = await fetch(`${url}/v2/r/referrers/${digestOf('nothing refers to me')}`);
      assert.equal(res.status, 200);
      assert.deepEqual(((await res.json()) as typeof index).manifests, []);
      res = await fetch(`${url}/v2/r/referrers/sha256:short`);
      assert.equal(res.status, 400);
      assert.equal((await fetch(`${url}/v2/r/manifests/${digestOf(sig)}`, { method: 'DELETE' })).status, 202);
      res = await fetch(`${url}/v2/r/referrers/${subject}`);
      assert.deepEqual(
        ((await res.json()) as typeof index).manifests.map((d) => d.digest),
        [digestOf(sbom)],
      );
    }));
});
