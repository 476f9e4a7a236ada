import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../../util/errors.js';
import { networkFilter, type FilterableNetwork } from './filters.js';

const nets: FilterableNetwork[] = [
  { name: 'web', id: 'ab12', driver: 'bridge', created: '2026-01-01T00:00:00Z', labels: { team: 'api' } },
  { name: 'db', id: 'cd34', driver: 'macvlan', created: '2026-06-01T00:00:00Z' },
  { name: 'host', id: 'ef56', driver: 'host', created: '2026-06-01T00:00:00Z', labels: {} },
];
const pick = (filters: string[], inUse: (n: FilterableNetwork) => boolean = () => false) => nets.filter(networkFilter(filters, inUse)).map((n) => n.name);

describe('networkFilter (podman’s network filters, for the CLI and the API)', { timeout: 10_000 }, () => {
  test('the same key ORed, different keys ANDed; name a regular expression, id a prefix', () => {
    assert.deepEqual(pick(['name=^w', 'name=b$']), ['web', 'db']);
    assert.deepEqual(pick(['name=^w', 'driver=macvlan']), []);
    assert.deepEqual(pick(['id=cd']), ['db']);
    assert.deepEqual(pick(['driver=host']), ['host']);
    assert.deepEqual(pick(['label=team=api']), ['web']);
    assert.deepEqual(pick(['label!=team']), ['db', 'host']);
    assert.deepEqual(pick(['until=2026-03-01T00:00:00Z']), ['web']);
  });

  test('dangling takes true/false and Docker’s 1/0; anything else is a usage error', () => {
    const inUse = (n: FilterableNetwork) => n.name === 'db';
    assert.deepEqual(pick(['dangling=true'], inUse), ['web', 'host']);
    assert.deepEqual(pick(['dangling=0'], inUse), ['db']);
    assert.throws(
      () => pick(['dangling=maybe']),
      (e) => isBerthError(e, 'USAGE'),
    );
    assert.throws(
      () => pick(['bogus=1']),
      (e) => isBerthError(e, 'USAGE'),
    );
  });
});
