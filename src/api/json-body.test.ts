import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './errors.js';
import { jsonObject } from './json-body.js';

describe('a request’s JSON body', { timeout: 10_000 }, () => {
  test('an object is taken as it is, an empty body is {}', () => {
    assert.deepEqual(jsonObject('{"Name":"v"}'), { Name: 'v' });
    assert.deepEqual(jsonObject('  \n'), {});
  });

  test('anything else is a 400 naming the body', () => {
    const refused = (text: string, message: string) =>
      assert.throws(
        () => jsonObject(text, 'the exec body'),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === message,
      );
    refused('{', 'invalid JSON in the exec body');
    refused('[1]', 'the exec body must be a JSON object');
    refused('null', 'the exec body must be a JSON object');
  });
});
