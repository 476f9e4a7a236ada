// The Docker API's /networks routes over engine/networks: list, inspect, create, remove, connect,
// disconnect, prune. Docker's names and shapes come from ../network-json.ts (the default network
// is "bridge" here; host and none are listed as dockerd lists them).
import {
  DEFAULT_NETWORK,
  connectContainer,
  containersOn,
  createNetwork,
  disconnectContainer,
  getNetwork,
  listNetworks,
  networkFilter,
  pruneNetworks,
  removeNetwork,
  type ContainerRecord,
  type FilterableNetwork,
  type Network,
} from '../../engine/index.js';
import { BerthError } from '../../util/errors.js';
import type { ApiApp, ApiContext, UpgradeRoute } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { filterArgs, parseFilters, type Filters } from '../filters.js';
import { jsonObject } from '../json-body.js';
import {
  dockerNetwork,
  dockerNetworkName,
  engineNetworkName,
  isPredefined,
  networkCreateOptions,
  pseudoNetwork,
  pseudoNetworkId,
  type DockerNetwork,
  type NetworkCreateRequest,
  type PseudoNetwork,
} from '../shapes/network-json.js';

const PSEUDO: readonly PseudoNetwork[] = ['host', 'none'];
const LIST_FILTERS = new Set(['name', 'id', 'label', 'driver', 'type', 'dangling', 'scope']);
const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

function checkKeys(filters: Filters, allowed: Set<string>): void {
  for (const key of Object.keys(filters)) if (!allowed.has(key)) throw badRequest(`Invalid filter '${key}'`);
}

/** What a request's network names: one of berth's networks, or host or none. */
type Resolved = { kind: 'network'; network: Network } | { kind: 'pseudo'; name: PseudoNetwork; id: string };

export function networkRoutes(app: ApiApp, ctx: ApiContext): UpgradeRoute[] {
  const pseudoId = (name: PseudoNetwork) => pseudoNetworkId(ctx.store.root, name);
  const pseudoCreated = () => ctx.startedAt.toISOString();

  async function resolve(ref: string): Promise<Resolved> {
    for (const name of PSEUDO) {
      const id = pseudoId(name);
      if (ref === name || ref === id || (ref.length >= 12 && id.startsWith(ref))) return { kind: 'pseudo', name, id };
    }
    return { kind: 'network', network: await getNetwork(ctx.store, engineNetworkName(ref)) };
  }

  const show = (r: Resolved, containers: readonly ContainerRecord[], created: string): DockerNetwork =>
    r.kind === 'pseudo' ? pseudoNetwork(r.name, r.id, created) : dockerNetwork(r.network, containers);

  app.get('/networks', async (c) => {
    const filters = parseFilters(c.req.query('filters'));
    checkKeys(filters, LIST_FILTERS);
    const [networks, containers] = await Promise.all([listNetworks(ctx.store), ctx.store.containers()]);
    const created = networks.find((n) => n.name === DEFAULT_NETWORK)?.created ?? pseudoCreated();
    const all = [...networks.map((n) => dockerNetwork(n, containers)), ...PSEUDO.map((name) => pseudoNetwork(name, pseudoId(name), created))];
    // type and scope are Docker's alone (its predefined networks; swarm's scopes); the rest are podman's filters, which the engine reads.
    const { type = [], scope = [], ...rest } = filters;
    for (const t of type) if (t !== 'custom' && t !== 'builtin') throw badRequest(`invalid filter: 'type'='${t}'`);
    const inUse = (n: FilterableNetwork) => isPredefined(n.name) || containersOn(containers, engineNetworkName(n.name)).length > 0;
    const keep = networkFilter<FilterableNetwork>(filterArgs(rest), inUse);
    const shown = all.filter(
      (n) =>
        keep({ name: n.Name, id: n.Id, created: n.Created, labels: n.Labels, driver: n.Driver }) &&
        (type.length === 0 || type.includes(isPredefined(n.Name) ? 'builtin' : 'custom')) &&
        (scope.length === 0 || scope.includes('local')),
    );
    return c.json(shown);
  });

  app.get('/networks/:id', async (c) => {
    const scope = c.req.query('scope');
    if (scope !== undefined && scope !== '' && scope !== 'local') throw new ApiError(404, `network ${c.req.param('id')} not found`);
    const r = await resolve(c.req.param('id'));
    const containers = r.kind === 'network' ? await ctx.store.containers() : [];
    return c.json(show(r, containers, pseudoCreated()));
  });

  app.post('/networks/create', async (c) => {
    const { options, warnings } = networkCreateOptions(jsonObject(await c.req.text()) as NetworkCreateRequest);
    let network: Network;
    try {
      network = await createNetwork(ctx.store, options);
    } catch (e) {
      // A name berth holds (its default network, which clients see as bridge) is Docker's duplicate name.
      if (e instanceof BerthError && e.code === 'NETWORK_EXISTS') throw new ApiError(409, `network with name ${options.name} already exists`);
      throw e;
    }
    return c.json({ Id: network.id, Warning: warnings.join('; ') }, 201);
  });

  app.delete('/networks/:id', async (c) => {
    const r = await resolve(c.req.param('id'));
    const name = r.kind === 'pseudo' ? r.name : dockerNetworkName(r.network.name);
    if (r.kind === 'pseudo' || r.network.name === DEFAULT_NETWORK) throw new ApiError(403, `${name} is a pre-defined network and cannot be removed`);
    try {
      await removeNetwork(ctx.store, r.network.name);
    } catch (e) {
      // dockerd refuses a network in use with 403, naming it by name and ID.
      if (e instanceof BerthError && e.code === 'NETWORK_IN_USE')
        throw new ApiError(403, `error while removing network: network ${name} id ${r.network.id} has active endpoints`);
      throw e;
    }
    return c.body(null, 204);
  });

  app.post('/networks/:id/connect', async (c) => {
    const body = jsonObject(await c.req.text()) as {
      Container?: string;
      EndpointConfig?: {
        Aliases?: string[] | null;
        IPAddress?: string;
        MacAddress?: string;
        IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
      } | null;
    };
    if (!body.Container) throw badRequest('a Container to connect is needed');
    const r = await resolve(c.req.param('id'));
    if (r.kind === 'pseudo') throw badRequest(`container cannot be disconnected from ${r.name} network or connected to ${r.name} network`);
    const ep = body.EndpointConfig ?? {};
    const ip = ep.IPAMConfig?.IPv4Address || ep.IPAddress;
    const ip6 = ep.IPAMConfig?.IPv6Address;
    try {
      await connectContainer(ctx.store, r.network.name, body.Container, {
        aliases: ep.Aliases ?? [],
        ...(ip ? { ip } : {}),
        ...(ip6 ? { ip6 } : {}),
        ...(ep.MacAddress ? { mac: ep.MacAddress } : {}),
      });
    } catch (e) {
      // Already on the network: dockerd's 403 ("endpoint ... already exists").
      if (e instanceof BerthError && e.code === 'NETWORK') throw new ApiError(403, e.message);
      throw e;
    }
    return c.body(null, 200);
  });

  app.post('/networks/:id/disconnect', async (c) => {
    const body = jsonObject(await c.req.text()) as { Container?: string; Force?: boolean };
    if (!body.Container) throw badRequest('a Container to disconnect is needed');
    const r = await resolve(c.req.param('id'));
    if (r.kind === 'pseudo') throw badRequest(`container cannot be disconnected from ${r.name} network or connected to ${r.name} network`);
    await disconnectContainer(ctx.store, r.network.name, body.Container);
    return c.body(null, 200);
  });

  app.post('/networks/prune', async (c) => {
    const filters = parseFilters(c.req.query('filters'));
    checkKeys(filters, PRUNE_FILTERS);
    const matches = networkFilter<FilterableNetwork>(filterArgs(filters), () => false);
    const removed = await pruneNetworks(ctx.store, (n) => !matches(n));
    return c.json({ NetworksDeleted: removed.map(dockerNetworkName) });
  });

  return [];
}
