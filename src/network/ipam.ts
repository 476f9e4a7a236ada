import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs, readdirIfExists } from '../util/dirs.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { DirLock } from '../util/lock.js';
import { formatIp, normalizeIp, parseIp, parseSubnet, type Cidr } from './cidr.js';
import type { Network, Subnet } from './types.js';

/**
 * Host-local IPAM, as podman 4 does it for netavark: each container on a network gets one address
 * per subnet, the next free one after the last handed out (wrapping to the start), inside the lease
 * range when there is one, never the network address, the gateway or the IPv4 broadcast address.
 *
 * State is one small JSON file per network (`<dir>/<network id>.json`), read, changed and rewritten
 * whole (temp file and rename) under one lock for the directory, so that concurrent berth
 * processes never hand out an address twice and a crash leaves the old file or the new one.
 */

/** One network's leases file. */
interface LeaseFile {
  /** Per subnet (its CIDR): the address last handed out by search; the next search starts after it. */
  last: Record<string, string>;
  /** Container ID → its addresses on this network, one per subnet, in the network's subnet order. */
  containers: Record<string, string[]>;
}

/**
 * Leases addresses on `network` for a container: one per subnet. `requested` are static addresses
 * (`--ip`, `--ip6`), each inside one of the subnets and free. A container that holds leases already
 * gets them back (`requested` is then not looked at: a restart must keep its addresses). A network whose IPAM is not host-local, or that has no subnets, gets none.
 */
export async function allocate(dir: string, network: Network, containerId: string, requested: string[] = []): Promise<string[]> {
  checkId('network ID', network.id);
  checkId('container ID', containerId);
  if (!usesHostLocalIpam(network)) return [];
  const subnets = network.subnets.map((s) => ({ def: s, cidr: parseSubnet(s.subnet) }));
  const statics = assignStatics(network, subnets, requested);
  return withLock(dir, async () => {
    const file = await readLeases(dir, network.id);
    const held = file.containers[containerId];
    if (held) return held;
    const owners = ownersOf(file);
    const chosen: string[] = [];
    for (const [i, { def, cidr }] of subnets.entries()) {
      const wanted = statics[i];
      if (wanted !== undefined) {
        checkStatic(cidr, def, wanted, owners);
        chosen.push(wanted);
      } else {
        const ip = pickFree(cidr, def, owners, file.last[cidr.text]);
        file.last[cidr.text] = ip;
        chosen.push(ip);
      }
    }
    file.containers[containerId] = chosen;
    await writeLeases(dir, network.id, file);
    return chosen;
  });
}

/** Gives back a container's addresses on one network; nothing to give back is fine. Returns them. */
export async function release(dir: string, networkId: string, containerId: string): Promise<string[]> {
  checkId('network ID', networkId);
  return withLock(dir, async () => releaseIn(dir, networkId, containerId));
}

/** Gives back a container's addresses on every network (cleanup after rm); returns the network IDs it had leases on. */
export async function releaseAll(dir: string, containerId: string): Promise<string[]> {
  return withLock(dir, async () => {
    const released: string[] = [];
    for (const id of await networkIds(dir)) {
      if ((await releaseIn(dir, id, containerId)).length > 0) released.push(id);
    }
    return released;
  });
}

/** Container ID → its addresses on the network. */
export async function leases(dir: string, networkId: string): Promise<Record<string, string[]>> {
  checkId('network ID', networkId);
  return (await readLeases(dir, networkId)).containers;
}

/** Forgets a removed network's leases. */
export async function removeNetworkLeases(dir: string, networkId: string): Promise<void> {
  checkId('network ID', networkId);
  await withLock(dir, () => rm(leaseFile(dir, networkId), { force: true }));
}

/** Whether berth hands out this network's addresses (podman's requiresIPAMAlloc). */
export function usesHostLocalIpam(network: Network): boolean {
  const driver = network.ipam_options?.driver ?? 'host-local';
  return driver === 'host-local' && network.subnets.length > 0;
}

async function releaseIn(dir: string, networkId: string, containerId: string): Promise<string[]> {
  const file = await readLeases(dir, networkId);
  const held = file.containers[containerId];
  if (!held) return [];
  delete file.containers[containerId];
  await writeLeases(dir, networkId, file);
  return held;
}

/** Matches each requested address to the subnet it lies in: index of subnet → address. */
function assignStatics(network: Network, subnets: { cidr: Cidr }[], requested: string[]): (string | undefined)[] {
  const out: (string | undefined)[] = subnets.map(() => undefined);
  for (const text of requested) {
    const ip = parseIp(text);
    if (!ip) throw new BerthError('USAGE', `invalid IP address: ${text}`);
    const i = subnets.findIndex(({ cidr }) => cidr.family === ip.family && ip.value >= cidr.first && ip.value <= cidr.last);
    const canonical = formatIp(ip.value, ip.family);
    if (i < 0) throw new BerthError('USAGE', `requested static ip ${canonical} not in any subnet on network ${network.name}`);
    if (out[i] !== undefined) {
      throw new BerthError('USAGE', `requested static ips ${out[i]} and ${canonical} are both in subnet ${subnets[i]!.cidr.text} on network ${network.name}`);
    }
    out[i] = canonical;
  }
  return out;
}

function checkStatic(cidr: Cidr, def: Subnet, ip: string, owners: Map<string, string>): void {
  const value = parseIp(ip)!.value;
  if (value === cidr.first || (cidr.family === 4 && value === cidr.last && cidr.first !== cidr.last)) {
    throw new BerthError('USAGE', `IPAM error: requested ip address ${ip} is not a host address of subnet ${cidr.text}`);
  }
  if (def.gateway !== undefined && normalizeIp(def.gateway) === ip) {
    throw new BerthError('USAGE', `IPAM error: requested ip address ${ip} is the gateway of subnet ${cidr.text}`);
  }
  const owner = owners.get(ip);
  if (owner !== undefined) {
    throw new BerthError('USAGE', `IPAM error: requested ip address ${ip} is already allocated to container ID ${owner}`);
  }
}

/**
 * The next free address after `last` (or from the start of the range), wrapping once around the
 * range. The range is the lease range, or the subnet's host addresses, and is kept inside the host
 * addresses either way.
 */
function pickFree(cidr: Cidr, def: Subnet, owners: Map<string, string>, last: string | undefined): string {
  const lowest = cidr.first + 1n;
  const highest = cidr.family === 4 ? cidr.last - 1n : cidr.last;
  const rangeStart = maxBig(lowest, boundOf(def.lease_range?.start_ip, cidr) ?? lowest);
  const rangeEnd = minBig(highest, boundOf(def.lease_range?.end_ip, cidr) ?? highest);
  const exhausted = (): BerthError =>
    new BerthError('USAGE', `IPAM error: failed to find free IP in range: ${formatIp(rangeStart, cidr.family)} - ${formatIp(rangeEnd, cidr.family)}`);
  if (rangeStart > rangeEnd) throw exhausted();
  const gateway = def.gateway !== undefined ? parseIp(def.gateway)?.value : undefined;
  const previous = last !== undefined ? parseIp(last)?.value : undefined;
  const from = previous !== undefined && previous >= rangeStart && previous < rangeEnd ? previous + 1n : rangeStart;
  const size = rangeEnd - rangeStart + 1n;
  // Each step either returns or passes a taken address or the gateway, so this ends within
  // owners.size + 2 steps however large the range.
  for (let step = 0n; step < size; step++) {
    let value = from + step;
    if (value > rangeEnd) value -= size;
    if (value === gateway) continue;
    const ip = formatIp(value, cidr.family);
    if (!owners.has(ip)) return ip;
  }
  throw exhausted();
}

/** A lease range bound as a number, if it is an address of this subnet's family. */
function boundOf(text: string | undefined, cidr: Cidr): bigint | undefined {
  if (text === undefined) return undefined;
  const ip = parseIp(text);
  return ip && ip.family === cidr.family ? ip.value : undefined;
}

const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const minBig = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Address → the container holding it. */
function ownersOf(file: LeaseFile): Map<string, string> {
  const owners = new Map<string, string>();
  for (const [id, ips] of Object.entries(file.containers)) for (const ip of ips) owners.set(ip, id);
  return owners;
}

/** IDs name files: they must not be able to point anywhere else. */
function checkId(what: string, id: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id)) throw new BerthError('USAGE', `invalid ${what}: ${JSON.stringify(id)}`);
}

function leaseFile(dir: string, networkId: string): string {
  return join(dir, `${networkId}.json`);
}

async function networkIds(dir: string): Promise<string[]> {
  const names = await readdirIfExists(dir);
  return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -'.json'.length));
}

async function readLeases(dir: string, networkId: string): Promise<LeaseFile> {
  const path = leaseFile(dir, networkId);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return { last: {}, containers: {} };
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LeaseFile>;
    return { last: parsed.last ?? {}, containers: parsed.containers ?? {} };
  } catch (e) {
    throw new BerthError('IO', `IPAM leases ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

async function writeLeases(dir: string, networkId: string, file: LeaseFile): Promise<void> {
  await writeFileAtomic(leaseFile(dir, networkId), `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * One lock per directory, shared by every call in this process: DirLock's own queue then orders
 * them, where separate instances would each poll the lock directory.
 */
const locks = new Map<string, { lock: DirLock; swept: Promise<void> }>();

async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await makeDirs(dir);
  const path = join(resolve(dir), 'ipam.lock');
  let entry = locks.get(path);
  if (!entry) {
    const lock = new DirLock(path);
    // What a process killed mid-take left beside the lock; once per process is enough.
    // Best effort: a leftover it cannot remove does not stop the lock from working.
    entry = { lock, swept: lock.sweepLeftovers().catch(() => undefined) };
    locks.set(path, entry);
  }
  await entry.swept;
  return entry.lock.with(fn);
}
