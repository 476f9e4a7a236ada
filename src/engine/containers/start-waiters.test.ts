import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../store/containers.js';
import { hasStartWaiters, onNextStart, runStartWaiters } from './start-waiters.js';

const record = (id: string) => ({ id }) as ContainerRecord;

describe('start-waiters', { timeout: 10_000 }, () => {
  test('waiters run once, at the next start of their container only; one that fails does not stop the rest', async () => {
    const ran: string[] = [];
    onNextStart('a', async () => void ran.push('a1'));
    onNextStart('a', async () => {
      throw new Error('broken attach');
    });
    onNextStart('a', async () => void ran.push('a3'));
    onNextStart('b', async () => void ran.push('b'));
    assert.ok(hasStartWaiters('a'));
    await runStartWaiters(record('a'));
    assert.deepEqual(ran, ['a1', 'a3']);
    assert.ok(!hasStartWaiters('a'));
    await runStartWaiters(record('a'));
    assert.deepEqual(ran, ['a1', 'a3']);
    assert.ok(hasStartWaiters('b'));
    await runStartWaiters(record('b'));
    assert.deepEqual(ran, ['a1', 'a3', 'b']);
  });

  test('a waiter taken back does not run', async () => {
    let ran = false;
    const forget = onNextStart('c', async () => void (ran = true));
    forget();
    assert.ok(!hasStartWaiters('c'));
    await runStartWaiters(record('c'));
    assert.equal(ran, false);
  });
});
