import { BerthError } from '../util/errors.js';
import type { Subnet } from './types.js';

/**
 * Subnet arithmetic for networks: addresses are BigInts (IPv6 needs 128 bits). Input is held to what Go's net.ParseIP/ParseCIDR take (podman's parsers):
 * dotted four-part decimal IPv4, IPv6 without a zone.
 */

export type Family = 4 | 6;

/** A subnet in its normal form: the network address (host bits cleared) and its prefix. */
export interface Cidr {
  /** The network address, e.g. `10.89.0.0`. */
  address: string;
  prefix: number;
  family: Family;
  /** `address/prefix`, as podman writes it. */
  text: string;
  /** The first (network) and last address as numbers. */
  first: bigint;
  last: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** Parses one IP address, or returns undefined. IPv4-mapped IPv6 becomes IPv4, as Go's To4 does. */
export function parseIp(text: string): { value: bigint; family: Family } | undefined {
  if (!text.includes(':')) {
    // Go refuses leading zeros (they once meant octal): 010.0.0.1 is not 10.0.0.1.
    const m = IPV4.exec(text);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    return { value: BigInt(((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!), family: 4 };
  }
  // No zone (Go's ParseIP takes none), nothing but what an address is written with.
  if (!IPV6_CHARS.test(text)) return undefined;
  const groups = ipv6Groups(text);
  if (!groups) return undefined;
  const value = groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n);
  return value >> 32n === 0xffffn ? { value: value & 0xffffffffn, family: 4 } : { value, family: 6 };
}

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/**
 * The eight 16-bit groups of an IPv6 address, or undefined: the URL parser (WHATWG's, in Node's
 * C++) checks it and writes it compressed (`::` for the longest zero run, an embedded IPv4 as two
 * groups), which is split here. ipaddr.js did this with patterns whose first use cost a start ~3 ms.
 */
function ipv6Groups(text: string): number[] | undefined {
  let host: string;
  try {
    host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = host.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(zeros).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
}

/** The canonical text of an address: dotted decimal, or RFC 5952 (what Go prints). */
export function formatIp(value: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  // The URL parser's serialisation is RFC 5952's: lower case, the first longest zero run (of two or more) as `::`.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** The canonical text of an address given as text (`fd00:0::1` → `fd00::1`), or undefined if it is none. */
export function normalizeIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip && formatIp(ip.value, ip.family);
}

/**
 * Parses `ADDRESS/PREFIX` into its normal form. Host bits are cleared without complaint, as podman
 * does (`--subnet 10.89.0.5/24` makes `10.89.0.0/24`); anything else gets podman's
 * `invalid CIDR address: TEXT`.
 */
export function parseSubnet(text: string): Cidr {
  const cidr = tryParseSubnet(text);
  if (!cidr) throw new BerthError('USAGE', `invalid CIDR address: ${text}`);
  return cidr;
}

/** parseSubnet, or undefined where it would throw. */
export function tryParseSubnet(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return undefined;
  // An IPv4-mapped address with an IPv6 prefix would need the prefix shifted; podman's users do not write these.
  if (ip.family === 4 && text.slice(0, slash).includes(':')) return undefined;
  const prefix = Number(prefixText);
  return makeCidr(ip.value, prefix, ip.family);
}

function makeCidr(value: bigint, prefix: number, family: Family): Cidr | undefined {
  const bits = BITS[family];
  if (prefix > bits) return undefined;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const first = value & ~hostMask;
  const address = formatIp(first, family);
  return { address, prefix, family, text: `${address}/${prefix}`, first, last: first | hostMask };
}

/** A subnet given as text or parsed. */
export type SubnetLike = Cidr | string;

function asCidr(s: SubnetLike): Cidr {
  return typeof s === 'string' ? parseSubnet(s) : s;
}

/** Whether two subnets share any address (subnets of different families never do). */
export function subnetsOverlap(a: SubnetLike, b: SubnetLike): boolean {
  const x = asCidr(a);
  const y = asCidr(b);
  return x.family === y.family && x.first <= y.last && y.first <= x.last;
}

/** Whether `ip` lies inside `subnet`; false for an address of the other family or no address at all. */
export function subnetContains(subnet: SubnetLike, ip: string): boolean {
  const s = asCidr(subnet);
  const a = parseIp(ip);
  return a !== undefined && a.family === s.family && a.value >= s.first && a.value <= s.last;
}

/** How many addresses the subnet holds. */
export function subnetSize(subnet: SubnetLike): bigint {
  const s = asCidr(subnet);
  return s.last - s.first + 1n;
}

/** The n-th address of the subnet (0 is the network address). */
export function addressAt(subnet: SubnetLike, n: bigint): string {
  const s = asCidr(subnet);
  if (n < 0n || s.first + n > s.last) {
    throw new BerthError('USAGE', `address ${n} is outside subnet ${s.text}`);
  }
  return formatIp(s.first + n, s.family);
}

/** The gateway podman gives a subnet that names none: its first host address. */
export function defaultGateway(subnet: SubnetLike): string {
  const s = asCidr(subnet);
  // A single-address subnet has no host part: podman keeps the address itself.
  return addressAt(s, s.first === s.last ? 0n : 1n);
}

/**
 * Whether `ip` may be given to a container: inside the subnet, not its network address, and, for
 * IPv4, not its broadcast address. (The gateway is the caller's to exclude: it is a host address.)
 */
export function isUsableHost(subnet: SubnetLike, ip: string): boolean {
  const s = asCidr(subnet);
  const a = parseIp(ip);
  if (!a || a.family !== s.family || a.value < s.first || a.value > s.last) return false;
  if (a.value === s.first) return false;
  return !(s.family === 4 && a.value === s.last);
}

/** What `network create --subnet/--gateway/--ip-range` gives for one subnet. */
export interface SubnetOptions {
  subnet?: string;
  gateway?: string;
  /** A CIDR inside the subnet, as podman 4 takes it. */
  ipRange?: string;
  /** Subnets already used on the host or by other networks: the new one may overlap none. */
  used?: string[];
}

/**
 * Checks the subnet flags of `network create` as podman does and returns the subnet entry for the
 * network file: the subnet normalised, the gateway (the first host when none is named), and the
 * lease range from `--ip-range` (its first host address through its last address). Errors are
 * podman's words, as one BerthError('USAGE').
 */
export function validateSubnetOptions(opts: SubnetOptions): Subnet {
  if (opts.subnet === undefined) {
    if (opts.gateway !== undefined || opts.ipRange !== undefined) {
      throw new BerthError('USAGE', 'cannot set gateway or range without subnet');
    }
    throw new BerthError('USAGE', 'subnet is required');
  }
  const subnet = parseSubnet(opts.subnet);
  for (const used of opts.used ?? []) {
    const u = tryParseSubnet(used);
    if (u && subnetsOverlap(subnet, u)) {
      throw new BerthError('USAGE', `subnet ${subnet.text} is already used on the host or by another config`);
    }
  }
  const out: Subnet = { subnet: subnet.text };
  if (opts.gateway !== undefined) {
    const gateway = normalizeIp(opts.gateway);
    if (gateway === undefined) {
      throw new BerthError('USAGE', `invalid argument "${opts.gateway}" for "--gateway" flag: invalid string being converted to IP address: ${opts.gateway}`);
    }
    if (!subnetContains(subnet, gateway)) throw new BerthError('USAGE', `gateway ${gateway} not in subnet ${subnet.text}`);
    out.gateway = gateway;
  } else {
    // Podman 4.3 gives an --internal network a gateway too.
    out.gateway = defaultGateway(subnet);
  }
  if (opts.ipRange !== undefined) {
    const range = parseSubnet(opts.ipRange);
    const start = defaultGateway(range);
    const end = formatIp(range.last, range.family);
    if (!subnetContains(subnet, start)) throw new BerthError('USAGE', `lease range start ip ${start} not in subnet ${subnet.text}`);
    if (!subnetContains(subnet, end)) throw new BerthError('USAGE', `lease range end ip ${end} not in subnet ${subnet.text}`);
    out.lease_range = { start_ip: start, end_ip: end };
  }
  return out;
}

/**
 * The `--ip-range` CIDR a lease range was made from (the inverse of validateSubnetOptions: the
 * range starts at the block's first host and ends at its last address), or undefined when the
 * range is no such block (a range written by hand in a network file).
 */
export function leaseRangeCidr(range: { start_ip?: string; end_ip?: string }): string | undefined {
  const start = range.start_ip === undefined ? undefined : parseIp(range.start_ip);
  const end = range.end_ip === undefined ? undefined : parseIp(range.end_ip);
  if (!start || !end || start.family !== end.family || end.value < start.value) return undefined;
  for (let prefix = BITS[start.family]; prefix >= 0; prefix--) {
    const block = parseSubnet(`${formatIp(end.value, end.family)}/${prefix}`);
    if (block.last !== end.value) continue;
    if (defaultGateway(block) === formatIp(start.value, start.family)) return block.text;
    if (block.first < start.value - 1n) return undefined;
  }
  return undefined;
}
