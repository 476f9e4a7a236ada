import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { infraCreated, infraJoinable, infraStartEnded } from './infra-created.js';

describe('infraJoinable', () => {
  const never = new Promise<never>(() => undefined);

  test('a member waiting before the infra is created gets its PID and namespace', async () => {
    const joinable = infraJoinable('a', never);
    infraCreated('a', { pid: 42, netns: '/run/netns/x' });
    assert.deepEqual(await joinable, { pid: 42, netns: '/run/netns/x' });
  });

  test('two members waiting on one infra both get it', async () => {
    const one = infraJoinable('b', never);
    const two = infraJoinable('b', never);
    infraCreated('b', { pid: 7 });
    assert.deepEqual(await Promise.all([one, two]), [{ pid: 7 }, { pid: 7 }]);
  });

  test('an infra started elsewhere (or already running): the member joins it once its start settles', async () => {
    assert.equal(await infraJoinable('c', Promise.resolve()), undefined);
  });

  test('a member that asks after the creation, while the infra still starts, gets it at once', async () => {
    infraCreated('e', { pid: 9, netns: '/run/netns/e' });
    assert.deepEqual(await infraJoinable('e', never), { pid: 9, netns: '/run/netns/e' });
    assert.deepEqual(await infraJoinable('e', never), { pid: 9, netns: '/run/netns/e' });
    infraStartEnded('e');
    assert.equal(await infraJoinable('e', Promise.resolve()), undefined);
  });

  test('a creation signalled for an earlier start is not taken for the next one', async () => {
    infraCreated('d', { pid: 1 });
    infraStartEnded('d');
    let resolveRunning!: () => void;
    const running = new Promise<void>((r) => (resolveRunning = r));
    const joinable = infraJoinable('d', running);
    resolveRunning();
    assert.equal(await joinable, undefined);
  });
});
