import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../util/errors.js';
import { caseImage, memoryDestination } from './copy.case.js';
import { copyImage } from './copy-image.js';
import { imageSource } from './image-source.js';

describe('copyImage asks admit() before it writes anything', { timeout: 10_000 }, () => {
  it('hands it the top manifest; a refusal leaves the destination empty and reads no layer', async () => {
    const image = await caseImage({ texts: ['a\n', 'b\n'] });
    let layerReads = 0;
    const source = () =>
      imageSource('case', image, {
        openLayer: async (blob) => {
          layerReads++;
          return image.layers.find((l) => l.digest === blob.digest)!.blob();
        },
      });
    const seen: { digest: string; mediaType: string }[] = [];
    const refused = memoryDestination();
    await assert.rejects(
      copyImage(source(), refused, {
        tmpDir: async () => '/nonexistent',
        admit: async (top) => {
          seen.push(top);
          throw new BerthError('POLICY_DENIED', 'rejected by the test');
        },
      }),
      /rejected by the test/,
    );
    assert.deepEqual(seen, [{ digest: image.manifest.digest, mediaType: image.manifest.mediaType }]);
    assert.equal(refused.blobs.size, 0);
    assert.equal(refused.top, undefined);
    assert.equal(layerReads, 0);
    const admitted = memoryDestination();
    await copyImage(source(), admitted, { tmpDir: async () => '/nonexistent', admit: async () => undefined });
    assert.equal(admitted.top?.digest, image.manifest.digest);
    assert.equal(layerReads, 2);
  });
});
