import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerStatus } from '../../store/containers.js';
import { isBerthError } from '../../util/errors.js';
import { parseShare } from './create.js';
import { findPod, type PodRecord } from './records.js';
import { podState } from './state.js';

const of = (...statuses: ContainerStatus[]) => statuses.map((status) => ({ state: { status } }) as never);

describe('pods: state, --share, lookup', { timeout: 10_000 }, () => {
  test("a pod's state follows its containers as podman computes it", () => {
    assert.equal(podState([]), 'Created');
    assert.equal(podState(of('created', 'created')), 'Created');
    assert.equal(podState(of('running', 'running')), 'Running');
    assert.equal(podState(of('running', 'exited')), 'Degraded');
    assert.equal(podState(of('running', 'created')), 'Degraded');
    assert.equal(podState(of('paused', 'paused')), 'Paused');
    assert.equal(podState(of('exited', 'exited')), 'Exited');
    assert.equal(podState(of('exited', 'created')), 'Stopped');
  });

  test('--share: the defaults, +pid, none; what berth cannot share is refused in one line', () => {
    assert.deepEqual(parseShare(undefined), ['net', 'ipc', 'uts']);
    assert.deepEqual(parseShare('+pid'), ['net', 'ipc', 'uts', 'pid']);
    assert.deepEqual(parseShare('net,pid'), ['net', 'pid']);
    assert.deepEqual(parseShare('none'), []);
    assert.throws(
      () => parseShare('bogus'),
      (e) => isBerthError(e, 'USAGE') && /invalid kernel namespace to share: bogus/.test(e.message),
    );
    assert.throws(() => parseShare('cgroup'), /--share cgroup is not supported/);
    assert.deepEqual(parseShare('ipc'), ['ipc']);
    assert.deepEqual(parseShare('uts,pid'), ['uts', 'pid']);
  });

  test('a pod is found by name, full ID or a unique prefix', () => {
    const pods = [
      { id: 'abc123', name: 'web' },
      { id: 'abd456', name: 'db' },
    ] as PodRecord[];
    assert.equal(findPod(pods, 'web')?.id, 'abc123');
    assert.equal(findPod(pods, 'abd456')?.name, 'db');
    assert.equal(findPod(pods, 'abc')?.name, 'web');
    assert.equal(findPod(pods, 'zz'), undefined);
    assert.throws(() => findPod(pods, 'ab'), /more than one result for pod ID ab/);
  });
});
