import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { hostSubnets, interfaceSubnets, parseIPv4Routes, parseIPv6Routes } from './host-subnets.js';

/** /proc/net/route of a host with a default route, podman's cni-podman0 bridge and a route through a gateway. */
const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
cni-podman0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
eth0\t000010AC\t010200C0\t0003\t0\t0\t0\t0000F0FF\t0\t0\t0
tun0\t0501A8C0\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0
eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0
`;

const IPV6_ROUTE = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000003 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000004 00000000 80200001       lo
fd8ed106c475d38b0000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001  podman1
`;

describe('host subnets', { timeout: 10_000 }, () => {
  test('/proc/net/route: every route but the default, little-endian hex decoded; a mask with holes is skipped', () => {
    assert.deepEqual(parseIPv4Routes(ROUTE, 'LE'), ['10.88.0.0/16', '192.0.2.0/24', '172.16.0.0/12', '192.168.1.5/32']);
  });

  test('/proc/net/route on a big-endian host', () => {
    const be = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nbr0\t0A590000\t00000000\t0001\t0\t0\t0\tFFFFFF00\t0\t0\t0\n';
    assert.deepEqual(parseIPv4Routes(be, 'BE'), ['10.89.0.0/24']);
  });

  test('/proc/net/ipv6_route: prefix length in hex, default route left out', () => {
    assert.deepEqual(parseIPv6Routes(IPV6_ROUTE), ['fd00::/64', 'fe80::/64', '::1/128', 'fd8e:d106:c475:d38b::/64']);
  });

  test('garbage lines and empty files give nothing', () => {
    assert.deepEqual(parseIPv4Routes(''), []);
    assert.deepEqual(parseIPv4Routes('header\nnot a route\n'), []);
    assert.deepEqual(parseIPv6Routes('zz 40\n'), []);
  });

  test('interface addresses count as their subnets', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: '127.0.0.1/8' }],
      br9: [
        { address: '10.99.3.1', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: '10.99.3.1/24' },
        { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '', internal: false, cidr: 'fe80::1%br9/64', scopeid: 3 },
        { address: 'x', netmask: '', family: 'IPv4', mac: '', internal: false, cidr: null },
      ],
    } as unknown as Parameters<typeof interfaceSubnets>[0];
    assert.deepEqual(interfaceSubnets(ifaces), ['127.0.0.0/8', '10.99.3.0/24', 'fe80::/64']);
  });

  test('hostSubnets reads the injected files and interfaces, without duplicates; missing files are fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-host-subnets-'));
    try {
      writeFileSync(join(dir, 'route'), ROUTE);
      writeFileSync(join(dir, 'ipv6_route'), IPV6_ROUTE);
      const got = await hostSubnets({
        routeFile: join(dir, 'route'),
        ipv6RouteFile: join(dir, 'ipv6_route'),
        interfaces: () => ({
          eth0: [{ address: '192.0.2.2', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: '192.0.2.2/24' }],
        }),
      });
      assert.ok(got.includes('10.88.0.0/16'));
      assert.ok(got.includes('fd8e:d106:c475:d38b::/64'));
      assert.equal(got.filter((s) => s === '192.0.2.0/24').length, 1);
      assert.ok(!got.some((s) => s.endsWith('/0')));
      const none = await hostSubnets({ routeFile: join(dir, 'nope'), ipv6RouteFile: join(dir, 'nope6'), interfaces: () => ({}) });
      assert.deepEqual(none, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("on this host: every interface address's subnet is among them, and no default route", async () => {
    const got = await hostSubnets();
    assert.ok(got.includes('127.0.0.0/8'));
    assert.ok(!got.includes('0.0.0.0/0') && !got.includes('::/0'));
  });
});
