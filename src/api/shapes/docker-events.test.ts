import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dockerEvent, podmanEventName } from './docker-events.js';

describe('Docker events from the event log', { timeout: 10_000 }, () => {
  test('a died container is a die with its exit code, in both the old and new fields', () => {
    const e = dockerEvent(
      { Type: 'container', Status: 'died', ID: 'abc', Image: 'busybox', Name: 'web', ContainerExitCode: 3, Time: '', Attributes: { tier: 'front' } },
      1_764_000_000_123_456_789n,
    );
    const line = JSON.parse(JSON.stringify(e), (_k, v, ctx?: { source?: string }) => (typeof v === 'number' && ctx?.source ? ctx.source : v));
    assert.deepEqual(line, {
      status: 'die',
      id: 'abc',
      from: 'busybox',
      Type: 'container',
      Action: 'die',
      Actor: { ID: 'abc', Attributes: { tier: 'front', image: 'busybox', name: 'web', exitCode: '3' } },
      scope: 'local',
      time: '1764000000',
      timeNano: '1764000000123456789',
    });
  });

  test('removal is destroy for containers and volumes, delete for images', () => {
    assert.equal(dockerEvent({ Type: 'container', Status: 'remove', Time: '', Attributes: null }, 0n).Action, 'destroy');
    assert.equal(dockerEvent({ Type: 'volume', Status: 'remove', Name: 'v', Time: '', Attributes: null }, 0n).Actor.ID, 'v');
    assert.equal(dockerEvent({ Type: 'image', Status: 'remove', Time: '', Attributes: null }, 0n).Action, 'delete');
    assert.equal(podmanEventName('die'), 'died');
    assert.equal(podmanEventName('start'), 'start');
  });
});
