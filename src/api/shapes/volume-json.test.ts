import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../errors.js';
import { dockerVolume, volumeCreateOptions } from './volume-json.js';

describe('volume-json: volumes in the Docker API', { timeout: 10_000 }, () => {
  test('podman’s inspect becomes Docker’s: its fields only, the time to the second', () => {
    const v = dockerVolume({
      Name: 'data',
      Driver: 'local',
      Mountpoint: '/s/volumes/data/_data',
      CreatedAt: '2026-12-03T14:37:40.123Z',
      Labels: { a: 'b' },
      Scope: 'local',
      Options: {},
      Anonymous: false,
      NeedsCopyUp: true,
      UsedBy: [],
    });
    assert.deepEqual(v, {
      CreatedAt: '2026-12-03T14:37:40Z',
      Driver: 'local',
      Labels: { a: 'b' },
      Mountpoint: '/s/volumes/data/_data',
      Name: 'data',
      Options: {},
      Scope: 'local',
    });
  });

  test('create: a named volume is found again if it exists, an unnamed one is anonymous', () => {
    assert.deepEqual(volumeCreateOptions({ Name: 'data', Labels: { a: 'b' }, Driver: 'local' }), {
      name: 'data',
      options: { labels: { a: 'b' }, ignoreIfExists: true },
    });
    assert.deepEqual(volumeCreateOptions({}), { name: undefined, options: { labels: {}, ignoreIfExists: true, anonymous: true } });
    assert.deepEqual(volumeCreateOptions({ Name: '', DriverOpts: {} }).options.anonymous, true);
  });

  test('create refuses another driver (404) and the local driver’s mount options (400), naming them', () => {
    assert.throws(
      () => volumeCreateOptions({ Name: 'x', Driver: 'nfs' }),
      (e) => e instanceof ApiError && e.status === 404 && /plugin "nfs" not found/.test(e.message),
    );
    assert.throws(
      () => volumeCreateOptions({ Name: 'x', DriverOpts: { type: 'none', device: '/srv' } }),
      (e) => e instanceof ApiError && e.status === 400 && /"type", "device"/.test(e.message),
    );
  });
});
