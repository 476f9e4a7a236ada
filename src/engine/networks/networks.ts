import { isRootless } from '../../util/rootless.js';
import { DEFAULT_NETWORK, NetworkDefinitions, type CreateNetworkOptions } from '../../network/definitions.js';
import { removeNetworkLeases } from '../../network/ipam.js';
import type { Network } from '../../network/types.js';
import type { ContainerRecord, NetworkAttachment } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import { BerthError, isBerthError } from '../../util/errors.js';
import { networkEvent } from '../system/events.js';
import { getContainer, removeContainer } from '../containers/lifecycle.js';
import { writeEtcFiles } from '../containers/network.js';
import { connectRunning, disconnectRunning, networkRunDir, reloadContainerNetwork } from '../containers/network-setup.js';
import { containerPaths } from '../containers/paths.js';
import { updateContainerState, withContainerLock } from '../containers/state.js';
import { subnetContains } from '../../network/cidr.js';
import { join } from 'node:path';
import { compareStrings } from '../../util/compare.js';

/**
 * podman's `network` verbs over berth's network definitions and its containers: create, ls,
 * inspect, rm (-f removes the containers), prune, exists, connect/disconnect (a running container
 * through netavark at once, a stopped one at its next start), reload.
 */

export const networkDefinitions = (store: Store) => new NetworkDefinitions(store.root);

/** The containers that join a network by name. */
export function containersOn(all: readonly ContainerRecord[], name: string): ContainerRecord[] {
  return all.filter((c) => c.config.network.mode === 'bridge' && Object.hasOwn(c.config.network.networks ?? {}, name));
}

export async function createNetwork(store: Store, opts: CreateNetworkOptions): Promise<Network> {
  const network = await networkDefinitions(store).create(opts);
  await networkEvent(store, 'create', network);
  return network;
}

/** Every network, the default one included (made on first use, as podman always lists it). */
export async function listNetworks(store: Store): Promise<Network[]> {
  const defs = networkDefinitions(store);
  const all = await defs.list();
  if (!all.some((n) => n.name === DEFAULT_NETWORK) && !isRootless()) all.push(await defs.ensureDefault());
  return all.sort((a, b) => compareStrings(a.name, b.name));
}

export function getNetwork(store: Store, nameOrId: string): Promise<Network> {
  return networkDefinitions(store).get(nameOrId);
}

/**
 * Removes a network. Containers on it keep it unless `force`, which removes them first (podman's
 * rule); the default network stays.
 */
export async function removeNetwork(
  store: Store,
  nameOrId: string,
  opts: { force?: boolean; timeout?: number; warn?: (m: string) => void } = {},
): Promise<Network> {
  const network = await getNetwork(store, nameOrId);
  if (network.name === DEFAULT_NETWORK) throw new BerthError('USAGE', `default network ${DEFAULT_NETWORK} cannot be removed`);
  const users = containersOn(await store.containers(), network.name);
  if (users.length && !opts.force) {
    throw new BerthError(
      'NETWORK_IN_USE',
      `"${network.name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`,
    );
  }
  for (const c of users) {
    // "forcibly delete containers and pods": a pod's infra on the network takes its pod with it.
    if (c.config.pod?.infra) {
      const { removePod } = await import('../pods/lifecycle.js');
      await removePod(store, c.config.pod.id, { force: true, ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}) }).catch((e: unknown) => {
        if (!isBerthError(e, 'POD_UNKNOWN')) throw e;
      });
      continue;
    }
    await removeContainer(store, c.id, {
      force: true,
      volumes: false,
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.warn ? { warn: opts.warn } : {}),
    });
  }
  await networkDefinitions(store).remove(network.name);
  await removeNetworkLeases(join(networkRunDir(store), 'ipam'), network.id).catch(() => undefined);
  await networkEvent(store, 'remove', network);
  return network;
}

/** Networks no container uses (the default one never), removed; returns their names. */
export async function pruneNetworks(store: Store, keep: (n: Network) => boolean = () => false): Promise<string[]> {
  const all = await networkDefinitions(store).list();
  const containers = await store.containers();
  const removed: string[] = [];
  for (const n of all) {
    if (n.name === DEFAULT_NETWORK || keep(n) || containersOn(containers, n.name).length) continue;
    await removeNetwork(store, n.name);
    removed.push(n.name);
  }
  return removed;
}

export interface ConnectOptions {
  aliases?: string[];
  ip?: string;
  ip6?: string;
  mac?: string;
}

/** Joins a container to a network: now if it runs, else at its next start. */
export async function connectContainer(store: Store, networkName: string, nameOrId: string, opts: ConnectOptions = {}): Promise<void> {
  const network = await getNetwork(store, networkName);
  const found = await getContainer(store, nameOrId);
  await withContainerLock(store, found.id, async () => {
    const c = await getContainer(store, found.id);
    if (c.config.network.mode !== 'bridge') {
      throw new BerthError('USAGE', `"${c.name}" is not on a bridge network (--network ${c.config.network.mode}): it cannot join another network`);
    }
    const joined = c.config.network.networks ?? {};
    if (Object.hasOwn(joined, network.name))
      throw new BerthError('NETWORK', `container ${c.id} is already connected to network "${network.name}": network is already connected`);
    const staticIps = [opts.ip, opts.ip6].filter((v): v is string => v !== undefined);
    for (const ip of staticIps) {
      if (!network.subnets.some((s) => subnetContains(s.subnet, ip)))
        throw new BerthError('USAGE', `requested static ip ${ip} not in any subnet on network ${network.name}`);
    }
    const used = new Set(Object.values(joined).map((a) => a.interfaceName));
    let n = 0;
    while (used.has(`eth${n}`)) n++;
    const attachment: NetworkAttachment = { aliases: opts.aliases ?? [], staticIps, ...(opts.mac ? { staticMac: opts.mac } : {}), interfaceName: `eth${n}` };
    const withIt: ContainerRecord = { ...c, config: { ...c.config, network: { ...c.config.network, networks: { ...joined, [network.name]: attachment } } } };
    const running = c.state.network && (c.state.status === 'running' || c.state.status === 'paused');
    const state = running ? await connectRunning(store, withIt, c.state.network!, network.name, network) : c.state.network;
    await store.updateContainers((all) => {
      const rec = all.find((x) => x.id === c.id);
      if (rec) rec.config.network.networks = withIt.config.network.networks!;
    });
    if (state) await updateContainerState(store, c, { network: state });
    if (running) await writeEtcFiles(withIt, containerPaths(store, c.id), state);
    await networkEvent(store, 'connect', network, c);
  });
}

/** Takes a container off a network: now if it runs, and from its config. */
export async function disconnectContainer(store: Store, networkName: string, nameOrId: string): Promise<void> {
  const network = await getNetwork(store, networkName);
  const found = await getContainer(store, nameOrId);
  await withContainerLock(store, found.id, async () => {
    const c = await getContainer(store, found.id);
    const joined = c.config.network.networks ?? {};
    if (!Object.hasOwn(joined, network.name))
      throw new BerthError('NETWORK', `container ${c.id} is not connected to network ${network.name}: network is not connected`);
    const running = c.state.network && (c.state.status === 'running' || c.state.status === 'paused');
    const state = running ? await disconnectRunning(store, c, c.state.network!, network.name) : c.state.network;
    const { [network.name]: _gone, ...rest } = joined;
    const without: ContainerRecord = { ...c, config: { ...c.config, network: { ...c.config.network, networks: rest } } };
    await store.updateContainers((all) => {
      const rec = all.find((x) => x.id === c.id);
      if (rec) rec.config.network.networks = rest;
    });
    if (state) await updateContainerState(store, c, { network: state });
    if (running) await writeEtcFiles(without, containerPaths(store, c.id), state);
    await networkEvent(store, 'disconnect', network, c);
  });
}

/** `network reload`: netavark's rules and routes put back for running containers (after a firewall flush). Returns the IDs reloaded. */
export async function reloadNetworks(store: Store, namesOrIds: string[] | 'all'): Promise<string[]> {
  const targets =
    namesOrIds === 'all' ? (await store.containers()).map((c) => c.id) : await Promise.all(namesOrIds.map(async (n) => (await getContainer(store, n)).id));
  const reloaded: string[] = [];
  for (const id of targets) {
    await withContainerLock(store, id, async () => {
      const c = await getContainer(store, id);
      if (!c.state.network || c.state.status !== 'running') return;
      const state = await reloadContainerNetwork(store, c, c.state.network);
      await updateContainerState(store, c, { network: state });
      reloaded.push(c.id);
    });
  }
  return reloaded;
}
