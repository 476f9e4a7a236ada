import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namesHistory, recordNamesHistory, type ImageRecord } from './images.js';

function image(id: string, names: string[]): ImageRecord {
  return { id, names, digests: [], manifestDigest: '', manifestMediaType: '', layers: [], layerBlobs: [], size: 0, created: '', added: '' };
}

/** Runs one change to the records as Store.updateImages does. */
function update(images: ImageRecord[], change: (images: ImageRecord[]) => void): void {
  const before = new Map(images.map((i) => [i.id, [...i.names]]));
  change(images);
  recordNamesHistory(before, images);
}

describe('names history', { timeout: 5_000 }, () => {
  it('is the names, last added first, until they change', () => {
    const i = image('a', ['x:latest', 'y:latest']);
    assert.deepEqual(namesHistory(i), ['y:latest', 'x:latest']);
    update([i], () => undefined);
    assert.equal(i.namesHistory, undefined, 'no change, nothing recorded');
  });

  it('keeps a removed name behind the current ones, newest removal first (as containers/storage)', () => {
    const images = [image('a', ['i:latest'])];
    const i = images[0]!;
    update(images, () => i.names.push('r1:latest'));
    update(images, () => (i.names = i.names.filter((n) => n !== 'r1:latest')));
    assert.deepEqual(namesHistory(i), ['i:latest', 'r1:latest']);
    update(images, () => i.names.push('r2:latest'));
    update(images, () => (i.names = i.names.filter((n) => n !== 'r2:latest')));
    assert.deepEqual(namesHistory(i), ['i:latest', 'r2:latest', 'r1:latest']);
  });

  it('records the name an image lost to another, and leaves a new image to derive its own', () => {
    const old = image('a', ['n:latest']);
    const images = [old];
    update(images, (all) => {
      old.names = [];
      all.push(image('b', ['n:latest']));
    });
    assert.deepEqual(namesHistory(old), ['n:latest']);
    assert.equal(images[1]!.namesHistory, undefined);
    assert.deepEqual(namesHistory(images[1]!), ['n:latest']);
  });
});
