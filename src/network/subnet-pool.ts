import { randomBytes, randomInt } from '../util/crypto.js';
import { BerthError } from '../util/errors.js';
import { formatIp, parseSubnet, subnetsOverlap, tryParseSubnet, type Cidr } from './cidr.js';

/**
 * Picks the subnet of a network created without `--subnet`: IPv4 from podman 4's pool, the /24s
 * after the default network's 10.88.0.0/16; IPv6 a random unique local /64 (RFC 4193 asks
 * for random, not sequential, prefixes).
 */

const POOL_START = parseSubnet('10.89.0.0/24');
const POOL_END = parseSubnet('10.255.255.0/24');

/** How many random /24s berth tries before it takes the first free one in order. */
const RANDOM_TRIES = 64;

/**
 * A /24 from 10.89.0.0 through 10.255.255.0 that overlaps nothing in `used`: a random one (podman
 * takes the first free in order, but berth's stores cannot see each other's networks, and two
 * stores taking the same next /24 for two bridges would break both; with 42,752 to choose from they
 * rarely meet), else the first free in order. `random` is for tests: a /24's index in the pool.
 */
export function freeIPv4Subnet(used: string[], random: (n: number) => number = (n) => randomInt(n)): string {
  const taken = parsedFamily(used, 4);
  const size = Number(((POOL_END.first - POOL_START.first) >> 8n) + 1n);
  for (let i = 0; i < RANDOM_TRIES; i++) {
    const candidate = POOL_START.first + (BigInt(random(size)) << 8n);
    const last = candidate + 255n;
    if (!taken.some((u) => u.first <= last && candidate <= u.last)) return `${formatIp(candidate, 4)}/24`;
  }
  return firstFreeIPv4Subnet(taken);
}

function firstFreeIPv4Subnet(taken: Cidr[]): string {
  let candidate = POOL_START.first;
  while (candidate <= POOL_END.first) {
    const last = candidate + 255n;
    const clash = taken.find((u) => u.first <= last && candidate <= u.last);
    if (!clash) return `${formatIp(candidate, 4)}/24`;
    // Skip past the whole of what clashed (a /16 in use skips 256 candidates at once).
    candidate = ((clash.last >> 8n) + 1n) << 8n;
  }
  throw new BerthError('USAGE', `could not find a free subnet: ${POOL_START.text} through ${POOL_END.text} are all in use`);
}

/** How many random prefixes to try before giving up (podman's bound). */
const IPV6_TRIES = 10_000;

/** A random fd00::/8 /64 that overlaps nothing in `used`. `random` is for tests. */
export function freeIPv6Subnet(used: string[], random: (n: number) => Uint8Array = (n) => randomBytes(n)): string {
  const taken = parsedFamily(used, 6);
  for (let i = 0; i < IPV6_TRIES; i++) {
    let prefix = 0xfdn;
    for (const b of random(7)) prefix = (prefix << 8n) | BigInt(b);
    const cidr = parseSubnet(`${formatIp(prefix << 64n, 6)}/64`);
    if (!taken.some((u) => subnetsOverlap(u, cidr))) return cidr.text;
  }
  throw new BerthError('USAGE', 'failed to get random ipv6 subnet');
}

/** The entries of `used` of one family; a bare address counts as its single-address subnet. */
function parsedFamily(used: string[], family: 4 | 6): Cidr[] {
  return used
    .map((u) => tryParseSubnet(u.includes('/') ? u : `${u}/${u.includes(':') ? 128 : 32}`))
    .filter((c): c is Cidr => c !== undefined && c.family === family);
}
