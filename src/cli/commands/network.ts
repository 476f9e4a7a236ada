import { withStore } from '../../engine/index.js';
import {
  connectContainer,
  containersOn,
  createNetwork,
  disconnectContainer,
  getNetwork,
  listNetworks,
  type Network,
  networkDefinitions,
  networkFilter,
  pruneNetworks,
  reloadNetworks,
  removeNetwork,
} from '../../engine/networks/index.js';
import { latestContainer } from '../../engine/containers/index.js';
import { BerthError } from '../../util/errors.js';
import { parseKeyValues } from '../../util/key-values.js';
import { confirm } from '../confirm.js';
import { engineOptions, removalError, type GlobalOptions } from '../context.js';
import { log } from '../log.js';
import { formatOutput } from '../output/format.js';

/** A network as podman's Go struct names its fields: what `--format` templates see. */
function templateRow(n: Network): object {
  return {
    Name: n.name,
    ID: n.id,
    Driver: n.driver,
    NetworkInterface: n.network_interface,
    Created: n.created,
    Subnets: n.subnets.map((s) => ({ Subnet: s.subnet, Gateway: s.gateway ?? '', LeaseRange: s.lease_range ?? null })),
    IPv6Enabled: n.ipv6_enabled,
    Internal: n.internal,
    DNSEnabled: n.dns_enabled,
    Labels: n.labels ?? {},
    Options: n.options ?? {},
    IPAMOptions: n.ipam_options ?? {},
  };
}

/** podman's JSON for a network: its own file's fields, `labels`/`options` only when set. */
const jsonOf = (n: Network) => n;

export async function runCreate(
  g: GlobalOptions,
  name: string | undefined,
  f: {
    driver: string;
    subnet: string[];
    gateway: string[];
    ipRange: string[];
    ipv6?: boolean;
    internal?: boolean;
    disableDns?: boolean;
    interfaceName?: string;
    label: string[];
    opt: string[];
    ipamDriver?: string;
    ignore?: boolean;
  },
): Promise<void> {
  if (f.ipamDriver !== undefined && f.ipamDriver !== 'host-local')
    throw new BerthError('USAGE', `unsupported ipam driver "${f.ipamDriver}": berth has host-local only`);
  const options = parseKeyValues(f.opt);
  await withStore(engineOptions(g), async (store) => {
    const n = await createNetwork(store, {
      ...(name !== undefined ? { name } : {}),
      driver: f.driver,
      subnets: f.subnet,
      gateways: f.gateway,
      ipRanges: f.ipRange,
      ipv6: f.ipv6 === true,
      internal: f.internal === true,
      disableDns: f.disableDns === true,
      ...(f.interfaceName !== undefined ? { interfaceName: f.interfaceName } : {}),
      labels: parseKeyValues(f.label),
      options,
      ignoreExisting: f.ignore === true,
    });
    process.stdout.write(`${n.name}\n`);
  });
}

export async function runList(
  g: GlobalOptions,
  f: { filter: string[]; format?: string; trunc?: boolean; noheading?: boolean; quiet?: boolean },
): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const containers = await store.containers();
    const keep = networkFilter(f.filter, (n) => containersOn(containers, n.name).length > 0);
    const networks = (await listNetworks(store)).filter(keep);
    if (f.quiet) {
      process.stdout.write(networks.map((n) => `${n.name}\n`).join(''));
      return;
    }
    const rows = networks.map((n) => ({ ...templateRow(n), ID: f.trunc === false ? n.id : n.id.slice(0, 12) }));
    process.stdout.write(
      formatOutput(f.format, rows, {
        defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}',
        headers: {
          ID: 'NETWORK ID',
          Name: 'NAME',
          Driver: 'DRIVER',
          NetworkInterface: 'NETWORK INTERFACE',
          Created: 'CREATED',
          Subnets: 'SUBNETS',
          IPv6Enabled: 'IPV6',
          Internal: 'INTERNAL',
          DNSEnabled: 'DNS',
          Labels: 'LABELS',
          Options: 'OPTIONS',
          IPAMOptions: 'IPAM OPTIONS',
        },
        ...(f.noheading ? { noHeading: true } : {}),
        json: () => networks.map(jsonOf),
        name: 'network ls',
      }),
    );
  });
}

export async function runInspect(g: GlobalOptions, names: string[], f: { format?: string }): Promise<void> {
  await withStore(engineOptions(g), async (store) => {
    const found: Network[] = [];
    const missing: string[] = [];
    for (const name of names) {
      try {
        found.push(await getNetwork(store, name));
      } catch (e) {
        if ((e as BerthError).code !== 'NETWORK_UNKNOWN') throw e;
        missing.push(name);
      }
    }
    if (!f.format || f.format === 'json') process.stdout.write(`${JSON.stringify(found.map(jsonOf), null, '     ')}\n`);
    else process.stdout.write(formatOutput(f.format, found.map(templateRow), { defaultTable: '', headers: {}, name: 'network inspect' }));
    if (missing.length > 0)
      throw new BerthError('NETWORK_UNKNOWN', missing.map((m) => `network ${m}: unable to find network with name or ID ${m}: network not found`).join('\n'));
  });
}

export async function runRemove(g: GlobalOptions, names: string[], f: { force?: boolean; time?: string }): Promise<void> {
  const timeout = f.time === undefined ? undefined : Number(f.time);
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 0))
    throw new BerthError('USAGE', `invalid --time "${f.time}": must be a whole number of seconds`);
  await withStore(engineOptions(g), async (store) => {
    const errors: unknown[] = [];
    for (const name of names) {
      try {
        const n = await removeNetwork(store, name, { force: f.force === true, ...(timeout !== undefined ? { timeout } : {}), warn: (m) => log('warn', m) });
        process.stdout.write(`${n.name}\n`);
      } catch (e) {
        if (!(e instanceof BerthError)) throw e;
        // podman's --force passes over a network that does not exist, silently.
        if (f.force && e.code === 'NETWORK_UNKNOWN') continue;
        // podman goes on with the others and reports each failure; the last one is the error.
        if (errors.length) process.stderr.write(`Error: ${(errors.at(-1) as BerthError).message}\n`);
        errors.push(e);
      }
    }
    if (errors.length) throw removalError(errors);
  });
}

export async function runPrune(g: GlobalOptions, f: { force?: boolean; filter: string[] }): Promise<void> {
  if (
    !(await confirm('network prune', 'WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ', {
      force: f.force === true,
    }))
  )
    return;
  await withStore(engineOptions(g), async (store) => {
    const keepFilter = f.filter.length ? networkFilter(f.filter, () => false) : () => true;
    for (const name of await pruneNetworks(store, (n) => !keepFilter(n))) process.stdout.write(`${name}\n`);
  });
}

export async function runExists(g: GlobalOptions, name: string): Promise<number> {
  return withStore(engineOptions(g), async (store) => ((await networkDefinitions(store).find(name)) ? 0 : 1));
}

export async function runConnect(
  g: GlobalOptions,
  network: string,
  container: string,
  f: { alias: string[]; ip?: string; ip6?: string; macAddress?: string },
): Promise<void> {
  await withStore(engineOptions(g), (store) =>
    connectContainer(store, network, container, {
      aliases: f.alias.flatMap((a) => a.split(',')),
      ...(f.ip !== undefined ? { ip: f.ip } : {}),
      ...(f.ip6 !== undefined ? { ip6: f.ip6 } : {}),
      ...(f.macAddress !== undefined ? { mac: f.macAddress } : {}),
    }),
  );
}

export async function runDisconnect(g: GlobalOptions, network: string, container: string): Promise<void> {
  await withStore(engineOptions(g), (store) => disconnectContainer(store, network, container));
}

export async function runReload(g: GlobalOptions, containers: string[], f: { all?: boolean; latest?: boolean }): Promise<void> {
  if (!f.all && !f.latest && containers.length === 0) throw new BerthError('USAGE', 'network reload needs containers, --all or --latest');
  await withStore(engineOptions(g), async (store) => {
    const targets = f.all ? 'all' : f.latest ? [latestContainer(await store.containers()).id] : containers;
    for (const id of await reloadNetworks(store, targets)) process.stdout.write(`${id}\n`);
  });
}
