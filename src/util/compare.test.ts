import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareStrings } from './compare.js';

test('compareStrings orders by code unit, as Go sorts strings: upper case before lower, no locale', { timeout: 5_000 }, () => {
  assert.deepEqual(['b', 'a', 'B', 'é', 'e', 'a-1', 'a1'].sort(compareStrings), ['B', 'a', 'a-1', 'a1', 'b', 'e', 'é']);
  assert.deepEqual(['2026-12-04T10:00:00.5Z', '2026-12-03T23:59:59Z', '2026-12-04T09:59:59Z'].sort(compareStrings), [
    '2026-12-03T23:59:59Z',
    '2026-12-04T09:59:59Z',
    '2026-12-04T10:00:00.5Z',
  ]);
  assert.equal(compareStrings('same', 'same'), 0);
});
