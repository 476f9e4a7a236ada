import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ImageRecord } from '../store/images.js';
import { neededImages } from './images.js';

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
