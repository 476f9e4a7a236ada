import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interfaceNames, parseNetworkRequest } from './network-options.js';

describe('--network NAME:OPTIONS as podman 4 reads it', { timeout: 10_000 }, () => {
  test('a bare name, and bridge for the default network', () => {
    assert.deepEqual(parseNetworkRequest('web'), { name: 'web', aliases: [], staticIps: [] });
    assert.deepEqual(parseNetworkRequest('bridge'), { name: 'podman', aliases: [], staticIps: [] });
  });

  test('alias, ip (v4 or v6), ip6, mac and interface_name, comma-separated', () => {
    assert.deepEqual(parseNetworkRequest('web:alias=a,alias=b,ip=10.1.2.3,ip6=fd00::5,mac=02:AA:bb:cc:dd:ee,interface_name=front'), {
      name: 'web',
      aliases: ['a', 'b'],
      staticIps: ['10.1.2.3', 'fd00::5'],
      staticMac: '02:aa:bb:cc:dd:ee',
      interfaceName: 'front',
    });
    assert.deepEqual(parseNetworkRequest('bridge:ip=10.88.0.10,mac=44:33:22:11:00:99'), {
      name: 'podman',
      aliases: [],
      staticIps: ['10.88.0.10'],
      staticMac: '44:33:22:11:00:99',
    });
  });

  test("bad options fail with podman's words; the default bridge is not named in them", () => {
    const cases: [string, string][] = [
      ['n:ip=1.2.3', 'invalid option for network n: invalid ip address "1.2.3"'],
      ['n:mac=zz', 'invalid option for network n: address zz: invalid MAC address'],
      ['n:alias=', 'invalid option for network n: alias cannot be empty'],
      ['n:interface_name=', 'invalid option for network n: interface_name cannot be empty'],
      ['n:foo=bar', 'invalid option for network n: unknown bridge network option: foo'],
      ['n:alias=a,other', 'invalid option for network n: unknown bridge network option: other'],
      [':ip=1.2.3.4', 'network name cannot be empty'],
      ['bridge:foo=1', 'unknown bridge network option: foo'],
    ];
    for (const [word, message] of cases) assert.throws(() => parseNetworkRequest(word), { name: 'BerthError', code: 'USAGE', message }, word);
  });

  test('interface names: the asked ones kept, the others the lowest free ethN in order', () => {
    assert.deepEqual(interfaceNames([undefined, undefined]), ['eth0', 'eth1']);
    assert.deepEqual(interfaceNames(['first', undefined, 'second']), ['first', 'eth0', 'second']);
    assert.deepEqual(interfaceNames([undefined, 'eth0', undefined]), ['eth1', 'eth0', 'eth2']);
    assert.deepEqual(interfaceNames([undefined], ['eth0', 'eth1']), ['eth2']);
  });
});
