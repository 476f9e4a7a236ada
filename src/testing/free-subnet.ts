import { randomInt } from 'node:crypto';
import { subnetsOverlap } from '../network/cidr.js';
import { hostSubnets } from '../network/host-subnets.js';

/**
 * A /24 in 10.200-249.x.0 that nothing on the host routes or has an address in, for a test's own
 * network or LAN. Picked at random so that tests running at once rarely meet; a test that makes
 * several passes the same `taken` list each time, which gets the new subnet, so no two overlap.
 */
export async function freeSubnet(taken: string[] = []): Promise<string> {
  const used = [...(await hostSubnets()), ...taken];
  for (;;) {
    const candidate = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.0/24`;
    if (!used.some((u) => subnetsOverlap(u, candidate))) {
      taken.push(candidate);
      return candidate;
    }
  }
}
