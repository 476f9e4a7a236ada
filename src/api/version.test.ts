import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitApiVersion, versionAtLeast } from './version.js';

describe('API version prefix', { timeout: 10_000 }, () => {
  test('a prefix in range is taken off the path, the query kept', () => {
    assert.deepEqual(splitApiVersion('/v1.41/containers/json?all=1'), { version: '1.41', path: '/containers/json?all=1' });
    assert.deepEqual(splitApiVersion('/v1.24/_ping'), { version: '1.24', path: '/_ping' });
    assert.deepEqual(splitApiVersion('/v1.47'), { version: '1.47', path: '/' });
  });

  test('no prefix means the newest version', () => {
    assert.deepEqual(splitApiVersion('/_ping'), { version: '1.47', path: '/_ping' });
    // A path that only starts like a version is not one.
    assert.deepEqual(splitApiVersion('/volumes/v1.2x'), { version: '1.47', path: '/volumes/v1.2x' });
  });

  test('versions out of range get Docker’s words', () => {
    assert.deepEqual(splitApiVersion('/v1.23/version'), {
      error: 'client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
    });
    assert.deepEqual(splitApiVersion('/v1.48/version'), { error: 'client version 1.48 is too new. Maximum supported API version is 1.47' });
  });

  test('versions compare as numbers, not strings', () => {
    assert.equal(versionAtLeast('1.40', '1.9'), true);
    assert.equal(versionAtLeast('1.24', '1.41'), false);
  });
});
