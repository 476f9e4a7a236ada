import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ImageRecord } from '../../store/images.js';
import { neededImages, planRemoval } from './records.js';

const image = (id: string, layers: string[], names: string[] = []): ImageRecord => ({
  id,
  names,
  digests: [],
  manifestDigest: `m-${id}`,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  layers,
  layerBlobs: layers,
  size: 0,
  created: '',
  added: '',
});

it('a kept image keeps what it was built on: its cache parents, up the chain, and proper layer prefixes', () => {
  const images = [
    image('base', ['L1'], ['busybox']),
    image('run1', ['L1', 'L2']),
    image('env', ['L1', 'L2']), // a metadata step: same layers as its parent
    image('run2', ['L1', 'L2', 'L3']),
    image('app', ['L1', 'L2', 'L3'], ['app']), // the tagged result (a label step over run2)
    image('other', ['L1', 'L9']), // an untagged build beside it
    image('twin', ['L1', 'L2', 'L3']), // same layers, but not on app's chain
  ];
  const parents = new Map([
    ['run1', 'base'],
    ['env', 'run1'],
    ['run2', 'env'],
    ['app', 'run2'],
    ['other', 'base'],
  ]);
  assert.deepEqual([...neededImages(images, new Set(['app']), parents)].sort(), ['app', 'base', 'env', 'run1', 'run2']);
  // Without the cache's links, only proper layer prefixes count: a same-layer metadata step is not one.
  assert.deepEqual([...neededImages(images, new Set(['app']))].sort(), ['app', 'base', 'env', 'run1']);
  assert.deepEqual([...neededImages(images, new Set(['other']), parents)].sort(), ['base', 'other']);
});

it('rmi removes what it is told: a name of several is untagged (forced or not), an ID or digest needs force, a last name deletes', { timeout: 5_000 }, () => {
  const img = image('sha256:' + 'ab'.repeat(32), ['L1'], ['localhost/a:1', 'localhost/b:2', 'quay.io/x/c:3']);
  for (const force of [false, true]) {
    assert.deepEqual(planRemoval(img, 'a:1', force), { untag: 'localhost/a:1' });
    assert.deepEqual(planRemoval(img, 'localhost/b:2', force), { untag: 'localhost/b:2' });
    assert.deepEqual(planRemoval(img, 'x/c:3', force), { untag: 'quay.io/x/c:3' });
  }
  const byId = planRemoval(img, 'abab', false);
  assert.ok('refuse' in byId);
  assert.equal(
    byId.refuse.message,
    `unable to delete image "${'ab'.repeat(32)}" by ID with more than one tag ([localhost/a:1 localhost/b:2 quay.io/x/c:3]): please force removal`,
  );
  assert.match((planRemoval(img, `sha256:${'ab'.repeat(32)}`, false) as { refuse: Error }).refuse.message, /by digest with more than one tag/);
  assert.deepEqual(planRemoval(img, 'abab', true), { delete: true });
  assert.deepEqual(planRemoval(img, undefined, false), { delete: true }, 'rmi --all');
  assert.deepEqual(planRemoval({ ...img, names: ['localhost/a:1'] }, 'a:1', false), { delete: true });
  assert.deepEqual(planRemoval({ ...img, names: [] }, 'abab', false), { delete: true });
  // A name@digest of an image with several names: podman's "tag not known", never a deletion.
  assert.ok('refuse' in planRemoval(img, 'localhost/a@sha256:' + 'cd'.repeat(32), true));
});
