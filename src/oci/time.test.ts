import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goTimestamp, goTimestampString } from './time.js';

test('config times are written and shown as Go marshals them', () => {
  assert.equal(goTimestamp(new Date(0)), '1970-01-01T00:00:00Z');
  assert.equal(goTimestamp(new Date('2026-12-01T02:53:53.790Z')), '2026-12-01T02:53:53.79Z');
  assert.equal(goTimestamp(new Date('2026-12-01T02:53:53.007Z')), '2026-12-01T02:53:53.007Z');
  assert.equal(goTimestampString('2026-12-01T02:53:53.790Z'), '2026-12-01T02:53:53.79Z');
  assert.equal(goTimestampString('2026-12-01T02:53:53.000000000Z'), '2026-12-01T02:53:53Z');
  assert.equal(goTimestampString('2026-12-01T02:53:53.123456789Z'), '2026-12-01T02:53:53.123456789Z');
  assert.equal(goTimestampString('2026-12-01T02:53:53.120+01:00'), '2026-12-01T02:53:53.12+01:00');
  assert.equal(goTimestampString('2026-12-01T02:53:53Z'), '2026-12-01T02:53:53Z');
});
