import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../store/containers.js';
import { applyEnvMerge, checkTimezone, parseLabelFile, volumesFromMounts, withVolumesFrom } from './create-extras.js';

describe('create extras', { timeout: 10_000 }, () => {
  test('--env-merge expands ${VAR} and $VAR from the environment so far', () => {
    assert.deepEqual(applyEnvMerge(['PATH=/bin', 'A=1'], ['PATH=${PATH}:/opt', 'B=$A-x', 'C=${NOPE}']), ['PATH=/bin:/opt', 'A=1', 'B=1-x', 'C=']);
    assert.throws(() => applyEnvMerge([], ['=x']), /invalid --env-merge/);
  });

  test('--label-file: KEY=VALUE lines, comments and blanks skipped', () => {
    assert.deepEqual(parseLabelFile('# c\na=1\n\n  b=two words \r\n'), ['a=1', 'b=two words']);
  });

  test('--tz names stay under the zoneinfo directory', () => {
    checkTimezone('Europe/Berlin');
    checkTimezone('local');
    assert.throws(() => checkTimezone('../../etc/passwd'), /unknown time zone/);
    assert.throws(() => checkTimezone('/etc/passwd'), /unknown time zone/);
  });

  test("--volumes-from: the other container's volumes and binds, ro/rw over their mode, below the user's own mounts", () => {
    const src = {
      id: 'a'.repeat(64),
      name: 'src',
      config: {
        mountSpecs: [
          { type: 'volume', name: 'v1', anonymous: true, destination: '/data', options: [], noCopy: false },
          { type: 'bind', source: '/tmp', destination: '/h', options: ['ro'] },
          { type: 'tmpfs', destination: '/t', options: [] },
        ],
      },
    } as unknown as ContainerRecord;
    const ro = volumesFromMounts([src], ['src:ro']);
    assert.deepEqual(
      ro.map((m) => [m.destination, m.options]),
      [
        ['/data', ['ro']],
        ['/h', ['ro']],
      ],
    );
    assert.equal((ro[0] as { anonymous: boolean }).anonymous, false);
    assert.deepEqual(
      volumesFromMounts([src], ['src:rw']).map((m) => m.options),
      [['rw'], ['rw']],
    );
    assert.throws(() => volumesFromMounts([src], ['nope']), /no container with name or ID "nope" found/);
    assert.throws(() => volumesFromMounts([src], ['src:xx']), /invalid options xx/);
    const user = [
      { type: 'bind' as const, source: '/x', destination: '/h', options: [] },
      { type: 'volume' as const, name: 'anon', anonymous: true, destination: '/data', options: [], noCopy: false },
    ];
    const merged = withVolumesFrom(user, ro);
    assert.equal(
      merged.find((m) => m.destination === '/h')?.type === 'bind' && (merged.find((m) => m.destination === '/h') as { source: string }).source,
      '/x',
    );
    assert.equal((merged.find((m) => m.destination === '/data') as { name: string }).name, 'v1');
  });
});
