// The Content Discovery workflow of the distribution-spec conformance suite (03_discovery_test.go):
// tag listing with n/last, and the referrers API with its artifactType filter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaType } from '../../oci/mediatypes.js';
import {
  ANNOTATION_KEY,
  annotationValues,
  ARTIFACT_TYPE_A,
  assert2xx,
  assertStatus,
  configs,
  DUMMY_DIGEST,
  emptyJSON,
  layer,
  manifests,
  NAME,
  pushBlob,
  putManifest,
  refBlobA,
  refBlobB,
  refsIndexArtifact,
  refsManifestAConfigArtifact,
  refsManifestALayerArtifact,
  refsManifestBConfigArtifact,
  refsManifestBLayerArtifact,
  refsManifestCLayerArtifact,
  send,
  tagsOf,
  TEST_TAG,
  type Reply,
  type WorkflowOptions,
} from './setup.js';

interface Index {
  manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[];
}

function referrersIndex(r: Reply): Index {
  assert.equal(r.status, 200);
  assert.equal(r.header('content-type'), MediaType.OciIndex);
  return r.json<Index>();
}

function assertAnnotated(index: Index): void {
  for (const m of index.manifests) {
    assert.equal(Object.keys(m.annotations ?? {}).length, 1, `annotations of ${m.digest}`);
    assert.equal(m.annotations?.[ANNOTATION_KEY], annotationValues.get(m.digest));
  }
}

export function discoveryWorkflow(opts: WorkflowOptions): void {
  describe('Content Discovery', () => {
    let numTags = 4;
    let tagList: string[] = [];

    describe('Setup', () => {
      it('Populate registry with test blob', async () => assert2xx(await pushBlob(configs[2]!)));
      it('Populate registry with test layer', async () => assert2xx(await pushBlob(layer)));
      it('Populate registry with test tags', async () => {
        for (let i = 0; i < numTags; i++) assert2xx(await putManifest(`test${i}`, manifests[2]!));
        tagList = tagsOf(await send('GET', `/v2/${NAME}/tags/list`));
      });
      it('References setup', async () => {
        assert.equal(emptyJSON.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
        assert2xx(await pushBlob(emptyJSON));
        // referrers pushed before their subject
        assert2xx(await pushBlob(refBlobA));
        for (const [ref, mediaType, subject] of [
          [refsManifestAConfigArtifact, MediaType.OciManifest, manifests[4]!],
          [refsManifestALayerArtifact, MediaType.OciManifest, manifests[4]!],
          [refsIndexArtifact, MediaType.OciIndex, manifests[4]!],
        ] as const) {
          const r = await putManifest(ref.digest, ref, mediaType);
          assert2xx(r);
          assert.equal(r.header('oci-subject'), subject.digest);
        }
        // the subject
        assert2xx(await pushBlob(configs[4]!));
        assert2xx(await pushBlob(layer));
        assert2xx(await putManifest(TEST_TAG, manifests[4]!));
        // referrers pushed after it, and one about a subject never pushed
        assert2xx(await pushBlob(refBlobB));
        for (const [ref, subject] of [
          [refsManifestBConfigArtifact, manifests[4]!],
          [refsManifestBLayerArtifact, manifests[4]!],
          [refsManifestCLayerArtifact, manifests[3]!],
        ] as const) {
          const r = await putManifest(ref.digest, ref);
          assert2xx(r);
          assert.equal(r.header('oci-subject'), subject.digest);
        }
      });
    });

    describe('Test content discovery endpoints (listing tags)', () => {
      it('GET request to list tags should yield 200 response', async () => {
        const r = await send('GET', `/v2/${NAME}/tags/list`);
        assert.equal(r.status, 200);
        tagList = tagsOf(r);
        numTags = tagList.length;
        assert.ok(numTags >= 5, `tags: ${tagList.join(', ')}`);
      });
      it('GET number of tags should be limitable by `n` query parameter', async () => {
        const numResults = Math.floor(numTags / 2);
        const r = await send('GET', `/v2/${NAME}/tags/list`, { query: { n: String(numResults) } });
        assert.equal(r.status, 200);
        tagList = tagsOf(r);
        assert.equal(tagList.length, numResults);
      });
      it('GET start of tag is set by `last` query parameter', async () => {
        const numResults = Math.floor(numTags / 2);
        const first = tagsOf(await send('GET', `/v2/${NAME}/tags/list`, { query: { n: String(numResults) } }));
        const r = await send('GET', `/v2/${NAME}/tags/list`, { query: { n: String(numResults), last: first[numResults - 1]! } });
        assert.equal(r.status, 200);
        // The Go suite checks the first page again here; the second page is what `last` is about.
        const second = tagsOf(r);
        assert.ok(second.length <= numResults);
        assert.ok(
          second.every((t) => t > first[numResults - 1]!),
          `${second.join(', ')} after ${first[numResults - 1]}`,
        );
      });
    });

    describe('Test content discovery endpoints (listing references)', () => {
      it('GET request to nonexistent blob should result in empty 200 response', async () => {
        const index = referrersIndex(await send('GET', `/v2/${NAME}/referrers/${DUMMY_DIGEST}`));
        assert.equal(index.manifests.length, 0);
      });
      it('GET request to existing blob should yield 200', async () => {
        const index = referrersIndex(await send('GET', `/v2/${NAME}/referrers/${manifests[4]!.digest}`));
        assert.equal(index.manifests.length, 5);
        assert.notEqual(index.manifests[0]!.digest, index.manifests[1]!.digest);
        assertAnnotated(index);
      });
      it('GET request to existing blob with filter should yield 200', async () => {
        const r = await send('GET', `/v2/${NAME}/referrers/${manifests[4]!.digest}`, { query: { artifactType: ARTIFACT_TYPE_A } });
        const index = referrersIndex(r);
        // The Go suite accepts an unfiltered answer with a warning; berth filters.
        assert.equal(r.header('oci-filters-applied'), 'artifactType');
        assert.equal(index.manifests.length, 2);
        assertAnnotated(index);
      });
      it('GET request to missing manifest should yield 200', async () => {
        const index = referrersIndex(await send('GET', `/v2/${NAME}/referrers/${manifests[3]!.digest}`));
        assert.equal(index.manifests.length, 1);
        assert.equal(index.manifests[0]!.digest, refsManifestCLayerArtifact.digest);
      });
    });

    describe('Teardown', () => {
      const deleteAll = (): void => {
        it('Delete created manifest & associated tags', async () => {
          for (const ref of [
            refsIndexArtifact.digest,
            manifests[2]!.digest,
            manifests[4]!.digest,
            refsManifestAConfigArtifact.digest,
            refsManifestALayerArtifact.digest,
            TEST_TAG,
            refsManifestBConfigArtifact.digest,
            refsManifestBLayerArtifact.digest,
            refsManifestCLayerArtifact.digest,
          ]) {
            assertStatus(await send('DELETE', `/v2/${NAME}/manifests/${ref}`), ['2xx', 405, 404]);
          }
        });
      };
      if (opts.deleteManifestBeforeBlobs) deleteAll();
      it('Delete config blob created in tests', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${configs[2]!.digest}`), ['2xx', 405]);
      });
      it('Delete layer blob created in setup', async () => {
        assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${layer.digest}`), ['2xx', 405]);
      });
      if (!opts.deleteManifestBeforeBlobs) deleteAll();
      it('References teardown', async () => {
        const referrers = [
          refsIndexArtifact,
          refsManifestAConfigArtifact,
          refsManifestALayerArtifact,
          manifests[4]!,
          refsManifestBConfigArtifact,
          refsManifestBLayerArtifact,
        ];
        const deleteManifests = async (): Promise<void> => {
          for (const ref of referrers) assertStatus(await send('DELETE', `/v2/${NAME}/manifests/${ref.digest}`), ['2xx', 405, 404]);
        };
        if (opts.deleteManifestBeforeBlobs) await deleteManifests();
        for (const b of [configs[4]!, refBlobA, refBlobB, emptyJSON]) {
          assertStatus(await send('DELETE', `/v2/${NAME}/blobs/${b.digest}`), ['2xx', 405, 404]);
        }
        if (!opts.deleteManifestBeforeBlobs) await deleteManifests();
      });
    });
  });
}
