import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord, VolumeRecord } from '../../engine/index.js';
import { containerUsage, volumeUsage } from './df-json.js';

const container = {
  id: 'c'.repeat(64),
  name: 'web',
  image: `sha256:${'a'.repeat(64)}`,
  imageName: 'docker.io/library/busybox:latest',
  layers: [],
  created: '2024-01-02T03:04:05Z',
  config: { entrypoint: ['sh', '-c'], command: ['sleep 1'], labels: { app: 'x' } },
  state: { status: 'exited', exitCode: 3 },
} as unknown as ContainerRecord;

describe('system df in Docker’s shapes', { timeout: 10_000 }, () => {
  test('a container with its own bytes and its root file system’s', () => {
    const u = containerUsage(container, 10, 1000);
    assert.equal(u.Id, container.id);
    assert.deepEqual(u.Names, ['/web']);
    assert.equal(u.ImageID, container.image);
    assert.equal(u.Command, 'sh -c sleep 1');
    assert.equal(u.Created, Date.parse('2024-01-02T03:04:05Z') / 1000);
    assert.equal(u.SizeRw, 10);
    assert.equal(u.SizeRootFs, 1010);
    assert.equal(u.State, 'exited');
    assert.equal(u.Status, 'Exited (3)');
    assert.deepEqual(u.Labels, { app: 'x' });
    const running = containerUsage({ ...container, state: { ...container.state, status: 'stopping' } }, 0, 0);
    assert.equal(running.State, 'running', 'Docker has no stopping');
  });

  test('a volume with its UsageData', () => {
    const v: VolumeRecord = { name: 'data', created: '2024-01-01T00:00:00Z', labels: {}, options: {}, anonymous: false, needsCopyUp: false };
    assert.deepEqual(volumeUsage(v, '/vol/data', 42, 2), {
      CreatedAt: '2024-01-01T00:00:00Z',
      Driver: 'local',
      Labels: {},
      Mountpoint: '/vol/data',
      Name: 'data',
      Options: {},
      Scope: 'local',
      UsageData: { Size: 42, RefCount: 2 },
    });
  });
});
