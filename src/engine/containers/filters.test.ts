import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerRecord } from '../../store/containers.js';
import { containerRecord } from '../../testing/container-record.js';
import { filterContainers } from './filters.js';
import { containerPruneFilter } from './prune.js';

function record(name: string, created: string, patch: Partial<ContainerRecord['config']> = {}, state: Partial<ContainerRecord['state']> = {}): ContainerRecord {
  const id = name.padEnd(64, '0');
  return containerRecord({
    id,
    name,
    created,
    config: { hostname: name, ...patch },
    state: { status: 'running', pid: 1, conmonPid: 1, mounted: true, ...state },
  });
}

const a = record('a1', '2026-01-01T00:00:00Z', {
  network: {
    mode: 'bridge',
    networks: { front: { aliases: [], staticIps: [], interfaceName: 'eth0' } },
    publish: [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' }],
    expose: ['9000/udp'],
  },
  mountSpecs: [{ type: 'volume', name: 'data', anonymous: false, destination: '/data', options: [], noCopy: false }],
  labels: { tier: 'web' },
});
const b = record('b2', '2026-01-01T00:01:00Z', { network: { mode: 'host' } }, { status: 'exited', exitCode: 1 });
const c = record('c3', '2026-01-01T00:02:00Z', { labels: { tier: 'db' } });
const all = [a, b, c];
const names = (list: ContainerRecord[]) => list.map((x) => x.name);

describe('container filters (ps and the API’s /containers/json)', { timeout: 10_000 }, () => {
  test('network, before and since, volume', () => {
    assert.deepEqual(names(filterContainers(all, ['network=front'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['network=host'])), ['b2']);
    assert.deepEqual(names(filterContainers(all, ['before=c3'])), ['a1', 'b2']);
    assert.deepEqual(names(filterContainers(all, ['since=a1'])), ['b2', 'c3']);
    assert.deepEqual(names(filterContainers(all, ['volume=data'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['volume=/data'])), ['a1']);
    assert.throws(() => filterContainers(all, ['before=nosuch']), /no such container nosuch/);
    // Docker's names begin with a slash.
    assert.deepEqual(names(filterContainers(all, ['name=^/a1$'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['name=^a1$'])), ['a1']);
  });

  test('publish matches host ports, expose the container’s (published or only exposed)', () => {
    assert.deepEqual(names(filterContainers(all, ['publish=8080'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['publish=8000-8100/tcp'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['publish=80'])), []);
    assert.deepEqual(names(filterContainers(all, ['expose=80/tcp'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['expose=9000/udp'])), ['a1']);
    assert.deepEqual(names(filterContainers(all, ['expose=9000'])), []);
  });

  test('health from the caller’s verdicts (none without a healthcheck); bad values are refused', () => {
    const health = (x: ContainerRecord) => (x.name === 'c3' ? 'healthy' : undefined);
    assert.deepEqual(names(filterContainers(all, ['health=healthy'], { health })), ['c3']);
    assert.deepEqual(names(filterContainers(all, ['health=none'], { health })), ['a1', 'b2']);
    assert.throws(() => filterContainers(all, ['health=great']), /unrecognized filter value for health/);
    assert.throws(() => filterContainers(all, ['isolation=x']), /invalid filter "isolation"/);
  });

  test('keys are ANDed, values of one key ORed, except labels', () => {
    assert.deepEqual(names(filterContainers(all, ['label=tier', 'status=running'])), ['a1', 'c3']);
    // Labels are the exception: every one must match.
    assert.deepEqual(names(filterContainers(all, ['label=tier=web', 'label=tier=db'])), []);
    assert.deepEqual(names(filterContainers(all, ['label=tier', 'label=tier=db'])), ['c3']);
    assert.deepEqual(names(filterContainers(all, ['name=a1', 'name=c3'])), ['a1', 'c3']);
    assert.deepEqual(names(filterContainers(all, ['status=exited', 'exited=1'])), ['b2']);
  });

  test('pod=: a member by its pod’s name, ID or ID prefix; a container of no pod never', () => {
    const member = record('m1', '2026-01-01T00:00:00Z', { pod: { id: 'feed'.padEnd(64, '0') } });
    const list = [member, ...all];
    const pods = [{ id: 'feed'.padEnd(64, '0'), name: 'web' }];
    assert.deepEqual(names(filterContainers(list, ['pod=web'], { pods })), ['m1']);
    assert.deepEqual(names(filterContainers(list, ['pod=feed'], { pods })), ['m1']);
    assert.deepEqual(names(filterContainers(list, ['pod=other'], { pods })), []);
  });

  test('prune’s filters: label, label! and until (a time or a Go duration before now)', () => {
    assert.deepEqual(names(all.filter(containerPruneFilter(['label!=tier']))), ['b2']);
    assert.deepEqual(names(all.filter(containerPruneFilter(['label=tier=db']))), ['c3']);
    assert.deepEqual(names(all.filter(containerPruneFilter(['until=2026-01-01T00:01:30Z']))), ['a1', 'b2']);
    assert.deepEqual(names(all.filter(containerPruneFilter([`until=${Date.parse('2026-01-01T00:00:30Z') / 1000}`]))), ['a1']);
    assert.deepEqual(names(all.filter(containerPruneFilter(['until=1h']))), ['a1', 'b2', 'c3']);
    assert.throws(() => containerPruneFilter(['until=soon']), /invalid until filter/);
  });
});
