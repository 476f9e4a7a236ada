// The Push workflow of the distribution-spec conformance suite (02_push_test.go): streamed, monolithic
// and chunked blob uploads, cross-repository mounts, manifest uploads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaType } from '../../oci/mediatypes.js';
import {
  assertStatus,
  blobA,
  blobB,
  blobBChunk1,
  blobBChunk1Range,
  blobBChunk2,
  blobBChunk2Range,
  configs,
  CROSSMOUNT_NAME,
  DUMMY_DIGEST,
  EMPTY_LAYER_TAG,
  emptyLayerManifest,
  layer,
  manifests,
  NAME,
  NONEXISTENT_MANIFEST,
  putManifest,
  relativeLocation,
  send,
  type Reply,
  type WorkflowOptions,
} from './setup.js';

const octets = { 'Content-Type': 'application/octet-stream' };

export function pushWorkflow(opts: WorkflowOptions): void {
  describe('Push', () => {
    let last: Reply | undefined;
    let prev: Reply | undefined;
    let emptyLayerManifestRef = '';

    describe('Blob Upload Streamed', () => {
      it('PATCH request with blob in body should yield 202 response', async () => {
        const start = await send('POST', `/v2/${NAME}/blobs/uploads/`);
        assert.notEqual(start.header('location'), '');
        const r = await send('PATCH', relativeLocation(start), { headers: octets, body: blobA.content });
        assert.equal(r.status, 202);
        last = r;
      });
      it('PUT request to session URL with digest should yield 201 response', async () => {
        assert.ok(last);
        const r = await send('PUT', relativeLocation(last), { query: { digest: blobA.digest }, headers: octets });
        assert.equal(r.status, 201, r.body.toString());
        assert.notEqual(r.header('location'), '');
      });
    });

    describe('Blob Upload Monolithic', () => {
      it('GET nonexistent blob should result in 404 response', async () => {
        assert.equal((await send('GET', `/v2/${NAME}/blobs/${DUMMY_DIGEST}`)).status, 404);
      });
      it('POST request with digest and blob should yield a 201 or 202', async () => {
        const r = await send('POST', `/v2/${NAME}/blobs/uploads/`, { query: { digest: configs[1]!.digest }, headers: octets, body: configs[1]!.content });
        assert.notEqual(r.header('location'), '');
        assertStatus(r, [201, 202]);
        last = r;
      });
      it('GET request to blob URL from prior request should yield 200 or 404 based on response code', async () => {
        assert.ok(last);
        const r = await send('GET', `/v2/${NAME}/blobs/${configs[1]!.digest}`);
        assert.equal(r.status, last.status === 202 ? 404 : 200);
      });
      it('POST request should yield a session ID', async () => {
        const r = await send('POST', `/v2/${NAME}/blobs/uploads/`);
        assert.equal(r.status, 202);
        last = r;
      });
      it('PUT upload of a blob should yield a 201 Response', async () => {
        assert.ok(last);
        const r = await send('PUT', relativeLocation(last), { query: { digest: configs[1]!.digest }, headers: octets, body: configs[1]!.content });
        assert.notEqual(r.header('location'), '');
        assert.equal(r.status, 201);
      });
      it('GET request to existing blob should yield 200 response', async () => {
        assert.equal((await send('GET', `/v2/${NAME}/blobs/${configs[1]!.digest}`)).status, 200);
      });
      it('PUT upload of a layer blob should yield a 201 Response', async () => {
        const start = await send('POST', `/v2/${NAME}/blobs/uploads/`);
        const r = await send('PUT', relativeLocation(start), { query: { digest: layer.digest }, headers: octets, body: layer.content });
        assert.notEqual(r.header('location'), '');
        assert.equal(r.status, 201);
      });
      it('GET request to existing layer should yield 200 response', async () => {
        assert.equal((await send('GET', `/v2/${NAME}/blobs/${layer.digest}`)).status, 200);
      });
    });

    describe('Blob Upload Chunked', () => {
      it('Out-of-order blob upload should return 416', async () => {
        const start = await send('POST', `/v2/${NAME}/blobs/uploads/`);
        assert.notEqual(start.header('location'), '');
        // A server asking for chunks larger than these (OCI-Chunk-Min-Length) would need bigger ones.
        assert.equal(start.header('oci-chunk-min-length'), '', 'this mirror only sends 21-byte chunks');
        const r = await send('PATCH', relativeLocation(start), { headers: { ...octets, 'Content-Range': blobBChunk2Range }, body: blobBChunk2 });
        assert.equal(r.status, 416);
      });
      it('PATCH request with first chunk should return 202', async () => {
        const start = await send('POST', `/v2/${NAME}/blobs/uploads/`);
        assert.notEqual(start.header('location'), '');
        prev = start;
        const r = await send('PATCH', relativeLocation(start), { headers: { ...octets, 'Content-Range': blobBChunk1Range }, body: blobBChunk1 });
        assert.equal(r.status, 202);
        assert.equal(r.header('range'), blobBChunk1Range);
        last = r;
      });
      it('Retry previous blob chunk should return 416', async () => {
        assert.ok(prev);
        const r = await send('PATCH', relativeLocation(prev), { headers: { ...octets, 'Content-Range': blobBChunk1Range }, body: blobBChunk1 });
        assert.equal(r.status, 416);
      });
      it('Get on stale blob upload should return 204 with a range and location', async () => {
        assert.ok(prev);
        const r = await send('GET', relativeLocation(prev));
        assert.equal(r.status, 204);
        assert.notEqual(r.header('location'), '');
        assert.equal(r.header('range'), blobBChunk1Range);
        last = r;
      });
      it('PATCH request with second chunk should return 202', async () => {
        assert.ok(last);
        const r = await send('PATCH', relativeLocation(last), { headers: { ...octets, 'Content-Range': blobBChunk2Range }, body: blobBChunk2 });
        assert.equal(r.status, 202);
        assert.notEqual(r.header('location'), '');
        last = r;
      });
      it('PUT request with digest should return 201', async () => {
        assert.ok(last);
        const r = await send('PUT', relativeLocation(last), { query: { digest: blobB.digest }, headers: octets });
        assert.equal(r.status, 201, r.body.toString());
        assert.notEqual(r.header('location'), '');
        const got = await send('GET', `/v2/${NAME}/blobs/${blobB.digest}`);
        assert.deepEqual(got.body, blobB.content, 'the two chunks, in order');
      });
    });

    describe('Cross-Repository Blob Mount', () => {
      it('Cross-mounting of a blob without the from argument should yield session id', async () => {
        const r = await send('POST', `/v2/${CROSSMOUNT_NAME}/blobs/uploads/`, { query: { mount: DUMMY_DIGEST } });
        assert.equal(r.status, 202);
        assert.notEqual(r.header('location'), '');
      });
      it("POST request to mount another repository's blob should return 201 or 202", async () => {
        const r = await send('POST', `/v2/${CROSSMOUNT_NAME}/blobs/uploads/`, { query: { mount: blobA.digest, from: NAME } });
        assertStatus(r, [201, 202]);
        last = r;
      });
      it('GET request to test digest within cross-mount namespace should return 200', async (t) => {
        assert.ok(last);
        if (last.status !== 201) return t.skip('the mount was not done');
        assert.equal(relativeLocation(last), `/v2/${CROSSMOUNT_NAME}/blobs/${blobA.digest}`);
        assert.equal((await send('GET', relativeLocation(last))).status, 200);
      });
      it('Cross-mounting of nonexistent blob should yield session id', async (t) => {
        assert.ok(last);
        if (last.status !== 202) return t.skip('the mount was done');
        assert.ok(relativeLocation(last).startsWith(`/v2/${CROSSMOUNT_NAME}/blobs/uploads/`));
      });
      // Not in the Go suite (its mount above succeeds, so it skips the session check): a mount from a
      // repository that lacks the blob must fall back to an upload session in the target repository.
      it('Cross-mounting of a blob the source repository lacks should yield a session id (berth)', async () => {
        const r = await send('POST', `/v2/${CROSSMOUNT_NAME}/blobs/uploads/`, { query: { mount: DUMMY_DIGEST, from: NAME } });
        assert.equal(r.status, 202);
        assert.ok(relativeLocation(r).startsWith(`/v2/${CROSSMOUNT_NAME}/blobs/uploads/`));
        assert.equal((await send('GET', `/v2/${CROSSMOUNT_NAME}/blobs/${DUMMY_DIGEST}`)).status, 404);
      });
      it('Cross-mounting without from, and automatic content discovery disabled should return a 202', async (t) => {
        assert.ok(last);
        if (last.status !== 201) return t.skip('the mount was not done');
        const r = await send('POST', `/v2/${CROSSMOUNT_NAME}/blobs/uploads/`, { query: { mount: blobA.digest } });
        assert.equal(r.status, 202);
      });
    });

    describe('Manifest Upload', () => {
      it('GET nonexistent manifest should return 404', async () => {
        assert.equal((await send('GET', `/v2/${NAME}/manifests/${NONEXISTENT_MANIFEST}`)).status, 404);
      });
      it('PUT should accept a manifest upload', async () => {
        for (let i = 0; i < 4; i++) {
          const r = await putManifest(`test${i}`, manifests[1]!);
          assert.notEqual(r.header('location'), '');
          assert.equal(r.status, 201, r.body.toString());
        }
      });
      it('Registry should accept a manifest upload with no layers', async () => {
        const r = await putManifest(EMPTY_LAYER_TAG, emptyLayerManifest);
        // The Go suite only warns when this is refused; berth takes it.
        assert.equal(r.status, 201, r.body.toString());
        emptyLayerManifestRef = r.header('location');
        assert.notEqual(emptyLayerManifestRef, '');
      });
      it('GET request to manifest URL (digest) should yield 200 response', async () => {
        const r = await send('GET', `/v2/${NAME}/manifests/${manifests[1]!.digest}`, { headers: { Accept: MediaType.OciManifest } });
        assert.equal(r.status, 200);
      });
    });

    describe('Teardown', () => {
      const deleteManifests = (): void => {
        it('Delete manifest created in tests', async () => {
          assertStatus(await send('DELETE', `/v2/${NAME}/manifests/${manifests[1]!.digest}`), ['2xx', 405]);
          if (emptyLayerManifestRef !== '') assertStatus(await send('DELETE', `/v2/${NAME}/manifests/${emptyLayerManifest.digest}`), ['2xx', 405]);
        });
      };
      if (opts.deleteManifestBeforeBlobs) deleteManifests();
      it('Delete config blob created in tests', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${configs[1]!.digest}`), ['2xx', 404, 405]);
      });
      it('Delete layer blob created in setup', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${layer.digest}`), ['2xx', 404, 405]);
      });
      if (!opts.deleteManifestBeforeBlobs) deleteManifests();
    });
  });
}
