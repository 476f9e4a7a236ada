import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { subnetsOverlap } from '../network/cidr.js';
import { hostSubnets } from '../network/host-subnets.js';
import { freeSubnet } from './free-subnet.js';

describe('freeSubnet', { timeout: 10_000 }, () => {
  test('a /24 in 10.200-249 that no host subnet overlaps', async () => {
    const subnet = await freeSubnet();
    assert.match(subnet, /^10\.(2[0-4]\d)\.\d{1,3}\.0\/24$/);
    for (const used of await hostSubnets()) assert.ok(!subnetsOverlap(used, subnet), `${subnet} overlaps ${used}`);
  });

  test('each subnet picked with one taken list is added to it, and never overlaps the others', async () => {
    const taken: string[] = [];
    for (let i = 0; i < 50; i++) await freeSubnet(taken);
    assert.equal(taken.length, 50);
    for (const [i, a] of taken.entries()) for (const b of taken.slice(i + 1)) assert.ok(!subnetsOverlap(a, b), `${a} and ${b} overlap`);
  });
});
