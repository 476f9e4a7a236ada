import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VolumeRecord } from '../../store/volumes.js';
import { isBerthError } from '../../util/errors.js';
import { volumeFilters } from './filters.js';

const volume = (name: string, labels: Record<string, string>, anonymous = false): VolumeRecord => ({
  name,
  created: '2026-01-01T00:00:00Z',
  labels,
  options: {},
  anonymous,
  needsCopyUp: false,
});
const vols = [volume('data', { team: 'api' }), volume('cache', { team: 'web' }), volume('f'.repeat(64), {}, true)];
const pick = (filters: string[], inUse = (v: VolumeRecord) => v.name === 'data') =>
  vols.filter((v) => volumeFilters(filters).every((t) => t(v, inUse(v)))).map((v) => v.name.slice(0, 5));

describe('volumeFilters (podman’s volume filters, for the CLI and the API)', { timeout: 10_000 }, () => {
  test('name, label, label!, dangling, driver, anonymous; all must match', () => {
    assert.deepEqual(pick(['name=^ca']), ['cache']);
    assert.deepEqual(pick(['label=team']), ['data', 'cache']);
    assert.deepEqual(pick(['label=team=web']), ['cache']);
    assert.deepEqual(pick(['label!=team=web']), ['data', 'fffff']);
    assert.deepEqual(pick(['dangling=true']), ['cache', 'fffff']);
    assert.deepEqual(pick(['dangling=1', 'label=team']), ['cache']);
    assert.deepEqual(pick(['driver=local', 'anonymous=true']), ['fffff']);
    assert.deepEqual(pick(['driver=nfs']), []);
  });

  test('an unknown key or a bad value is a usage error', () => {
    assert.throws(
      () => volumeFilters(['bogus=1']),
      (e) => isBerthError(e, 'USAGE'),
    );
    assert.throws(
      () => volumeFilters(['dangling=maybe']),
      (e) => isBerthError(e, 'USAGE'),
    );
    assert.throws(
      () => volumeFilters(['name=(']),
      (e) => isBerthError(e, 'USAGE'),
    );
  });
});
