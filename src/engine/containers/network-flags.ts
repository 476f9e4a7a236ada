import { isRootless } from '../../util/rootless.js';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { DEFAULT_NETWORK, NetworkDefinitions } from '../../network/definitions.js';
import { subnetContains } from '../../network/cidr.js';
import { checkPastaPorts, parsePastaOptions } from '../../network/pasta.js';
import { checkConflicts, exposedFromImage, parseExpose, parsePublish, type ExposedPort } from '../../network/ports.js';
import { checkSlirpPorts } from '../../network/slirp4netns.js';
import { parseSlirpOptions } from '../../network/slirp4netns-options.js';
import type { Network, PortMapping } from '../../network/types.js';
import type { ContainerNetworkConfig, ContainerRecord, NetworkAttachment } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError } from '../../util/errors.js';
import { requireContainer } from './lookup.js';
import { interfaceNames, MAC, parseNetworkRequest, type NetworkRequest } from './network-options.js';

/** The network flags of run/create, as given. */
export interface NetworkFlags {
  /** `--network`, once or more, each possibly comma-separated. */
  network?: string | string[];
  networkAlias?: string[];
  ip?: string;
  ip6?: string;
  macAddress?: string;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
}

const MODES = new Set(['none', 'host', 'slirp4netns', 'pasta', 'bridge', 'private', 'default']);

/** The user-mode forwarders, which take options after a colon (`slirp4netns:mtu=1500`, `pasta:-a,10.0.2.5`). */
const FORWARDERS = ['slirp4netns', 'pasta'] as const;
type ForwarderMode = (typeof FORWARDERS)[number];
const forwarderOf = (w: string): ForwarderMode | undefined => FORWARDERS.find((f) => w === f || w.startsWith(`${f}:`));

/**
 * The words of --network, split: `a,b` and `--network a --network b` both name two networks; a
 * word with a colon (`NAME:ip=…,alias=…`, `container:ID`, `ns:PATH`) is one, its commas its own.
 */
function networkWords(value: NetworkFlags['network']): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((v) => (v.includes(':') ? [v] : v.split(','))).filter((v) => v !== '');
}

/** Whether a word picks a mode rather than naming a network (`bridge:OPTIONS` names the default one). */
const isModeWord = (w: string) => (MODES.has(w) && w !== 'bridge') || w.startsWith('container:') || w.startsWith('ns:') || forwarderOf(w) !== undefined;

/** As root the default bridge network, as podman; rootless slirp4netns, as podman 4. */
function defaultMode(): 'bridge' | 'slirp4netns' {
  return isRootless() ? 'slirp4netns' : 'bridge';
}

/**
 * The network mode alone, from --network, for checks that need it before anything is looked up
 * (--dns with none, --add-host with host): syntax errors surface here, before a pull.
 */
export function networkMode(flags: NetworkFlags): ContainerNetworkConfig['mode'] {
  const words = networkWords(flags.network);
  const first = words[0];
  if (first === undefined || first === 'bridge' || first.startsWith('bridge:') || first === 'private' || first === 'default') return defaultMode();
  if (first.startsWith('container:')) return 'container';
  if (first.startsWith('ns:')) return 'ns';
  if (first === 'none' || first === 'host') return first;
  return forwarderOf(first) ?? 'bridge';
}

/** The options of `slirp4netns:OPTIONS` or `pasta:OPTIONS`, split at commas, each checked (none: []). */
function forwarderOptions(mode: ForwarderMode, word: string | undefined): string[] {
  const options = word?.includes(':')
    ? word
        .slice(word.indexOf(':') + 1)
        .split(',')
        .filter((o) => o !== '')
    : [];
  if (mode === 'slirp4netns') parseSlirpOptions(options);
  else parsePastaOptions(options);
  return options;
}

/** Syntax checks of the port and address flags, before an image is pulled. */
export function checkNetworkFlagSyntax(flags: NetworkFlags): void {
  const mode = networkMode(flags);
  const words = networkWords(flags.network);
  // The default bridge may come first (`--network bridge --network NAME`), a mode nowhere beside others.
  const conflicting = (w: string, i: number) => isModeWord(w) || (i > 0 && (w === 'bridge' || w.startsWith('bridge:')));
  if (words.length > 1 && words.some(conflicting)) {
    throw new BerthError('USAGE', `can only set extra network names, selected mode ${words.find(conflicting)!.split(':')[0]} conflicts with bridge`);
  }
  if (mode === 'bridge') networkRequests(words);
  const published = (flags.publish ?? []).flatMap(parsePublish);
  if (mode === 'slirp4netns' || mode === 'pasta') {
    forwarderOptions(mode, words[0]);
    if (mode === 'slirp4netns') checkSlirpPorts(published);
    else checkPastaPorts(published);
  }
  parseExpose(flags.expose ?? []);
  if (flags.ip !== undefined && isIP(flags.ip) !== 4) throw new BerthError('USAGE', `${flags.ip} is not an IPv4 address`);
  if (flags.ip6 !== undefined && isIP(flags.ip6) !== 6) throw new BerthError('USAGE', `${flags.ip6} is not an IPv6 address`);
  if (flags.macAddress !== undefined && !MAC.test(flags.macAddress)) throw new BerthError('USAGE', `invalid MAC address ${flags.macAddress}`);
  if (mode !== 'bridge') {
    const bridgeOnly: [unknown, string][] = [
      [flags.ip, '--ip'],
      [flags.ip6, '--ip6'],
      [flags.macAddress, '--mac-address'],
      [flags.networkAlias?.length ? flags.networkAlias : undefined, '--network-alias'],
    ];
    for (const [v, flag] of bridgeOnly)
      if (v !== undefined) throw new BerthError('USAGE', `${flag} can only be set on bridge networks, not with --network ${mode}`);
    if ((flags.publish?.length || flags.publishAll) && (mode === 'container' || mode === 'ns')) {
      throw new BerthError(
        'USAGE',
        `published ports need a network namespace of the container's own (bridge, slirp4netns or pasta): --network ${mode} cannot publish ports`,
      );
    }
  }
}

/**
 * The container's network config from its flags: networks looked up (an unknown one fails here,
 * at create), `--ip` checked against the subnet, ports parsed with their conflicts, and the
 * exposed ports (the image's EXPOSE and `--expose`) kept for `-P`. `warn` gets podman's warning
 * when ports are given with a mode that has no ports to publish.
 */
export async function networkConfig(
  store: Store,
  flags: NetworkFlags,
  imageExposed: string[],
  warn?: (message: string) => void,
): Promise<ContainerNetworkConfig> {
  checkNetworkFlagSyntax(flags);
  const mode = networkMode(flags);
  const words = networkWords(flags.network);
  const expose = [...new Set([...imageExposed, ...parseExpose(flags.expose ?? []).map((e: { port: number; protocol: string }) => `${e.port}/${e.protocol}`)])];
  if (mode === 'host' || mode === 'none') {
    if (flags.publish?.length || flags.publishAll)
      warn?.('Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use');
    return { mode, ...(expose.length ? { expose } : {}) };
  }
  if (mode === 'slirp4netns' || mode === 'pasta') {
    const options = forwarderOptions(mode, words[0]);
    return { mode, ...(options.length ? { options } : {}), ...publishedPorts(flags), ...(expose.length ? { expose } : {}) };
  }
  if (mode === 'container') {
    const target = requireContainer(await store.containerRecords(), words[0]!.slice('container:'.length));
    return { mode, container: target.id };
  }
  if (mode === 'ns') {
    const path = words[0]!.slice('ns:'.length);
    if (!path.startsWith('/') || !existsSync(path))
      throw new BerthError('USAGE', `network namespace ${JSON.stringify(path)} does not exist: give an absolute path to a namespace file`);
    return { mode, path };
  }
  const requests = networkRequests(words);
  const names = requests.map((r) => r.name);
  const defs = new NetworkDefinitions(store.root);
  // The default network is made at the first start on it, not by a create that may yet fail.
  const found = await Promise.all(names.map(async (n) => (n === DEFAULT_NETWORK ? defs.find(n) : defs.get(n))));
  const networks = names.map((name, i) => found[i] ?? ({ name, subnets: [], dns_enabled: false } as unknown as Network));
  const staticIps = [flags.ip, flags.ip6].filter((v): v is string => v !== undefined);
  if ((staticIps.length || flags.macAddress) && names.length > 1) {
    throw new BerthError('USAGE', '--ip, --ip6 and --mac-address can only be set for a single network; use network connect --ip for the others');
  }
  const ifaces = interfaceNames(requests.map((r) => r.interfaceName));
  const attachments: Record<string, NetworkAttachment> = {};
  for (const [i, net] of networks.entries()) {
    const request = requests[i]!;
    const ips = [...request.staticIps, ...(i === 0 ? staticIps : [])];
    // Not made yet (the default network): IPAM checks the address at start.
    for (const ip of net.subnets.length ? ips : []) {
      if (!net.subnets.some((s) => subnetContains(s.subnet, ip)))
        throw new BerthError('USAGE', `requested static ip ${ip} not in any subnet on network ${net.name}`);
    }
    const mac = request.staticMac ?? (i === 0 ? flags.macAddress : undefined);
    attachments[net.name] = {
      aliases: [...(flags.networkAlias ?? []), ...request.aliases],
      staticIps: ips,
      ...(mac ? { staticMac: mac } : {}),
      interfaceName: ifaces[i]!,
    };
  }
  if (flags.networkAlias?.length && networks.every((n) => !n.dns_enabled)) {
    warn?.(`network aliases are ignored on ${names.join(', ')}: DNS is disabled there`);
  }
  return { mode, networks: attachments, ...publishedPorts(flags), ...(expose.length ? { expose } : {}) };
}

/**
 * `-p` and `-P` as the config keeps them: the mappings checked for conflicts among themselves. Whether
 * a host port is free is checked when the container starts, as podman does (its `create` of a port
 * another process holds succeeds, its start fails): a check here too cost every `create -p` and
 * `pod create -p` the loading of Node's socket and resolver code, ~10 ms, for an answer that can be
 * stale by the start.
 */
function publishedPorts(flags: NetworkFlags): Pick<ContainerNetworkConfig, 'publish' | 'publishAll'> {
  // Repeats merged and neighbours joined into ranges, as podman keeps them.
  const publish: PortMapping[] = checkConflicts((flags.publish ?? []).flatMap(parsePublish));
  return { ...(publish.length ? { publish } : {}), ...(flags.publishAll ? { publishAll: true } : {}) };
}

/**
 * The networks a bridge container joins, in order, from the words of --network: the default one
 * when none is named; a network named twice joins once, with the options of its first mention.
 */
function networkRequests(words: string[]): NetworkRequest[] {
  if (words.length === 0 || (MODES.has(words[0]!) && words[0] !== 'bridge')) return [{ name: DEFAULT_NETWORK, aliases: [], staticIps: [] }];
  const seen = new Set<string>();
  return words.map(parseNetworkRequest).filter((r) => !seen.has(r.name) && seen.add(r.name));
}

/** For `container:ID`: the container whose namespace is joined, which must be running. */
export function networkOwner(all: readonly ContainerRecord[], c: ContainerRecord): ContainerRecord {
  const target = all.find((x) => x.id === c.config.network.container);
  if (!target) throw new BerthError('CONTAINER_UNKNOWN', `the container ${c.config.network.container} whose network ${c.name} shares no longer exists`);
  if (target.state.status !== 'running' && target.state.status !== 'paused') {
    throw new BerthError('CONTAINER_STATE', `cannot join the network namespace of ${target.name}: it is not running: container state improper`);
  }
  return target;
}

/**
 * The host ports the running containers of this store publish (less `self`'s): netavark DNATs
 * them without binding, so only the records tell.
 */
export async function portsInUse(store: Store, self?: string): Promise<PortMapping[]> {
  return (await store.containers()).filter((x) => x.id !== self).flatMap((x) => x.state.network?.ports ?? []);
}

/** The container's exposed ports (the image's EXPOSE and `--expose`, kept as `80/tcp`). */
export function exposedPortsOf(c: ContainerRecord): ExposedPort[] {
  return exposedFromImage(Object.fromEntries((c.config.network.expose ?? []).map((e) => [e, {}])));
}
