import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBerthError } from '../util/errors.js';
import { parseSubnet, subnetsOverlap } from './cidr.js';
import { freeIPv4Subnet, freeIPv6Subnet } from './subnet-pool.js';

describe('subnet pool', { timeout: 30_000 }, () => {
  test('IPv4: a random /24 of the pool when it is free, else the first free one in order', () => {
    assert.equal(
      freeIPv4Subnet([], () => 5),
      '10.89.5.0/24',
    );
    assert.equal(
      freeIPv4Subnet([], () => 42751),
      '10.255.255.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.5.0/24'], () => 5),
      '10.89.0.0/24',
    );
    const picked = parseSubnet(freeIPv4Subnet(['10.89.0.0/16']));
    assert.equal(picked.prefix, 24);
    assert.ok(!subnetsOverlap(picked, '10.89.0.0/16') && subnetsOverlap(picked, '10.0.0.0/8'), picked.text);
  });

  test('IPv4 in order (the fallback): 10.89.0.0/24 first, then the next /24 that overlaps nothing used', () => {
    assert.equal(
      freeIPv4Subnet([], () => 0),
      '10.89.0.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.88.0.0/16', '192.0.2.0/24'], () => 0),
      '10.89.0.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.0.0/24'], () => 0),
      '10.89.1.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.0.0/24', '10.89.1.0/24', '10.89.3.0/24'], () => 0),
      '10.89.2.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.0.0/16'], () => 0),
      '10.90.0.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.0.77/32'], () => 0),
      '10.89.1.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.0.77'], () => 0),
      '10.89.1.0/24',
    );
    assert.equal(
      freeIPv4Subnet(['10.89.0.0/23', 'fd00::/8', 'garbage'], () => 0),
      '10.89.2.0/24',
    );
  });

  test('IPv4: a used /8 exhausts the pool; only 10.255.255.0/24 left is found', () => {
    assert.throws(
      () => freeIPv4Subnet(['10.0.0.0/8']),
      (e) => isBerthError(e, 'USAGE') && /could not find a free subnet/.test(e.message),
    );
    const allButLast = [
      '10.89.0.0/16',
      '10.90.0.0/15',
      '10.92.0.0/14',
      '10.96.0.0/11',
      '10.128.0.0/10',
      '10.192.0.0/11',
      '10.224.0.0/12',
      '10.240.0.0/13',
      '10.248.0.0/14',
      '10.252.0.0/15',
      '10.254.0.0/16',
      '10.255.0.0/17',
      '10.255.128.0/18',
      '10.255.192.0/19',
      '10.255.224.0/20',
      '10.255.240.0/21',
      '10.255.248.0/22',
      '10.255.252.0/23',
      '10.255.254.0/24',
    ];
    assert.equal(freeIPv4Subnet(allButLast), '10.255.255.0/24');
    assert.throws(() => freeIPv4Subnet([...allButLast, '10.255.255.128/25']), { code: 'USAGE' });
  });

  test('IPv6: a random fd00::/8 /64, chosen again when it overlaps', () => {
    const s = parseSubnet(freeIPv6Subnet([]));
    assert.equal(s.prefix, 64);
    assert.ok(subnetsOverlap(s, 'fd00::/8'));
    assert.notEqual(freeIPv6Subnet([]), freeIPv6Subnet([]));
    // A fixed random source: the first draw is taken, the second is free.
    const draws = [
      [0x8e, 0xd1, 0x06, 0xc4, 0x75, 0xd3, 0x8b],
      [1, 2, 3, 4, 5, 6, 7],
    ];
    let i = 0;
    const random = () => Uint8Array.from(draws[Math.min(i++, 1)]!);
    assert.equal(freeIPv6Subnet(['fd8e:d106:c475:d38b::/64'], random), 'fd01:203:405:607::/64');
    assert.equal(i, 2);
  });

  test('IPv6: gives up with an error when nothing free is drawn', () => {
    assert.throws(
      () => freeIPv6Subnet(['fd00::/8']),
      (e) => isBerthError(e) && e.message === 'failed to get random ipv6 subnet',
    );
  });
});
