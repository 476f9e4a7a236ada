// Networks as the Docker API shows and takes them. berth's networks are podman's (its default one
// is named "podman"); a Docker client knows the default network as "bridge" and expects "host" and
// "none" beside it, as dockerd lists them. So the default network goes out as "bridge" (and
// "bridge" names it coming in; "podman" still does, for berth's own users), and host and none are
// listed as the two pseudo-networks they are in Docker: network modes, not definitions.
import { createHash } from 'node:crypto';
import { DEFAULT_NETWORK, leaseRangeCidr, type ContainerRecord, type CreateNetworkOptions, type Network } from '../../engine/index.js';
import { ApiError, badRequest } from '../errors.js';

/** dockerd's predefined networks: listed always, never created or removed by a client. */
export const PREDEFINED_NETWORKS = ['bridge', 'host', 'none'] as const;
export type PseudoNetwork = 'host' | 'none';

export const isPredefined = (name: string) => (PREDEFINED_NETWORKS as readonly string[]).includes(name);

/** The engine's name for a network a client names. */
export const engineNetworkName = (name: string) => (name === 'bridge' ? DEFAULT_NETWORK : name);
/** The name a client sees for an engine network. */
export const dockerNetworkName = (name: string) => (name === DEFAULT_NETWORK ? 'bridge' : name);

export interface DockerEndpoint {
  Name: string;
  EndpointID: string;
  MacAddress: string;
  IPv4Address: string;
  IPv6Address: string;
}

export interface DockerNetwork {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway?: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, DockerEndpoint>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** A running container's endpoint on the network, from what netavark reported when it set it up. */
function endpoint(c: ContainerRecord, networkName: string): DockerEndpoint | undefined {
  if (c.state.status !== 'running' && c.state.status !== 'paused') return undefined;
  const joined = c.state.network?.networks[networkName];
  if (!joined) return undefined;
  const out: DockerEndpoint = { Name: c.name, EndpointID: '', MacAddress: '', IPv4Address: '', IPv6Address: '' };
  for (const iface of Object.values(joined.status.interfaces ?? {})) {
    out.MacAddress = iface.mac_address;
    // Docker gives each address with its prefix (10.89.0.2/24), not the address alone.
    for (const s of iface.subnets ?? []) {
      if (s.ipnet.includes(':')) out.IPv6Address = s.ipnet;
      else out.IPv4Address = s.ipnet;
    }
  }
  return out;
}

/** berth's own name for a network's bridge (engine's network/definitions.ts): one a client did not choose. */
const berthBridgeName = (id: string) => `berth${id.slice(0, 10)}`;

/**
 * The driver options under Docker's names, as a client gave them: docker-compose compares every
 * option it declared with what inspect shows and stops on a difference. `isolate`, which makes a
 * Docker-made bridge network apart from the others, dockerd shows no option for (podman hides it too).
 */
function dockerOptions(n: Network): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(n.options ?? {})) {
    if (key === 'isolate') continue;
    else if (key === 'mtu') out['com.docker.network.driver.mtu'] = value;
    else if (key === 'mode' && n.driver === 'macvlan') out.macvlan_mode = value;
    else out[key] = value;
  }
  if (n.driver === 'bridge' && n.network_interface !== berthBridgeName(n.id)) out['com.docker.network.bridge.name'] = n.network_interface;
  if (n.driver === 'macvlan' && n.network_interface !== '') out.parent = n.network_interface;
  return out;
}

export function dockerNetwork(n: Network, containers: readonly ContainerRecord[]): DockerNetwork {
  const endpoints: Record<string, DockerEndpoint> = {};
  for (const c of containers) {
    const e = endpoint(c, n.name);
    if (e) endpoints[c.id] = e;
  }
  const options = dockerOptions(n);
  return {
    Name: dockerNetworkName(n.name),
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.ipv6_enabled,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: n.subnets.map((s) => {
        const range = s.lease_range && leaseRangeCidr(s.lease_range);
        return { Subnet: s.subnet, ...(s.gateway ? { Gateway: s.gateway } : {}), ...(range ? { IPRange: range } : {}) };
      }),
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: endpoints,
    Options: options,
    Labels: n.labels ?? {},
  };
}

/** host's and none's IDs: stable for a store (`seed`), as dockerd's stay for its data root. */
export function pseudoNetworkId(seed: string, name: PseudoNetwork): string {
  return createHash('sha256').update(`berth pseudo-network\0${seed}\0${name}`).digest('hex');
}

/** host or none as dockerd lists them: drivers `host` and `null`, no addresses, no containers shown. */
export function pseudoNetwork(name: PseudoNetwork, id: string, created: string): DockerNetwork {
  return {
    Name: name,
    Id: id,
    Created: created,
    Scope: 'local',
    Driver: name === 'host' ? 'host' : 'null',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
  };
}

/** POST /networks/create's body, the fields berth reads. */
export interface NetworkCreateRequest {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  CheckDuplicate?: boolean;
  IPAM?: {
    Driver?: string;
    Options?: Record<string, string> | null;
    Config?: { Subnet?: string; Gateway?: string; IPRange?: string; AuxiliaryAddresses?: Record<string, string> }[] | null;
  } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

const pluginNotFound = (name: string) => new ApiError(404, `plugin "${name}" not found`);

/**
 * The engine's create options for a Docker create request, and the warning Docker returns for what
 * it passed over. Docker's own option names map onto podman's (mtu, the bridge's name, macvlan's
 * parent and mode); an option with no meaning here is a warning, as podman's compat API gives it.
 */
export function networkCreateOptions(body: NetworkCreateRequest): { options: CreateNetworkOptions; warnings: string[] } {
  const name = body.Name ?? '';
  if (name === '') throw badRequest('invalid name: a network needs a Name');
  if (isPredefined(name)) throw new ApiError(403, `operation is not permitted on predefined ${name} network `);
  const driver = body.Driver || 'bridge';
  if (driver !== 'bridge' && driver !== 'macvlan') throw pluginNotFound(driver);
  if (body.Ingress) throw new ApiError(403, 'ingress networks need swarm, which berth does not run');
  if (body.ConfigOnly) throw badRequest('config-only networks are not supported');
  const ipamDriver = body.IPAM?.Driver;
  if (ipamDriver && ipamDriver !== 'default') throw pluginNotFound(ipamDriver);
  const warnings: string[] = [];
  const configs = (body.IPAM?.Config ?? []).filter((c) => c.Subnet || c.Gateway || c.IPRange);
  for (const c of configs) {
    if (!c.Subnet) throw badRequest('a gateway or IP range needs its subnet: berth picks a subnet only for a network that names none');
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) warnings.push(`auxiliary addresses of ${c.Subnet} are not reserved by berth`);
  }
  const options: Record<string, string> = {};
  let interfaceName: string | undefined;
  // Docker's bridges are isolated from one another (its DOCKER-ISOLATION chains): podman's isolate option.
  if (driver === 'bridge') options.isolate = 'true';
  for (const [key, value] of Object.entries(body.Options ?? {})) {
    switch (key) {
      case 'com.docker.network.driver.mtu':
      case 'mtu':
        options.mtu = value;
        break;
      case 'com.docker.network.bridge.name':
        if (driver === 'bridge') interfaceName = value;
        break;
      case 'parent':
      case 'macvlan_mode':
      case 'mode':
        if (driver === 'macvlan') options[key === 'parent' ? 'parent' : 'mode'] = value;
        else warnings.push(`"${key}: ${value}" is not a recognized option`);
        break;
      case 'isolate':
      case 'vlan':
      case 'metric':
        options[key] = value;
        break;
      default:
        warnings.push(`"${key}: ${value}" is not a recognized option`);
    }
  }
  return {
    options: {
      name,
      driver,
      subnets: configs.map((c) => c.Subnet!),
      gateways: configs.map((c) => c.Gateway ?? ''),
      ipRanges: configs.map((c) => c.IPRange ?? ''),
      ipv6: body.EnableIPv6 === true,
      internal: body.Internal === true,
      labels: body.Labels ?? {},
      options,
      ...(interfaceName !== undefined ? { interfaceName } : {}),
    },
    warnings,
  };
}
