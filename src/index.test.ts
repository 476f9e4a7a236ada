import assert from 'node:assert/strict';
import { it } from 'node:test';

it('berth is usable as a library under its package name', async () => {
  // A package may import itself by name through its "exports" map: this is what users get.
  const berth = await import('berth');
  assert.equal(typeof berth.withStore, 'function');
  assert.equal(typeof berth.loadImages, 'function');
  assert.equal(typeof berth.parseNormalizedNamed, 'function');
  assert.equal(berth.formatReference(berth.withDefaultTag(berth.parseNormalizedNamed('busybox'))), 'docker.io/library/busybox:latest');
  const err = new berth.BerthError('IMAGE_UNKNOWN', 'x: image not known');
  assert.equal(err.exitCode, 125);
});
