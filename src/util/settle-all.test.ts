import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settleAll } from './settle-all.js';

test('settleAll gives the values in order, or throws the first failure once every promise has settled', { timeout: 5_000 }, async () => {
  assert.deepEqual(await settleAll([Promise.resolve(1), Promise.resolve(2)]), [1, 2]);
  let slowDone = false;
  const slow = new Promise<number>((resolve) =>
    setTimeout(() => {
      slowDone = true;
      resolve(3);
    }, 50),
  );
  await assert.rejects(settleAll([slow, Promise.reject(new Error('first')), Promise.reject(new Error('second'))]), /first/);
  assert.ok(slowDone, 'thrown before every promise had settled');
});
