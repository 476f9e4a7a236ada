import { join } from 'node:path';
import { DEFAULT_NETWORK, NetworkDefinitions } from '../../network/definitions.js';
import { hostRoutes } from '../../network/host-subnets.js';
import { BerthError } from '../../util/errors.js';
import { allocate, release } from '../../network/ipam.js';
import { stopForwarder, type StartingForwarder } from '../../network/forwarder.js';
import { netavark } from '../../network/netavark.js';
import { createNetns, netnsPath, removeNetns } from '../../network/netns.js';
import { joinRootlessNetns, leaveRootlessNetns } from '../../network/rootless-netns.js';
import { isRootless } from '../../util/rootless.js';
import { assignHostPorts } from '../../network/port-assignment.js';
import { publishAllMappings } from '../../network/ports.js';
import type { Network, NetworkOptions, PortMapping, StatusBlock } from '../../network/types.js';
import { subnetContains, subnetsOverlap } from '../../network/cidr.js';
import type { ContainerNetworkState, ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { trace } from '../../util/trace.js';
import { exposedPortsOf, networkOwner, portsInUse } from './network-flags.js';
import { containerPaths, runRootOf } from './paths.js';
import { syncContainers } from './state.js';
import { infraJoinable } from './infra-created.js';
import { setupForwardedNetwork } from './user-network.js';

/**
 * A container's bridge networks: its pinned namespace, addresses leased from berth's IPAM, host
 * ports picked, then netavark's setup; and the exact undo. State lives under the run root
 * (`<runroot>/networks`: aardvark-dns's files, IPAM leases) so podman's and other stores' never mix.
 */

export function networkRunDir(store: Store): string {
  return join(runRootOf(store), 'networks');
}
const ipamDir = (store: Store) => join(networkRunDir(store), 'ipam');

/** netavark's input for this container on these networks (all of them, or the one being connected). */
function netavarkOptions(c: ContainerRecord, networks: Record<string, { network: Network; ips: string[] }>, ports: PortMapping[]): NetworkOptions {
  const asked = c.config.network.networks ?? {};
  const options: NetworkOptions = { container_id: c.id, container_name: c.name, port_mappings: ports, networks: {}, network_info: {} };
  for (const [name, { network, ips }] of Object.entries(networks)) {
    const a = asked[name] ?? { aliases: [], staticIps: [], interfaceName: 'eth0' };
    options.networks[name] = {
      interface_name: a.interfaceName,
      static_ips: ips,
      // As podman 4: the short ID resolves too, besides the name (which netavark adds itself).
      ...(network.dns_enabled ? { aliases: [...new Set([...a.aliases, c.id.slice(0, 12)])] } : {}),
      ...(a.staticMac ? { static_mac: a.staticMac } : {}),
    };
    options.network_info[name] = network;
  }
  const servers = c.config.nameResolution?.servers ?? [];
  if (servers.length) options.dns_servers = servers;
  return options;
}

/**
 * A bridge network's subnet must be its own bridge's on this host: another engine's bridge, or
 * another berth store's (whose definitions this store cannot see), may have taken it since the
 * network was made, and two bridges routing one subnet break both. The default network, when no
 * container of this store is on it, moves to a free subnet; any other network is refused.
 */
async function checkSubnetFree(store: Store, defs: NetworkDefinitions, network: Network, self: string): Promise<Network> {
  // Rootless, the bridges live in the user's rootless netns, where no host route is: none can clash.
  if (network.driver !== 'bridge' || isRootless()) return network;
  const foreign = (await hostRoutes()).filter((r) => r.iface !== network.network_interface && network.subnets.some((s) => subnetsOverlap(s.subnet, r.subnet)));
  if (foreign.length === 0) return network;
  const inUse = (await store.containers()).some((x) => x.id !== self && x.state.network?.networks[network.name]);
  if (network.name === DEFAULT_NETWORK && !inUse) {
    const moved = await defs.moveDefault(foreign.map((r) => r.subnet));
    return moved;
  }
  const { subnet, iface } = foreign[0]!;
  throw new BerthError(
    'NETWORK',
    `the subnet of network ${network.name} is in use on this host by ${iface} (${subnet}): another engine or another berth store took it; recreate the network with another --subnet`,
  );
}

/** The mappings to publish: `-p` as given, plus with `-P` every exposed port not published yet. */
export function requestedPorts(c: ContainerRecord): PortMapping[] {
  const publish = c.config.network.publish ?? [];
  if (!c.config.network.publishAll) return publish;
  return publishAllMappings(exposedPortsOf(c), publish);
}

/**
 * What netavark will report, known before it runs: the addresses are berth's own leases and the
 * gateways the networks' own, so /etc/hosts and resolv.conf need not wait for netavark.
 */
function expectedStatus(network: Network, ips: string[], interfaceName: string): StatusBlock {
  const subnets = ips.map((ip) => {
    const subnet = network.subnets.find((s) => subnetContains(s.subnet, ip));
    return { ipnet: `${ip}/${subnet?.subnet.split('/')[1] ?? (ip.includes(':') ? '64' : '24')}`, ...(subnet?.gateway ? { gateway: subnet.gateway } : {}) };
  });
  const gateways = network.subnets.flatMap((s) => (s.gateway ? [s.gateway] : []));
  return {
    ...(network.dns_enabled ? { dns_search_domains: ['dns.podman'], dns_server_ips: gateways } : {}),
    interfaces: { [interfaceName]: { mac_address: '', subnets } },
  };
}

/** A bridge container's network, planned (namespace, leases, host ports) and being applied by netavark. */
export interface NetworkSetup {
  /** The state as it will be: what /etc files are written from. */
  planned: ContainerNetworkState;
  /** netavark's setup, begun at once; resolves with its real results, or rejects after undoing everything. */
  applied: Promise<ContainerNetworkState>;
}

/**
 * Sets up a bridge-mode container's networks; undefined for every other mode. The plan is made
 * here and netavark started on it; the caller writes the bundle and starts the monitor while
 * netavark works, and waits for `applied` only before the container's process starts.
 */
export async function setupContainerNetwork(store: Store, c: ContainerRecord, warn?: (message: string) => void): Promise<NetworkSetup | undefined> {
  if (c.config.network.mode !== 'bridge') return undefined;
  const defs = new NetworkDefinitions(store.root);
  const names = Object.keys(c.config.network.networks ?? {});
  const networks = await Promise.all(names.map(async (n) => checkSubnetFree(store, defs, await defs.get(n), c.id)));
  const ports = await assignHostPorts(requestedPorts(c), await portsInUse(store, c.id));
  const netns = netnsPath(runRootOf(store), c.id);
  const leased: Record<string, { network: Network; ips: string[] }> = {};
  const undo = async () => {
    await Promise.all(Object.values(leased).map(({ network }) => release(ipamDir(store), network.id, c.id).catch(() => undefined)));
    await removeNetns(netns).catch(() => undefined);
    await leaveRootless(store, c, ports).catch(() => undefined);
  };
  await createNetns(netns);
  try {
    // Rootless, netavark works inside the user's rootless netns: joined first (made if need be).
    if (isRootless()) await joinRootlessNetns(networkRunDir(store), c.id, netns, ports);
    for (const [i, network] of networks.entries()) {
      const asked = c.config.network.networks![names[i]!]!;
      leased[names[i]!] = { network, ips: await allocate(ipamDir(store), network, c.id, asked.staticIps.length ? asked.staticIps : undefined) };
    }
  } catch (e) {
    await undo();
    throw e;
  }
  trace('network: namespace made, addresses leased');
  const planned: ContainerNetworkState = { netns, ports, networks: {} };
  for (const [name, { network, ips }] of Object.entries(leased)) {
    planned.networks[name] = { network, ips, status: expectedStatus(network, ips, c.config.network.networks![name]!.interfaceName) };
  }
  const applied = (async () => {
    try {
      const status = await setupInOrder(store, netns, netavarkOptions(c, leased, ports), warn);
      trace('network: netavark setup');
      const state: ContainerNetworkState = { netns, ports, networks: {} };
      for (const [name, { network, ips }] of Object.entries(leased))
        state.networks[name] = { network, ips, status: status[name] ?? planned.networks[name]!.status };
      return state;
    } catch (e) {
      // netavark undoes a failed setup itself; the namespace and the leases are berth's.
      await netavark('teardown', netns, netavarkOptions(c, leased, ports), networkRunDir(store)).catch(() => undefined);
      await undo();
      throw e;
    }
  })();
  applied.catch(() => undefined);
  return { planned, applied };
}

/**
 * netavark's setup, one call per network in the order the container joins them: netavark 1.4
 * sets up the networks of one call in hash order, and the interfaces would come in any order
 * (podman 4 has that flaw; its tests expect the order asked for). A failure tears down the
 * networks set up before it.
 */
async function setupInOrder(store: Store, netns: string, options: NetworkOptions, warn?: (message: string) => void): Promise<Record<string, StatusBlock>> {
  const names = Object.keys(options.networks);
  if (names.length <= 1) return netavark('setup', netns, options, networkRunDir(store), warn);
  const only = (picked: string[]): NetworkOptions => ({
    ...options,
    networks: Object.fromEntries(picked.map((n) => [n, options.networks[n]!])),
    network_info: Object.fromEntries(picked.map((n) => [n, options.network_info[n]!])),
  });
  const status: Record<string, StatusBlock> = {};
  const done: string[] = [];
  try {
    for (const name of names) {
      Object.assign(status, await netavark('setup', netns, only([name]), networkRunDir(store), warn));
      done.push(name);
    }
  } catch (e) {
    if (done.length) await netavark('teardown', netns, only(done), networkRunDir(store)).catch(() => undefined);
    throw e;
  }
  return status;
}

/**
 * Undoes setupContainerNetwork from what the state recorded (the network definitions may be gone
 * by now): netavark's teardown (veth, firewall rules, DNS entries; the bridge with its last
 * container) or the user-mode forwarder, the namespace, the leases. Every step runs even when one
 * before it failed.
 */
export async function teardownContainerNetwork(
  store: Store,
  c: ContainerRecord,
  state: ContainerNetworkState,
  warn?: (message: string) => void,
): Promise<void> {
  const networks = Object.fromEntries(Object.entries(state.networks).map(([name, n]) => [name, { network: n.network, ips: n.ips }]));
  if (Object.keys(networks).length > 0) {
    await netavark('teardown', state.netns, netavarkOptions(c, networks, state.ports), networkRunDir(store)).catch((e: Error) =>
      warn?.(`tearing down the network of ${c.name}: ${e.message}`),
    );
  }
  // A forwarder first: pasta holds the namespace file open, which keeps it from being unmounted.
  if (state.forwarder) await stopForwarder(state.forwarder).catch((e: Error) => warn?.(`stopping the ${state.forwarder!.program} of ${c.name}: ${e.message}`));
  await Promise.all([
    removeNetns(state.netns).catch((e: Error) => warn?.(e.message)),
    ...Object.values(state.networks).map((n) => release(ipamDir(store), n.network.id, c.id).catch(() => undefined)),
  ]);
  await leaveRootless(store, c, state.ports).catch((e: Error) => warn?.(e.message));
  trace('network: torn down');
}

/** Rootless, the container leaves the rootless netns (its forwards gone; the namespace with its last container). */
async function leaveRootless(store: Store, c: ContainerRecord, ports: PortMapping[]): Promise<void> {
  if (isRootless() && c.config.network.mode === 'bridge') await leaveRootlessNetns(networkRunDir(store), c.id, ports);
}

/**
 * Joins a running container to one more network (`network connect`): netavark's setup for that
 * network alone, with the container's published ports, which netavark forwards per network (as
 * podman passes them): the ports keep working when the network that had them is disconnected.
 */
export async function connectRunning(
  store: Store,
  c: ContainerRecord,
  state: ContainerNetworkState,
  name: string,
  network: Network,
): Promise<ContainerNetworkState> {
  const asked = c.config.network.networks?.[name];
  const ips = await allocate(ipamDir(store), network, c.id, asked?.staticIps.length ? asked.staticIps : undefined);
  try {
    const status = await netavark('setup', state.netns, netavarkOptions(c, { [name]: { network, ips } }, state.ports), networkRunDir(store));
    return { ...state, networks: { ...state.networks, [name]: { network, ips, status: status[name] ?? {} } } };
  } catch (e) {
    await release(ipamDir(store), network.id, c.id).catch(() => undefined);
    throw e;
  }
}

/** Takes a running container off one network (`network disconnect`), its port forwards to that network with it. */
export async function disconnectRunning(store: Store, c: ContainerRecord, state: ContainerNetworkState, name: string): Promise<ContainerNetworkState> {
  const joined = state.networks[name];
  if (!joined) return state;
  await netavark('teardown', state.netns, netavarkOptions(c, { [name]: { network: joined.network, ips: joined.ips } }, state.ports), networkRunDir(store));
  await release(ipamDir(store), joined.network.id, c.id).catch(() => undefined);
  const { [name]: _gone, ...rest } = state.networks;
  return { ...state, networks: rest };
}

/**
 * `network reload`: netavark's rules put back (after a firewall flush) by tearing down and setting
 * up again with the same addresses, interface names and MAC addresses (as podman keeps them).
 */
export async function reloadContainerNetwork(store: Store, c: ContainerRecord, state: ContainerNetworkState): Promise<ContainerNetworkState> {
  const networks = Object.fromEntries(Object.entries(state.networks).map(([name, n]) => [name, { network: n.network, ips: n.ips }]));
  const options = netavarkOptions(c, networks, state.ports);
  for (const [name, n] of Object.entries(state.networks)) {
    const [iface, seen] = Object.entries(n.status.interfaces ?? {})[0] ?? [];
    if (iface && seen?.mac_address) options.networks[name] = { ...options.networks[name]!, interface_name: iface, static_mac: seen.mac_address };
  }
  await netavark('teardown', state.netns, options, networkRunDir(store)).catch(() => undefined);
  const status = await setupInOrder(store, state.netns, options);
  const next: ContainerNetworkState = { ...state, networks: {} };
  for (const [name, n] of Object.entries(networks)) next.networks[name] = { ...n, status: status[name] ?? {} };
  return next;
}

/** What a starting container's network comes to: the namespace to join, and whose /etc files it shares. */
export interface NetworkJoin {
  /** bridge: the network as planned (for the /etc files), and netavark applying it. */
  setup?: NetworkSetup;
  /** The namespace file the runtime joins instead of making a new one. */
  path?: string;
  /** container:ID: the other container's /etc/hosts and resolv.conf, shared as podman shares them. */
  etc?: { hosts: string; resolvConf: string };
  /** A pod's member: the infra container's IPC, UTS and PID namespaces it shares. */
  namespaces?: Partial<Record<'ipc' | 'uts' | 'pid', string>>;
  /** slirp4netns, pasta: the forwarder being started (its exit descriptor goes to the monitor). */
  forwarder?: StartingForwarder;
}

/**
 * The network part of a start, begun before the root is mounted so the two overlap: a bridge
 * container's netavark setup, a slirp4netns or pasta container's forwarder (a leftover from a
 * start that died is torn down first in both cases), another
 * container's namespace for `container:ID`, the given one for `ns:PATH`.
 */
export async function joinNetwork(store: Store, c: ContainerRecord, warn?: (message: string) => void): Promise<NetworkJoin> {
  const mode = c.config.network.mode;
  if (mode === 'bridge') {
    if (c.state.network) await teardownContainerNetwork(store, c, c.state.network, warn);
    const setup = await setupContainerNetwork(store, c, warn);
    return setup ? { setup, path: setup.planned.netns } : {};
  }
  if (mode === 'slirp4netns' || mode === 'pasta') {
    if (c.state.network) await teardownContainerNetwork(store, c, c.state.network, warn);
    const ports = await assignHostPorts(requestedPorts(c), await portsInUse(store, c.id));
    const { setup, forwarder } = await setupForwardedNetwork(store, c, ports);
    return { setup, path: setup.planned.netns, forwarder };
  }
  if (mode === 'ns') return { path: c.config.network.path! };
  if (mode === 'container') {
    const all = await syncContainers(store, (x) => x.id === c.config.network.container);
    const owner = networkOwner(all, c);
    return joinOwner(store, c, { id: owner.id, pid: owner.state.pid, ...(owner.state.network?.netns ? { netns: owner.state.network.netns } : {}) });
  }
  return {};
}

/**
 * The namespaces a start joins. A pod's member whose infra this start is starting (`infraRunning`)
 * joins the infra once its runtime has created it (in this process) or once it runs: the infra's
 * network as `container:` when the pod shares it, else a network of its own (or another
 * container's) beside the infra's other namespaces. Any other container: `joinNetwork`.
 */
export function joinForStart(
  store: Store,
  c: ContainerRecord,
  infraRunning: Promise<void> | undefined,
  warn?: (message: string) => void,
): Promise<NetworkJoin> {
  const infraId = c.config.pod?.infraId;
  if (!infraId) return joinNetwork(store, c, warn);
  const created = infraRunning ? infraJoinable(infraId, infraRunning) : Promise.resolve(undefined);
  if (c.config.network.container !== infraId && (c.config.pod?.joins?.length ?? 0) > 0) return joinBesideInfra(store, c, created, warn);
  if (!infraRunning) return joinNetwork(store, c, warn);
  return created.then((infra) => (infra ? joinOwner(store, c, { id: infraId, ...infra }) : joinNetwork(store, c, warn)));
}

/**
 * A pod member with a network of its own (a pod that does not share `net`): that network, set up
 * at once, and the infra's IPC, UTS and PID namespaces as the pod shares them, from the infra
 * `created` names (its runtime create, in this process) or else from its record once it runs. A
 * failure to reach the infra undoes the member's own network, so nothing is left behind.
 */
export async function joinBesideInfra(
  store: Store,
  c: ContainerRecord,
  created: Promise<{ pid: number } | undefined>,
  warn?: (message: string) => void,
): Promise<NetworkJoin> {
  const own = joinNetwork(store, c, warn);
  own.catch(() => undefined);
  const infraId = c.config.pod!.infraId!;
  let pid: number;
  try {
    pid = (await created)?.pid ?? (await runningInfraPid(store, infraId));
  } catch (e) {
    const n = await own.catch(() => undefined);
    n?.forwarder?.release();
    const applied = n?.setup ? await n.setup.applied.catch(() => undefined) : undefined;
    if (applied) await teardownContainerNetwork(store, c, applied, warn).catch(() => undefined);
    throw e;
  }
  return { ...(await own), namespaces: namespacesOf(pid, c.config.pod?.joins ?? []) };
}

/** The namespace files of process `pid` for the namespaces a pod's member joins. */
function namespacesOf(pid: number, joins: readonly ('ipc' | 'uts' | 'pid')[]): NonNullable<NetworkJoin['namespaces']> {
  return Object.fromEntries(joins.map((ns) => [ns, `/proc/${pid}/ns/${ns}`]));
}

async function runningInfraPid(store: Store, infraId: string): Promise<number> {
  const infra = (await syncContainers(store, (x) => x.id === infraId)).find((x) => x.id === infraId);
  if (infra?.state.status !== 'running' && infra?.state.status !== 'paused')
    throw new BerthError('CONTAINER_STATE', `cannot join the namespaces of the pod's infra container ${infraId}: it is not running: container state improper`);
  return infra.state.pid;
}

/**
 * `container:ID`'s namespaces, from the owner's process (and its pinned network namespace, where
 * it has one), with its /etc/hosts and resolv.conf; a pod's member also joins the infra's IPC,
 * UTS and PID namespaces as the pod shares them.
 */
export function joinOwner(store: Store, c: ContainerRecord, owner: { id: string; pid: number; netns?: string }): NetworkJoin {
  const ownerPaths = containerPaths(store, owner.id);
  const joins = c.config.pod?.infraId === owner.id ? (c.config.pod.joins ?? []) : [];
  return {
    path: owner.netns ?? `/proc/${owner.pid}/ns/net`,
    etc: { hosts: ownerPaths.hosts, resolvConf: ownerPaths.resolvConf },
    ...(joins.length ? { namespaces: namespacesOf(owner.pid, joins) } : {}),
  };
}
