import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { idMapArgs, parseSubids } from './subids.js';

describe('subordinate ID ranges', { timeout: 5_000 }, () => {
  const text = ['# comment', 'alice:100000:65536', '', 'bob:165536:65536', '1001:300000:1000', 'alice:500000:10', 'alice:x:10', 'alice:1:0', 'garbage'].join(
    '\n',
  );

  it('finds a user by name or by numeric ID, in file order, skipping malformed lines', () => {
    assert.deepEqual(parseSubids(text, { name: 'alice', id: 1000 }), [
      { start: 100000, count: 65536 },
      { start: 500000, count: 10 },
    ]);
    assert.deepEqual(parseSubids(text, { name: 'carol', id: 1001 }), [{ start: 300000, count: 1000 }]);
    assert.deepEqual(parseSubids(text, { name: 'dave', id: 1002 }), []);
  });

  it('maps the user to 0 and the ranges one after the other from 1', () => {
    assert.deepEqual(
      idMapArgs(1000, [
        { start: 100000, count: 65536 },
        { start: 500000, count: 10 },
      ]),
      ['0', '1000', '1', '1', '100000', '65536', '65537', '500000', '10'],
    );
  });
});
