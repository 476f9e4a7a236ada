import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../util/errors.js';
import type { ImageRecord } from './images.js';
import { findImage, matchedName, storedName } from './lookup.js';

const hex = (c: string) => c.repeat(64);
function image(id: string, names: string[], digests: string[] = []): ImageRecord {
  return {
    id: `sha256:${id}`,
    names,
    digests,
    manifestDigest: digests[0] ?? `sha256:${hex('0')}`,
    manifestMediaType: '',
    layers: [],
    layerBlobs: [],
    size: 0,
    created: '',
    added: '',
  };
}

describe('image lookup', () => {
  const a = image(hex('a'), ['localhost/busybox:latest', 'docker.io/library/alpine:3'], [`sha256:${hex('d')}`]);
  const b = image(`abc${hex('1').slice(3)}`, ['quay.io/team/tool:1.0']);
  const c = image(`abc${hex('2').slice(3)}`, ['docker.io/library/busybox:1']);
  const images = [a, b, c];

  it('names berth creates land under localhost/', () => {
    assert.equal(storedName('busybox'), 'localhost/busybox:latest');
    assert.equal(storedName('team/x:2'), 'localhost/team/x:2');
    assert.equal(storedName('quay.io/a/b'), 'quay.io/a/b:latest');
    assert.equal(storedName('localhost:5000/a'), 'localhost:5000/a:latest');
    assert.throws(
      () => storedName('Busybox'),
      (e: unknown) => e instanceof BerthError && e.code === 'INVALID_REFERENCE',
    );
  });

  it('finds by full ID, sha256: ID, and unique prefix', () => {
    assert.equal(findImage(images, hex('a')), a);
    assert.equal(findImage(images, `sha256:${hex('a')}`), a);
    assert.equal(findImage(images, 'aaaa'), a);
    assert.throws(() => findImage(images, 'abc'), /ambiguous/);
    assert.equal(findImage(images, 'abc1'), b);
  });

  it('finds by exact name, short name and docker.io normalisation', () => {
    assert.equal(findImage(images, 'busybox'), a); // localhost/ first, as podman
    assert.equal(findImage(images, 'busybox:1'), c);
    assert.equal(findImage(images, 'alpine:3'), a);
    assert.equal(findImage(images, 'docker.io/alpine:3'), a);
    assert.equal(findImage(images, 'team/tool:1.0'), b);
    assert.equal(findImage(images, 'quay.io/team/tool:1.0'), b);
    assert.equal(findImage(images, 'quay.io/team/tool'), undefined);
    assert.equal(findImage(images, 'nothing'), undefined);
  });

  it("tells which of its names a name found the image by (what podman shows as the container's image)", () => {
    assert.equal(matchedName(a, 'busybox'), 'localhost/busybox:latest');
    assert.equal(matchedName(a, 'alpine:3'), 'docker.io/library/alpine:3');
    assert.equal(matchedName(a, 'docker.io/alpine:3'), 'docker.io/library/alpine:3');
    assert.equal(matchedName(b, 'team/tool:1.0'), 'quay.io/team/tool:1.0');
    assert.equal(matchedName(a, hex('a')), undefined);
    assert.equal(matchedName(a, `busybox@sha256:${hex('d')}`), undefined);
    assert.equal(matchedName(a, 'quay.io/busybox'), undefined);
  });

  it('finds by digest and name@digest', () => {
    assert.equal(findImage(images, `sha256:${hex('d')}`), undefined, 'a bare digest is an ID, not a manifest digest');
    assert.equal(findImage(images, `alpine@sha256:${hex('d')}`), a);
  });
});
