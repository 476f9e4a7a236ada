// The Content Management workflow of the distribution-spec conformance suite (04_management_test.go):
// deleting tags, manifests and blobs, and what is served after.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assert2xx, assertStatus, configs, layer, manifests, NAME, pushBlob, putManifest, send, tagsOf, type WorkflowOptions } from './setup.js';

export function managementWorkflow(_opts: WorkflowOptions): void {
  describe('Content Management', () => {
    const defaultTagName = 'tagtest0';
    let tagToDelete = '';
    let numTags = 0;
    let blobDeleteAllowed = true;

    describe('Setup', () => {
      it('Populate registry with test config blob', async () => assert2xx(await pushBlob(configs[3]!)));
      it('Populate registry with test layer', async () => assert2xx(await pushBlob(layer)));
      it('Populate registry with test tag', async () => {
        tagToDelete = defaultTagName;
        assert2xx(await putManifest(tagToDelete, manifests[3]!));
      });
      it('Check how many tags there are before anything gets deleted', async () => {
        const r = await send('GET', `/v2/${NAME}/tags/list`);
        assert.equal(r.status, 200);
        numTags = tagsOf(r).length;
        assert.ok(numTags >= 1);
      });
    });

    describe('Manifest delete', () => {
      it('DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)', async () => {
        const r = await send('DELETE', `/v2/${NAME}/manifests/${tagToDelete}`);
        assertStatus(r, [400, 202, 405]);
        if (r.status === 400) assert.equal(r.json<{ errors: { code: string }[] }>().errors[0]?.code, 'UNSUPPORTED');
      });
      it('DELETE request to manifest (digest) should yield 202 response unless already deleted', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/manifests/${manifests[3]!.digest}`), [202, 404]);
      });
      it('GET request to deleted manifest URL should yield 404 response, unless delete is disallowed', async () => {
        // The Go suite also takes 200 here; berth deletes, so only 404.
        assert.equal((await send('GET', `/v2/${NAME}/manifests/${manifests[3]!.digest}`)).status, 404);
      });
      it('GET request to tags list should reflect manifest deletion', async () => {
        const r = await send('GET', `/v2/${NAME}/tags/list`);
        assert.equal(r.status, 200, r.body.toString());
        assert.ok(tagsOf(r).length < numTags);
      });
    });

    describe('Blob delete', () => {
      it('DELETE request to blob URL should yield 202 response', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${configs[3]!.digest}`), [202, 404, 405]);
        const r = await send('DELETE', `/v2/${NAME}/blobs/${layer.digest}`);
        assertStatus(r, [202, 404, 405]);
        if (r.status === 405) blobDeleteAllowed = false;
      });
      it('GET request to deleted blob URL should yield 404 response', async (t) => {
        if (!blobDeleteAllowed) return t.skip('blob deletion is disallowed');
        assert.equal((await send('GET', `/v2/${NAME}/blobs/${configs[3]!.digest}`)).status, 404);
      });
    });
  });
}
