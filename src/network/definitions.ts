import { randomBytes } from '../util/crypto.js';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDirs, readdirIfExists } from '../util/dirs.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { DirLock } from '../util/lock.js';
import { goTimestamp } from '../oci/time.js';
import { defaultGateway, subnetsOverlap, validateSubnetOptions } from './cidr.js';
import { freeIPv4Subnet, freeIPv6Subnet } from './subnet-pool.js';
import { hostSubnets } from './host-subnets.js';
import { ROOTLESS_NETNS_SUBNET } from './rootless-netns.js';
import { isRootless } from '../util/rootless.js';
import type { Network, Subnet } from './types.js';
import { compareStrings } from '../util/compare.js';

/**
 * Network definitions: one JSON file per network in podman's format under `<root>/networks/`,
 * each written whole and renamed into place under the networks lock, so a definition is either
 * there complete or not at all.
 */

/** podman's default network: its name and, when the host does not route it already, its subnet. */
export const DEFAULT_NETWORK = 'podman';
const DEFAULT_SUBNET = '10.88.0.0/16';
/**
 * berth's bridge for a network is named after the network's ID (`berth` and 10 hex digits, as
 * docker's `br-` and 12): never podman's podman0… nor docker's, and never another berth store's,
 * whose networks this store cannot see.
 */
const bridgeName = (id: string) => `berth${id.slice(0, 10)}`;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The kernel's IFNAMSIZ less the terminating NUL. */
const IFNAME_MAX = 15;

export interface CreateNetworkOptions {
  name?: string;
  driver?: string;
  interfaceName?: string;
  subnets?: string[];
  gateways?: string[];
  ipRanges?: string[];
  ipv6?: boolean;
  internal?: boolean;
  disableDns?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** `--ignore`: an existing network of that name is returned instead of an error. */
  ignoreExisting?: boolean;
}

/** Every network interface on the host (up or down, with or without an address). */
async function hostInterfaces(): Promise<string[]> {
  return readdir('/sys/class/net').catch(() => []);
}

/**
 * The subnets a new network must not take: the host's (podman checks them rootless too, as a
 * container could no longer reach that part of the host's network), and rootless also
 * slirp4netns's own inside the rootless netns, where the bridges live.
 */
async function subnetsInUse(): Promise<string[]> {
  return [...(await hostSubnets()), ...(isRootless() ? [ROOTLESS_NETNS_SUBNET] : [])];
}

export class NetworkDefinitions {
  readonly dir: string;
  private readonly lock: DirLock;
  constructor(root: string) {
    this.dir = join(root, 'networks');
    this.lock = new DirLock(join(root, 'networks.lock'));
  }

  async list(): Promise<Network[]> {
    const names = await readdirIfExists(this.dir);
    const found = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.read(join(this.dir, n))));
    return found.filter((n): n is Network => n !== undefined).sort((a, b) => compareStrings(a.name, b.name));
  }

  private async read(path: string): Promise<Network | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as Network;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw new BerthError('IO', `reading network definition ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** By name, full ID, or a prefix of exactly one ID (podman's lookup). */
  async find(nameOrId: string): Promise<Network | undefined> {
    const all = await this.list();
    const exact = all.find((n) => n.name === nameOrId || n.id === nameOrId);
    if (exact || nameOrId === '') return exact;
    const byPrefix = all.filter((n) => n.id.startsWith(nameOrId));
    if (byPrefix.length > 1) throw new BerthError('NETWORK_UNKNOWN', `more than one network matches "${nameOrId}": use the full ID`);
    return byPrefix[0];
  }

  async get(nameOrId: string): Promise<Network> {
    const found = await this.find(nameOrId);
    if (found) return found;
    if (nameOrId === DEFAULT_NETWORK) return this.ensureDefault();
    throw new BerthError('NETWORK_UNKNOWN', `unable to find network with name or ID ${nameOrId}: network not found`);
  }

  /** The default network, made on first use: 10.88.0.0/16 unless the host routes it already (another engine's bridge). */
  async ensureDefault(): Promise<Network> {
    const existing = await this.find(DEFAULT_NETWORK);
    if (existing) return existing;
    return this.lock.with(async () => {
      const again = await this.read(this.file(DEFAULT_NETWORK));
      if (again) return again;
      const all = await this.list();
      const used = [...(await subnetsInUse()), ...all.flatMap((n) => n.subnets.map((s) => s.subnet))];
      const subnet = used.some((u) => subnetsOverlap(u, DEFAULT_SUBNET)) ? freeIPv4Subnet(used) : DEFAULT_SUBNET;
      const id = randomBytes(32).toString('hex');
      const network: Network = {
        name: DEFAULT_NETWORK,
        id,
        driver: 'bridge',
        network_interface: bridgeName(id),
        created: goTimestamp(new Date()),
        subnets: [{ subnet, gateway: defaultGateway(subnet) }],
        ipv6_enabled: false,
        internal: false,
        // As podman's: containers on the default network do not find each other by name.
        dns_enabled: false,
        ipam_options: { driver: 'host-local' },
      };
      await this.write(network);
      return network;
    });
  }

  async create(opts: CreateNetworkOptions): Promise<Network> {
    const driver = opts.driver ?? 'bridge';
    if (driver !== 'bridge' && driver !== 'macvlan') throw new BerthError('USAGE', `unsupported driver ${driver}: invalid argument`);
    if (opts.name !== undefined && !NAME.test(opts.name)) {
      throw new BerthError('USAGE', `network name ${opts.name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`);
    }
    if (opts.name === 'none' || opts.name === 'host' || opts.name === 'bridge' || opts.name === 'private' || opts.name === 'slirp4netns') {
      throw new BerthError('USAGE', `cannot create network with name "${opts.name}" because it conflicts with a valid network mode`);
    }
    const options = checkDriverOptions(driver, opts.options ?? {});
    // Each --subnet with the --gateway and --ip-range in the same position, checked and normalised as podman does.
    const given = (opts.subnets ?? []).map((s, i) =>
      validateSubnetOptions({
        subnet: s,
        ...(opts.gateways?.[i] ? { gateway: opts.gateways[i] } : {}),
        ...(opts.ipRanges?.[i] ? { ipRange: opts.ipRanges[i] } : {}),
      }),
    );
    const requested = given.map((s) => s.subnet);
    if ((opts.gateways?.length ?? 0) > requested.length) throw new BerthError('USAGE', 'cannot set more gateways than subnets');
    if ((opts.ipRanges?.length ?? 0) > requested.length) throw new BerthError('USAGE', 'cannot set more ranges than subnets');
    if (opts.interfaceName !== undefined && !/^[a-zA-Z0-9_.-]+$/.test(opts.interfaceName))
      throw new BerthError('USAGE', `interface name ${opts.interfaceName} invalid`);
    if (opts.interfaceName !== undefined && opts.interfaceName.length > IFNAME_MAX)
      throw new BerthError('USAGE', `interface name ${opts.interfaceName} is longer than ${IFNAME_MAX} characters`);
    return this.lock.with(async () => {
      const all = await this.list();
      if (opts.name === DEFAULT_NETWORK || (opts.name !== undefined && all.some((n) => n.name === opts.name))) {
        const existing = all.find((n) => n.name === opts.name);
        if (existing && opts.ignoreExisting) return existing;
        throw new BerthError('NETWORK_EXISTS', `network name ${opts.name} already used: network already exists`);
      }
      const name = opts.name ?? freeNetworkName(all);
      const used = [...(await subnetsInUse()), ...all.flatMap((n) => n.subnets.map((s) => s.subnet))];
      for (const s of requested) {
        // A subnet the host or another network already has would make two routes for one prefix.
        const clash = used.find((u) => subnetsOverlap(u, s));
        if (clash) throw new BerthError('USAGE', `subnet ${s} is already used on the host or by another config`);
      }
      for (const [i, a] of requested.entries()) {
        for (const b of requested.slice(i + 1)) if (subnetsOverlap(a, b)) throw new BerthError('USAGE', `subnet ${a} overlaps with subnet ${b}`);
      }
      const subnets: Subnet[] = [...given];
      const hasV6 = subnets.some((s) => s.subnet.includes(':'));
      const hasV4 = subnets.some((s) => !s.subnet.includes(':'));
      if (!hasV4 && !(opts.ipv6 && hasV6)) {
        const s = freeIPv4Subnet(used);
        subnets.push({ subnet: s, gateway: defaultGateway(s) });
      }
      if (opts.ipv6 && !hasV6) {
        const s = freeIPv6Subnet(used);
        subnets.push({ subnet: s, gateway: defaultGateway(s) });
      }
      const id = randomBytes(32).toString('hex');
      const iface = driver === 'macvlan' ? (opts.options?.['parent'] ?? opts.interfaceName ?? '') : (opts.interfaceName ?? bridgeName(id));
      if (driver === 'bridge' && all.some((n) => n.driver === 'bridge' && n.network_interface === iface)) {
        throw new BerthError('USAGE', `bridge name ${iface} already in use`);
      }
      if (driver === 'macvlan' && iface !== '' && !(await hostInterfaces()).includes(iface)) {
        throw new BerthError('USAGE', `parent interface ${iface} does not exist`);
      }
      const network: Network = {
        name,
        id,
        driver,
        network_interface: iface,
        created: goTimestamp(new Date()),
        subnets,
        ipv6_enabled: opts.ipv6 === true || hasV6,
        internal: opts.internal === true,
        dns_enabled: driver === 'bridge' && opts.disableDns !== true,
        ...(opts.labels && Object.keys(opts.labels).length ? { labels: opts.labels } : {}),
        ...(Object.keys(options).length ? { options } : {}),
        ipam_options: { driver: 'host-local' },
      };
      await this.write(network);
      return network;
    });
  }

  async remove(name: string): Promise<void> {
    await this.lock.with(() => rm(this.file(name), { force: true }));
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  private async write(network: Network): Promise<void> {
    await makeDirs(this.dir);
    await writeFileAtomic(this.file(network.name), `${JSON.stringify(network, null, '     ')}\n`);
  }

  /**
   * The default network moved to a free subnet: another bridge on the host (another engine's,
   * another berth store's) took its subnet while none of this store's containers used it.
   */
  async moveDefault(taken: string[]): Promise<Network> {
    return this.lock.with(async () => {
      const current = await this.read(this.file(DEFAULT_NETWORK));
      if (!current) throw new BerthError('NETWORK_UNKNOWN', `unable to find network with name or ID ${DEFAULT_NETWORK}: network not found`);
      const all = await this.list();
      const used = [...taken, ...(await subnetsInUse()), ...all.flatMap((n) => n.subnets.map((s) => s.subnet))];
      const subnet = freeIPv4Subnet(used);
      const moved: Network = { ...current, subnets: [{ subnet, gateway: defaultGateway(subnet) }] };
      await this.write(moved);
      return moved;
    });
  }
}

/** podman names an unnamed network podman1, podman2…: the first free. */
function freeNetworkName(all: Network[]): string {
  for (let i = 1; ; i++) if (!all.some((n) => n.name === `podman${i}`)) return `podman${i}`;
}

/** `-o` options as podman checks them for each driver. */
function checkDriverOptions(driver: string, options: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    switch (key) {
      case 'mtu': {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < 0) throw new BerthError('USAGE', `mtu ${JSON.stringify(value)} is not a valid MTU`);
        out[key] = value;
        break;
      }
      case 'isolate':
        if (driver !== 'bridge') throw new BerthError('USAGE', `unsupported ${driver} network option ${key}`);
        if (!['true', 'false', 'strict'].includes(value))
          throw new BerthError('USAGE', `isolate option ${JSON.stringify(value)} must be true, false or strict`);
        out[key] = value;
        break;
      case 'vlan':
        if (!/^\d+$/.test(value) || Number(value) > 4094) throw new BerthError('USAGE', `vlan ID ${JSON.stringify(value)} must be between 0 and 4094`);
        out[key] = value;
        break;
      case 'metric':
        if (!/^\d+$/.test(value)) throw new BerthError('USAGE', `metric ${JSON.stringify(value)} must be a number`);
        out[key] = value;
        break;
      case 'mode':
        if (driver !== 'macvlan') throw new BerthError('USAGE', `unsupported bridge network option ${key}`);
        if (!['bridge', 'private', 'vepa', 'passthru'].includes(value)) throw new BerthError('USAGE', `unknown macvlan mode "${value}"`);
        out[key] = value;
        break;
      case 'parent':
        // Kept as the network's interface, where netavark reads a macvlan's parent.
        if (driver !== 'macvlan') throw new BerthError('USAGE', `unsupported bridge network option ${key}`);
        break;
      default:
        throw new BerthError('USAGE', `unsupported ${driver} network option ${key}`);
    }
  }
  return out;
}
