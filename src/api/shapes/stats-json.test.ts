import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatsReading } from '../../engine/index.js';
import { dockerStats } from './stats-json.js';

const reading = (over: Partial<StatsReading> = {}): StatsReading => ({
  at: Date.parse('2026-12-03T10:00:00Z') * 1e6,
  cpuNs: 5e9,
  cpuUserNs: 3e9,
  cpuSystemNs: 2e9,
  perCpuNs: [2e9, 3e9],
  systemCpuNs: 1e12,
  onlineCpus: 2,
  mem: 10_000,
  limit: 1_000_000,
  memStats: { total_inactive_file: 4000 },
  pids: 3,
  pidsLimit: 0,
  networks: { eth0: { rxBytes: 10, rxPackets: 1, rxErrors: 0, rxDropped: 0, txBytes: 20, txPackets: 2, txErrors: 0, txDropped: 0 } },
  blkio: [{ major: 8, minor: 0, op: 'Read', value: 512 }],
  ...over,
});

describe('stats-json', { timeout: 10_000 }, () => {
  test('a running container’s sample in moby’s field names, precpu from the previous one', () => {
    const prev = reading({ at: Date.parse('2026-12-03T09:59:59Z') * 1e6, cpuNs: 4e9, systemCpuNs: 9e11 });
    const s = dockerStats({ id: 'abc', name: 'web' }, reading(), prev);
    assert.equal(s.name, '/web');
    assert.equal(s.read, '2026-12-03T10:00:00.000Z');
    assert.equal(s.preread, '2026-12-03T09:59:59.000Z');
    assert.deepEqual(s.cpu_stats.cpu_usage, { total_usage: 5e9, percpu_usage: [2e9, 3e9], usage_in_kernelmode: 2e9, usage_in_usermode: 3e9 });
    assert.equal(s.cpu_stats.system_cpu_usage, 1e12);
    assert.equal(s.cpu_stats.online_cpus, 2);
    assert.equal(s.precpu_stats.cpu_usage.total_usage, 4e9);
    assert.deepEqual(s.memory_stats, { usage: 10_000, stats: { total_inactive_file: 4000 }, limit: 1_000_000 });
    assert.deepEqual(s.pids_stats, { current: 3 });
    assert.deepEqual(s.networks?.eth0, { rx_bytes: 10, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 20, tx_packets: 2, tx_errors: 0, tx_dropped: 0 });
    assert.deepEqual(s.blkio_stats.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'Read', value: 512 }]);
  });

  test('a one-shot has a zero precpu; a stopped container empty sections', () => {
    const one = dockerStats({ id: 'abc', name: 'web' }, reading(), undefined);
    assert.equal(one.preread, '0001-01-01T00:00:00Z');
    assert.equal(one.precpu_stats.cpu_usage.total_usage, 0);
    const stopped = dockerStats({ id: 'abc', name: 'web' }, reading({ limit: 0, networks: {} }), undefined);
    assert.deepEqual(stopped.memory_stats, {});
    assert.deepEqual(stopped.pids_stats, {});
    assert.equal(stopped.networks, undefined);
  });
});
