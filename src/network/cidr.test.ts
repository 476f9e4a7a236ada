import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
import { describe, test } from 'node:test';
import { isBerthError } from '../util/errors.js';
import {
  addressAt,
  defaultGateway,
  isUsableHost,
  leaseRangeCidr,
  normalizeIp,
  parseSubnet,
  subnetContains,
  subnetSize,
  subnetsOverlap,
  validateSubnetOptions,
} from './cidr.js';

const usage = (message: string) => (e: unknown) => isBerthError(e, 'USAGE') && e.message === message;

describe('parseSubnet', { timeout: 10_000 }, () => {
  test('clears host bits without complaint, as podman does (10.199.0.5/24 is 10.199.0.0/24)', () => {
    const s = parseSubnet('10.199.0.5/24');
    assert.deepEqual(
      { address: s.address, prefix: s.prefix, family: s.family, text: s.text },
      { address: '10.199.0.0', prefix: 24, family: 4, text: '10.199.0.0/24' },
    );
    assert.equal(s.first, 0x0ac70000n);
    assert.equal(s.last, 0x0ac700ffn);
  });

  test('IPv6 is written as RFC 5952, host bits cleared', () => {
    assert.equal(parseSubnet('FD99:0:0::5/64').text, 'fd99::/64');
    assert.equal(parseSubnet('fd8e:d106:c475:d38b:1:2:3:4/64').text, 'fd8e:d106:c475:d38b::/64');
    assert.equal(parseSubnet('fd8e:d106:c475:d38b::/64').family, 6);
    assert.equal(parseSubnet('0.0.0.0/0').text, '0.0.0.0/0');
    assert.equal(parseSubnet('10.1.2.3/32').text, '10.1.2.3/32');
  });

  test('what Go\'s ParseCIDR refuses gets podman\'s "invalid CIDR address"', () => {
    for (const bad of [
      '10.199.9.0',
      '10.199.9.0/33',
      'fd00::/129',
      '10.0.0.0/',
      '10.0.0.0/+8',
      '10.0.0.0/8/8',
      '1.2.3/24',
      '010.0.0.0/8',
      '0x0a.0.0.0/8',
      'x/8',
      '',
      'fe80::1%eth0/64',
      '10.199.13.10-10.199.13.20',
      ' 10.0.0.0/8',
    ]) {
      assert.throws(() => parseSubnet(bad), usage(`invalid CIDR address: ${bad}`), bad);
    }
  });
});

describe('subnet arithmetic', { timeout: 10_000 }, () => {
  test('subnetsOverlap: containment either way, never across families, adjacent ones do not', () => {
    assert.equal(subnetsOverlap('10.88.0.0/16', '10.88.5.0/24'), true);
    assert.equal(subnetsOverlap('10.88.5.0/24', '10.88.0.0/16'), true);
    assert.equal(subnetsOverlap('10.89.0.0/24', '10.89.1.0/24'), false);
    assert.equal(subnetsOverlap('10.89.0.0/24', '10.89.0.255/32'), true);
    assert.equal(subnetsOverlap('0.0.0.0/0', '192.0.2.0/24'), true);
    assert.equal(subnetsOverlap('10.0.0.0/8', 'fd00::/8'), false);
    assert.equal(subnetsOverlap('fd00::/8', 'fd8e:d106:c475:d38b::/64'), true);
    assert.equal(subnetsOverlap(parseSubnet('fd00::/64'), parseSubnet('fd00:0:0:1::/64')), false);
  });

  test('subnetContains: both ends inside, neighbours and the other family outside, garbage false', () => {
    assert.equal(subnetContains('10.89.0.0/24', '10.89.0.0'), true);
    assert.equal(subnetContains('10.89.0.0/24', '10.89.0.255'), true);
    assert.equal(subnetContains('10.89.0.0/24', '10.89.1.0'), false);
    assert.equal(subnetContains('10.89.0.0/24', '10.88.255.255'), false);
    assert.equal(subnetContains('10.89.0.0/24', 'fd00::1'), false);
    assert.equal(subnetContains('10.89.0.0/24', '::ffff:10.89.0.7'), true);
    assert.equal(subnetContains('10.89.0.0/24', 'nonsense'), false);
    assert.equal(subnetContains('fd00::/64', 'fd00::ffff:ffff:ffff:ffff'), true);
    assert.equal(subnetContains('fd00::/64', 'fd00:0:0:1::'), false);
  });

  test('addressAt counts from the network address, in BigInt, and refuses to leave the subnet', () => {
    assert.equal(addressAt('10.89.0.0/24', 0n), '10.89.0.0');
    assert.equal(addressAt('10.89.0.0/24', 1n), '10.89.0.1');
    assert.equal(addressAt('10.89.0.0/24', 255n), '10.89.0.255');
    assert.equal(addressAt('10.88.0.0/16', 256n), '10.88.1.0');
    assert.throws(() => addressAt('10.89.0.0/24', 256n), { code: 'USAGE' });
    assert.throws(() => addressAt('10.89.0.0/24', -1n), { code: 'USAGE' });
    assert.equal(addressAt('fd00::/64', (1n << 64n) - 1n), 'fd00::ffff:ffff:ffff:ffff');
    assert.equal(addressAt('fd00::/64', 0x10000n), 'fd00::1:0');
    assert.equal(subnetSize('fd00::/64'), 1n << 64n);
    assert.equal(subnetSize('10.89.0.0/30'), 4n);
  });

  test('defaultGateway is the first host address', () => {
    assert.equal(defaultGateway('10.89.0.0/24'), '10.89.0.1');
    assert.equal(defaultGateway('10.88.0.0/16'), '10.88.0.1');
    assert.equal(defaultGateway('fd8e:d106:c475:d38b::/64'), 'fd8e:d106:c475:d38b::1');
    assert.equal(defaultGateway('10.1.2.3/32'), '10.1.2.3');
  });

  test('isUsableHost: not the network address, not the IPv4 broadcast; the last IPv6 address is a host', () => {
    assert.equal(isUsableHost('10.89.0.0/24', '10.89.0.0'), false);
    assert.equal(isUsableHost('10.89.0.0/24', '10.89.0.255'), false);
    assert.equal(isUsableHost('10.89.0.0/24', '10.89.0.1'), true);
    assert.equal(isUsableHost('10.89.0.0/24', '10.89.0.254'), true);
    assert.equal(isUsableHost('10.89.0.0/24', '10.89.1.1'), false);
    assert.equal(isUsableHost('fd00::/64', 'fd00::'), false);
    assert.equal(isUsableHost('fd00::/64', 'fd00::ffff:ffff:ffff:ffff'), true);
    assert.equal(isUsableHost('fd00::/64', '10.0.0.1'), false);
  });

  test('parseIp and formatIp agree with ipaddr.js (the parser they replaced) on addresses of every shape', () => {
    // A fixed sequence (a linear congruential generator), so that every run checks the same addresses.
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const hex = (n: number) => Math.floor(random() * 16 ** n).toString(16);
    const samples = [
      '::',
      '::1',
      '1::',
      'fd00::1',
      'FD00:0:0:0:0:0:0:1',
      '2001:db8:0:0:1:0:0:1',
      '2001:db8::1:0:0:1',
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      '64:ff9b::1.2.3.4',
      'fe80::1:2',
    ];
    // And what neither takes.
    samples.push(
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':1',
      '1:',
      '12345::',
      'g::1',
      '::1.2.3',
      '::1.2.3.256',
      '1.2.3.4.5',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '1:2',
      '[::1]',
      '::1/64',
      'fe80::1%eth0',
      '1.2.3',
      '',
    );
    for (let i = 0; i < 300; i++) {
      const groups = Array.from({ length: 8 }, () => (random() < 0.4 ? '0' : hex(1 + Math.floor(random() * 4))));
      samples.push(groups.join(':'));
      samples.push(`${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`);
    }
    const reference = (text: string): string | undefined => {
      if (ipaddr.IPv4.isValidFourPartDecimal(text))
        return text.split('.').some((o) => o.length > 1 && o.startsWith('0')) ? undefined : ipaddr.IPv4.parse(text).toString();
      if (text.includes('%') || !text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined;
      const v6 = ipaddr.IPv6.parse(text);
      return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String();
    };
    for (const s of samples) assert.equal(normalizeIp(s), reference(s), s);
  });

  test('normalizeIp writes addresses as Go does and refuses what Go refuses', () => {
    assert.equal(normalizeIp('FD00:0000::0001'), 'fd00::1');
    assert.equal(normalizeIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(normalizeIp('10.0.0.1'), '10.0.0.1');
    for (const bad of ['10.1', '010.0.0.1', '10.0.0.256', 'xx', '', 'fe80::1%eth0', '10.0.0.1/24']) assert.equal(normalizeIp(bad), undefined, bad);
  });
});

describe("validateSubnetOptions (podman 4.3's network create --subnet/--gateway/--ip-range)", { timeout: 10_000 }, () => {
  test('a subnet alone: normalised, gateway its first host', () => {
    assert.deepEqual(validateSubnetOptions({ subnet: '10.199.0.5/24' }), { subnet: '10.199.0.0/24', gateway: '10.199.0.1' });
    assert.deepEqual(validateSubnetOptions({ subnet: 'fd99::5/64' }), { subnet: 'fd99::/64', gateway: 'fd99::1' });
  });

  test('a named gateway inside the subnet is kept (podman takes any address of it)', () => {
    assert.deepEqual(validateSubnetOptions({ subnet: '10.199.32.0/24', gateway: '10.199.32.7' }), { subnet: '10.199.32.0/24', gateway: '10.199.32.7' });
  });

  test('--ip-range becomes a lease range from its first host to its last address', () => {
    assert.deepEqual(validateSubnetOptions({ subnet: '10.199.1.0/24', ipRange: '10.199.1.128/25' }), {
      subnet: '10.199.1.0/24',
      gateway: '10.199.1.1',
      lease_range: { start_ip: '10.199.1.129', end_ip: '10.199.1.255' },
    });
    assert.deepEqual(validateSubnetOptions({ subnet: 'fd77::/64', ipRange: 'fd77::8000:0/97' }).lease_range, {
      start_ip: 'fd77::8000:1',
      end_ip: 'fd77::ffff:ffff',
    });
  });

  test("errors in podman's words", () => {
    const cases: [Parameters<typeof validateSubnetOptions>[0], string][] = [
      [{ subnet: '10.199.1.0/24', gateway: '10.199.2.1' }, 'gateway 10.199.2.1 not in subnet 10.199.1.0/24'],
      [{ subnet: '10.199.33.0/24', gateway: 'fd77::1' }, 'gateway fd77::1 not in subnet 10.199.33.0/24'],
      [{ subnet: '10.199.12.0/24', gateway: 'xx' }, 'invalid argument "xx" for "--gateway" flag: invalid string being converted to IP address: xx'],
      [{ subnet: '10.199.1.0/24', ipRange: '10.199.2.0/25' }, 'lease range start ip 10.199.2.1 not in subnet 10.199.1.0/24'],
      [{ subnet: '10.199.30.0/25', ipRange: '10.199.30.0/24' }, 'lease range end ip 10.199.30.255 not in subnet 10.199.30.0/25'],
      [{ subnet: '10.199.12.0/24', ipRange: '10.199.12.0' }, 'invalid CIDR address: 10.199.12.0'],
      [{ subnet: '10.199.13.0/24', ipRange: '10.199.13.10-10.199.13.20' }, 'invalid CIDR address: 10.199.13.10-10.199.13.20'],
      [{ subnet: '10.199.9.0/33' }, 'invalid CIDR address: 10.199.9.0/33'],
      [{ gateway: '10.199.9.1' }, 'cannot set gateway or range without subnet'],
      [{ subnet: '10.88.5.0/24', used: ['192.0.2.0/24', '10.88.0.0/16'] }, 'subnet 10.88.5.0/24 is already used on the host or by another config'],
      [{ subnet: '10.199.1.9/24', used: ['10.199.1.0/24'] }, 'subnet 10.199.1.0/24 is already used on the host or by another config'],
    ];
    for (const [opts, message] of cases) assert.throws(() => validateSubnetOptions(opts), usage(message), JSON.stringify(opts));
  });

  test('a used subnet of the other family, or a neighbour, does not conflict', () => {
    assert.equal(validateSubnetOptions({ subnet: '10.89.1.0/24', used: ['10.89.0.0/24', '10.89.2.0/24', 'fd00::/8'] }).subnet, '10.89.1.0/24');
  });
});

describe('leaseRangeCidr (the --ip-range a lease range came from)', { timeout: 10_000 }, () => {
  test('is the inverse of validateSubnetOptions for IPv4 and IPv6 blocks of any size', () => {
    for (const [subnet, ipRange] of [
      ['10.89.3.0/24', '10.89.3.128/25'],
      ['10.89.3.0/24', '10.89.3.0/24'],
      ['10.89.3.0/24', '10.89.3.7/32'],
      ['10.89.0.0/16', '10.89.64.0/18'],
      ['fd00:1::/64', 'fd00:1::/96'],
    ] as const) {
      const range = validateSubnetOptions({ subnet, ipRange }).lease_range!;
      assert.equal(leaseRangeCidr(range), ipRange, JSON.stringify(range));
    }
  });

  test('a range that is no block, or half given, has none', () => {
    assert.equal(leaseRangeCidr({ start_ip: '10.89.3.10', end_ip: '10.89.3.20' }), undefined);
    assert.equal(leaseRangeCidr({ start_ip: '10.89.3.129' }), undefined);
    assert.equal(leaseRangeCidr({ start_ip: '10.89.3.129', end_ip: 'fd00::1' }), undefined);
  });
});
