import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import type { StartingForwarder } from '../../network/forwarder.js';
import { createNetns, netnsPath, removeNetns } from '../../network/netns.js';
import { parsePastaOptions, pastaAddresses, startPasta } from '../../network/pasta.js';
import { startSlirp4netns } from '../../network/slirp4netns.js';
import { parseSlirpOptions, slirpAddresses } from '../../network/slirp4netns-options.js';
import type { PortMapping } from '../../network/types.js';
import type { ContainerNetworkConfig, ContainerNetworkState, ContainerRecord } from '../../store/containers.js';
import type { Store } from '../../store/store.js';
import type { NetworkSetup } from './network-setup.js';
import { runRootOf } from './paths.js';

/**
 * A container on a user-mode network (`--network slirp4netns` or `pasta`): its namespace pinned
 * under the run root, as a bridge container's is, so that the forwarder can start (and publish
 * its ports) while the root is mounted, and teardown can find it without the container's process.
 * Nothing here needs more than the namespace's owner may do: no /run/netns, no firewall.
 */

/**
 * The host as a slirp4netns container reaches it when the host's loopback is closed to it
 * (podman's default): the host's first non-loopback IPv4 address.
 */
function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * The addresses a user-mode network gives the container's /etc files: its own, the host's (for
 * host.containers.internal; none where nothing reaches the host) and the DNS servers to put first.
 */
export function forwardedAddresses(config: ContainerNetworkConfig): { container?: string; host?: string; dns: string[] } {
  if (config.mode === 'pasta') return { ...pastaAddresses(config.options ?? []), dns: [] };
  const opts = parseSlirpOptions(config.options ?? []);
  const slirp = slirpAddresses(opts.cidr);
  const host = opts.allowHostLoopback ? slirp.gateway : hostAddress();
  return { container: slirp.container, ...(host ? { host } : {}), dns: [slirp.dns] };
}

/**
 * Pins the container's namespace and starts its forwarder on it, publishing `ports` (host ports
 * already picked). Returns the plan (for the /etc files and the record) with the forwarder's
 * readiness as `applied`, and the forwarder, whose exit descriptor the monitor must take over.
 * A failure at any point leaves neither the namespace nor the forwarder behind.
 */
export async function setupForwardedNetwork(
  store: Store,
  c: ContainerRecord,
  ports: PortMapping[],
): Promise<{ setup: NetworkSetup; forwarder: StartingForwarder }> {
  const { mode } = c.config.network;
  const runRoot = runRootOf(store);
  const netns = netnsPath(runRoot, c.id);
  const where = { netns, dir: join(runRoot, 'networks', mode), name: c.id.slice(0, 32), ports };
  await createNetns(netns);
  let forwarder: StartingForwarder;
  try {
    forwarder =
      mode === 'pasta'
        ? await startPasta({ ...where, options: parsePastaOptions(c.config.network.options ?? []) })
        : await startSlirp4netns({ ...where, options: parseSlirpOptions(c.config.network.options ?? []) });
  } catch (e) {
    await removeNetns(netns).catch(() => undefined);
    throw e;
  }
  // A copy: pasta's PID is filled in once it is ready, and the plan is recorded before that.
  const planned: ContainerNetworkState = { netns, ports, networks: {}, forwarder: { ...forwarder.state } };
  const applied = forwarder.ready.then(
    (state) => ({ ...planned, forwarder: { ...state } }),
    async (e: unknown) => {
      await removeNetns(netns).catch(() => undefined);
      throw e;
    },
  );
  applied.catch(() => undefined);
  return { setup: { planned, applied }, forwarder };
}
