import { readFile } from 'node:fs/promises';
import { endianness, networkInterfaces } from 'node:os';
import { errnoCode } from '../util/errors.js';
import { formatIp, tryParseSubnet } from './cidr.js';

/**
 * The subnets this host already uses, so that a new network never takes one: every route in the
 * main tables (another engine's bridge has one even when it is down, as cni-podman0 here) and every
 * interface address. Podman looks only at interface addresses; routes also catch a subnet reached
 * through a gateway (a VPN, a cloud's peered network). Default routes are left out, as they would
 * overlap everything.
 */

export interface HostSubnetSources {
  /** /proc/net/route */
  routeFile?: string;
  /** /proc/net/ipv6_route */
  ipv6RouteFile?: string;
  /** os.networkInterfaces */
  interfaces?: () => ReturnType<typeof networkInterfaces>;
}

export async function hostSubnets(sources: HostSubnetSources = {}): Promise<string[]> {
  const [v4, v6] = await Promise.all([readIfThere(sources.routeFile ?? '/proc/net/route'), readIfThere(sources.ipv6RouteFile ?? '/proc/net/ipv6_route')]);
  const all = [...parseIPv4Routes(v4), ...parseIPv6Routes(v6), ...interfaceSubnets((sources.interfaces ?? networkInterfaces)())];
  return [...new Set(all)];
}

async function readIfThere(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    // Not Linux, or /proc not mounted: interface addresses still count.
    if (errnoCode(e) === 'ENOENT') return '';
    throw e;
  }
}

/**
 * /proc/net/route: a header line, then `Iface Destination Gateway Flags RefCnt Use Metric Mask …`
 * with Destination and Mask as 32-bit hex in the host's byte order.
 */
export function parseIPv4Routes(text: string, byteOrder: 'LE' | 'BE' = endianness()): string[] {
  return parseIPv4RouteEntries(text, byteOrder).map((r) => r.subnet);
}

/** A route or an interface's own subnet, and the interface it goes through. */
export interface HostRoute {
  subnet: string;
  iface: string;
}

function parseIPv4RouteEntries(text: string, byteOrder: 'LE' | 'BE' = endianness()): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = hex32(f[1]!, byteOrder);
    const mask = hex32(f[7]!, byteOrder);
    if (dest === undefined || mask === undefined) continue;
    const prefix = prefixOfMask(mask);
    if (prefix === undefined || prefix === 0) continue;
    const cidr = tryParseSubnet(`${formatIp(dest, 4)}/${prefix}`);
    if (cidr) out.push({ subnet: cidr.text, iface: f[0]! });
  }
  return out;
}

function hex32(text: string, byteOrder: 'LE' | 'BE'): bigint | undefined {
  if (!/^[0-9a-fA-F]{8}$/.test(text)) return undefined;
  const bytes = text.match(/../g)!;
  if (byteOrder === 'LE') bytes.reverse();
  return BigInt(`0x${bytes.join('')}`);
}

/** The prefix length of a contiguous netmask, or undefined for a mask with holes. */
function prefixOfMask(mask: bigint): number | undefined {
  let prefix = 0;
  while (prefix < 32 && (mask & (1n << BigInt(31 - prefix))) !== 0n) prefix++;
  const expected = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(32 - prefix);
  return mask === expected ? prefix : undefined;
}

/**
 * /proc/net/ipv6_route: no header; `DEST DEST_PREFIXLEN SRC SRC_PREFIXLEN NEXTHOP METRIC REFCNT USE
 * FLAGS IFACE`, the address as 32 hex digits and the length in hex.
 */
export function parseIPv6Routes(text: string): string[] {
  return parseIPv6RouteEntries(text).map((r) => r.subnet);
}

function parseIPv6RouteEntries(text: string): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-fA-F]{32}$/.test(f[0]!) || !/^[0-9a-fA-F]{2}$/.test(f[1]!)) continue;
    const prefix = parseInt(f[1]!, 16);
    if (prefix === 0 || prefix > 128) continue;
    const cidr = tryParseSubnet(`${formatIp(BigInt(`0x${f[0]}`), 6)}/${prefix}`);
    if (cidr) out.push({ subnet: cidr.text, iface: f[9]! });
  }
  return out;
}

/**
 * Every route and interface subnet with the interface it belongs to: what tells a network's own
 * bridge from another one (another engine's, another berth store's) that took the same subnet.
 */
export async function hostRoutes(sources: HostSubnetSources = {}): Promise<HostRoute[]> {
  const [v4, v6] = await Promise.all([readIfThere(sources.routeFile ?? '/proc/net/route'), readIfThere(sources.ipv6RouteFile ?? '/proc/net/ipv6_route')]);
  const addresses = Object.entries((sources.interfaces ?? networkInterfaces)()).flatMap(([iface, addrs]) =>
    interfaceSubnets({ [iface]: addrs }).map((subnet) => ({ subnet, iface })),
  );
  return [...parseIPv4RouteEntries(v4), ...parseIPv6RouteEntries(v6), ...addresses];
}

/** The subnet of every interface address (what podman's GetLiveNetworkSubnets takes). */
export function interfaceSubnets(interfaces: ReturnType<typeof networkInterfaces>): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) {
      if (!a.cidr) continue;
      // A link-local address carries its zone in Node's cidr (fe80::1%eth0/64) on some versions.
      const cidr = tryParseSubnet(a.cidr.replace(/%[^/]*/, ''));
      if (cidr) out.push(cidr.text);
    }
  }
  return out;
}
