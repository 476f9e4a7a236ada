// The Pull workflow of the distribution-spec conformance suite (01_pull_test.go).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaType } from '../../oci/mediatypes.js';
import {
  assert2xx,
  assertErrorBody,
  assertStatus,
  configs,
  DUMMY_DIGEST,
  INVALID_MANIFEST,
  layer,
  manifests,
  NAME,
  NONEXISTENT_MANIFEST,
  pushBlob,
  putManifest,
  send,
  TEST_TAG,
  type WorkflowOptions,
} from './setup.js';

const accept = { Accept: MediaType.OciManifest };

export function pullWorkflow(opts: WorkflowOptions): void {
  describe('Pull', () => {
    let tag = '';

    describe('Setup', () => {
      it('Populate registry with test blob (config[0])', async () => assert2xx(await pushBlob(configs[0]!)));
      it('Populate registry with test blob (config[1])', async () => assert2xx(await pushBlob(configs[1]!)));
      it('Populate registry with test layer', async () => assert2xx(await pushBlob(layer)));
      it('Populate registry with test manifest (manifest[0] by tag)', async () => {
        tag = TEST_TAG;
        assert2xx(await putManifest(tag, manifests[0]!));
      });
      it('Populate registry with test manifest (manifest[1] by digest)', async () => assert2xx(await putManifest(manifests[1]!.digest, manifests[1]!)));
    });

    describe('Pull blobs', () => {
      it('HEAD request to nonexistent blob should result in 404 response', async () => {
        assert.equal((await send('HEAD', `/v2/${NAME}/blobs/${DUMMY_DIGEST}`)).status, 404);
      });
      it('HEAD request to existing blob should yield 200', async () => {
        const r = await send('HEAD', `/v2/${NAME}/blobs/${configs[0]!.digest}`);
        assert.equal(r.status, 200);
        if (r.header('docker-content-digest') !== '') assert.equal(r.header('docker-content-digest'), configs[0]!.digest);
      });
      it('GET nonexistent blob should result in 404 response', async () => {
        assert.equal((await send('GET', `/v2/${NAME}/blobs/${DUMMY_DIGEST}`)).status, 404);
      });
      it('GET request to existing blob URL should yield 200', async () => {
        const r = await send('GET', `/v2/${NAME}/blobs/${configs[0]!.digest}`);
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, configs[0]!.content);
      });
    });

    describe('Pull manifests', () => {
      it('HEAD request to nonexistent manifest should return 404', async () => {
        assert.equal((await send('HEAD', `/v2/${NAME}/manifests/${NONEXISTENT_MANIFEST}`)).status, 404);
      });
      for (const i of [0, 1]) {
        it(`HEAD request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          const r = await send('HEAD', `/v2/${NAME}/manifests/${manifests[i]!.digest}`, { headers: accept });
          assert.equal(r.status, 200);
          if (r.header('docker-content-digest') !== '') assert.equal(r.header('docker-content-digest'), manifests[i]!.digest);
        });
      }
      it('HEAD request to manifest path (tag) should yield 200 response', async () => {
        assert.notEqual(tag, '');
        const r = await send('HEAD', `/v2/${NAME}/manifests/${tag}`, { headers: accept });
        assert.equal(r.status, 200);
        if (r.header('docker-content-digest') !== '') assert.equal(r.header('docker-content-digest'), manifests[0]!.digest);
      });
      it('GET nonexistent manifest should return 404', async () => {
        assert.equal((await send('GET', `/v2/${NAME}/manifests/${NONEXISTENT_MANIFEST}`)).status, 404);
      });
      for (const i of [0, 1]) {
        it(`GET request to manifest[${i}] path (digest) should yield 200 response`, async () => {
          const r = await send('GET', `/v2/${NAME}/manifests/${manifests[i]!.digest}`, { headers: accept });
          assert.equal(r.status, 200);
          assert.deepEqual(r.body, manifests[i]!.content, 'the exact bytes pushed');
        });
      }
      it('GET request to manifest path (tag) should yield 200 response', async () => {
        assert.notEqual(tag, '');
        const r = await send('GET', `/v2/${NAME}/manifests/${tag}`, { headers: accept });
        assert.equal(r.status, 200);
      });
    });

    describe('Error codes', () => {
      it('400 response body should contain OCI-conforming JSON message', async () => {
        const r = await send('GET', `/v2/${NAME}/manifests/sha256:totallywrong`, {
          headers: { 'Content-Type': MediaType.OciManifest },
          body: INVALID_MANIFEST,
        });
        assertStatus(r, [400, 404]);
        if (r.status === 400) assertErrorBody(r);
      });
    });

    describe('Teardown', () => {
      const deleteManifests = (): void => {
        for (const i of [0, 1]) {
          it(`Delete manifest[${i}] created in setup`, async () => {
            assertStatus(await send('DELETE', `/v2/${NAME}/manifests/${manifests[i]!.digest}`), ['2xx', 405]);
          });
        }
      };
      if (opts.deleteManifestBeforeBlobs) deleteManifests();
      for (const i of [0, 1]) {
        it(`Delete config[${i}] blob created in setup`, async () => {
          assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${configs[i]!.digest}`), ['2xx', 404, 405]);
        });
      }
      it('Delete layer blob created in setup', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${layer.digest}`), ['2xx', 404, 405]);
      });
      if (!opts.deleteManifestBeforeBlobs) deleteManifests();
    });
  });
}
