import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './errors.js';
import { filterArgs, parseFilters } from './filters.js';

describe('Docker filters', { timeout: 10_000 }, () => {
  test('the list form and the old map form mean the same', () => {
    assert.deepEqual(parseFilters('{"label":["a=b","c"],"status":["running"]}'), { label: ['a=b', 'c'], status: ['running'] });
    assert.deepEqual(parseFilters('{"label":{"a=b":true,"off":false}}'), { label: ['a=b'] });
    assert.deepEqual(parseFilters(undefined), {});
    assert.deepEqual(parseFilters(''), {});
  });

  test('they become podman filter arguments', () => {
    assert.deepEqual(filterArgs({ label: ['a=b', 'c'], name: ['web'] }), ['label=a=b', 'label=c', 'name=web']);
  });

  test('anything else is a 400 naming the problem', () => {
    for (const bad of ['{', '[]', '"x"', '{"label":"a"}', '{"label":[1]}']) {
      assert.throws(
        () => parseFilters(bad),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.message.startsWith('invalid filter'),
        bad,
      );
    }
  });
});
