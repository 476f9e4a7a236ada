// Where the registry listens, and whether only this machine can reach it there. A host name is resolved
// once and the registry binds the address it resolved to, so that the address checked is the address bound
// (listening on the name would resolve it again, perhaps differently).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { BerthError } from '../util/errors.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 and IPv4-mapped ::ffff:127.x.y.z; not the wildcards 0.0.0.0 and ::, which take every interface. */
export function isLoopbackAddress(ip: string): boolean {
  const family = isIP(ip);
  // BlockList matches an IPv4-mapped IPv6 address against the IPv4 rules.
  return family !== 0 && LOOPBACK.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** Every address a host name resolves to, in the resolver's order. */
export type LookupAll = (host: string) => Promise<string[]>;

const systemLookup: LookupAll = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

export interface ListenAddress {
  /** The address to bind: the host itself when it is an IP address, else the first it resolves to (as node's listen would take). */
  address: string;
  /** Every address of the host is a loopback address: only this machine reaches it. */
  loopback: boolean;
}

export async function resolveListenAddress(host: string, lookupAll: LookupAll = systemLookup): Promise<ListenAddress> {
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await lookupAll(host);
    } catch (e) {
      throw new BerthError('USAGE', `cannot resolve the listen host "${host}": ${(e as Error).message}`, { cause: e });
    }
    if (addresses.length === 0) throw new BerthError('USAGE', `cannot resolve the listen host "${host}": no addresses`);
  }
  return { address: addresses[0]!, loopback: addresses.every(isLoopbackAddress) };
}
