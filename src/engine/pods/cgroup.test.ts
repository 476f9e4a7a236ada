import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { parsePodResources } from './cgroup.js';

describe('pods: --cpus, --memory, --cpu-shares, --cpuset-cpus', { timeout: 10_000 }, () => {
  test('parsed as podman keeps them: a CFS quota of a 100 ms period, memory and twice it with swap', () => {
    assert.deepEqual(parsePodResources({}), {});
    assert.deepEqual(parsePodResources({ cpus: '0.5', memory: '64m', cpuShares: '512', cpusetCpus: '0' }), {
      memory: 64 * 1024 * 1024,
      memorySwap: 128 * 1024 * 1024,
      cpuPeriod: 100_000,
      cpuQuota: 50_000,
      cpuShares: 512,
      cpusetCpus: '0',
    });
    // --memory 0: no limit, as for a container.
    assert.deepEqual(parsePodResources({ memory: '0' }), {});
  });
  test('a wrong value is refused in one line, before anything is made', () => {
    assert.throws(
      () => parsePodResources({ memory: '1k' }),
      (e) => isBerthError(e, 'USAGE') && /minimum memory limit/.test(e.message),
    );
    assert.throws(() => parsePodResources({ cpus: 'x' }), /invalid --cpus "x"/);
    assert.throws(() => parsePodResources({ cpuShares: '1' }), /invalid --cpu-shares "1"/);
    assert.throws(() => parsePodResources({ cpusetCpus: '3-1' }), /runs backwards/);
  });
});
