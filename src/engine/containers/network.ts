import { readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ContainerNetworkConfig, ContainerNetworkState, ContainerRecord, NameResolution } from '../../store/containers.js';
import { BerthError } from '../../util/errors.js';
import type { ContainerPaths } from './paths.js';
import { forwardedAddresses } from './user-network.js';

/** The kernel's HOST_NAME_MAX: sethostname refuses a longer name. */
const HOSTNAME_MAX = 64;
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;

/**
 * A container's host name, checked before it is written into /etc/hosts and /etc/hostname: a
 * newline or space there would add lines or names of the caller's choosing. RFC 1123 labels
 * (letters, digits, hyphens; underscores too, which resolvers and podman users rely on), joined
 * by dots, and no longer than the kernel takes.
 */
export function validateHostname(name: string): string {
  const shown = JSON.stringify(name);
  if (name.length > HOSTNAME_MAX) throw new BerthError('USAGE', `invalid hostname ${shown}: must be at most ${HOSTNAME_MAX} characters`);
  if (!HOSTNAME.test(name)) {
    throw new BerthError(
      'USAGE',
      `invalid hostname ${shown}: must be letters, digits, '-' and '_' in dot-separated labels that neither start nor end with '-'`,
    );
  }
  return name;
}

/** A value shown in a message on one line: as given, or quoted with escapes when it holds a control character. */
const oneLine = (v: string) => (/[\x00-\x1f\x7f]/.test(v) ? JSON.stringify(v) : v);

/** podman's domain rule for --dns-search: RFC 1123 labels, an optional final dot. */
const DOMAIN = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])\.?$/;

/**
 * --add-host, --dns, --dns-search and --dns-option, checked as podman checks them (and in its
 * words) before they reach /etc/hosts and resolv.conf, where a newline would add lines. Returns
 * undefined when none was given.
 */
/** `--add-host NAME:host-gateway` names the host's address as the container reaches it. */
const HOST_GATEWAY = 'host-gateway';

export function parseNameResolution(
  flags: { addHosts?: string[]; dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] },
  network: string | undefined,
): NameResolution | undefined {
  const extraHosts = (flags.addHosts ?? []).map((spec) => {
    const colon = spec.indexOf(':');
    const host = colon === -1 ? '' : spec.slice(0, colon);
    const ip = spec.slice(colon + 1);
    if (host === '' || !HOSTNAME.test(host) || host.length > 253) throw new BerthError('USAGE', `bad format for add-host: ${JSON.stringify(spec)}`);
    // `host-gateway`: the host as the container reaches it, known at start (docker's and podman's word).
    if (ip !== HOST_GATEWAY && isIP(ip) === 0) throw new BerthError('USAGE', `invalid IP address in add-host: ${JSON.stringify(ip)}`);
    return { host, ip };
  });
  const servers = flags.dns ?? [];
  for (const ip of servers) if (isIP(ip) === 0) throw new BerthError('USAGE', `${oneLine(ip)} is not an ip address`);
  if (servers.length > 0 && network === 'none') throw new BerthError('USAGE', 'conflicting options: dns and the network mode: none');
  const search = flags.dnsSearch ?? [];
  for (const domain of search) if (domain !== '.' && !DOMAIN.test(domain)) throw new BerthError('USAGE', `${oneLine(domain)} is not a valid domain`);
  if (search.includes('.') && search.length > 1) throw new BerthError('USAGE', "cannot pass additional search domains when also specifying '.'");
  const options = flags.dnsOptions ?? [];
  for (const o of options) if (/[\x00-\x1f\x7f]/.test(o) || o.trim() === '') throw new BerthError('USAGE', `invalid dns option ${JSON.stringify(o)}`);
  if (extraHosts.length + servers.length + search.length + options.length === 0) return undefined;
  return { extraHosts, servers, search, options };
}

/** The nameservers, search domains and options lines of a resolv.conf. */
function resolvLines(text: string, keyword: string): string[] {
  return text.split('\n').filter((l) => new RegExp(`^${keyword}\\s`).test(l));
}

/**
 * resolv.conf: the host's (slirp4netns's DNS forwarder before them with slirp, as podman 4 writes
 * it; aardvark-dns first on a network with DNS, with its `dns.podman` search domain), with --dns,
 * --dns-search and --dns-option replacing the nameserver, search and options lines as podman replaces them.
 */
function resolvConf(
  hostResolv: string,
  mode: ContainerNetworkConfig['mode'],
  r: NameResolution | undefined,
  net: ContainerNetworkState | undefined,
  first: string[],
): string {
  const hostServers = resolvLines(hostResolv, 'nameserver').filter((l) => mode === 'host' || !/^nameserver\s+127\./.test(l));
  const servers = r?.servers.length ? r.servers.map((ip) => `nameserver ${ip}`) : [...first.map((ip) => `nameserver ${ip}`), ...hostServers];
  const blocks = Object.values(net?.networks ?? {})
    .filter((n) => n.network.dns_enabled)
    .map((n) => n.status);
  const dnsServers = [...new Set(blocks.flatMap((b) => b.dns_server_ips ?? []))].map((ip) => `nameserver ${ip}`);
  const dnsSearch = [...new Set(blocks.flatMap((b) => b.dns_search_domains ?? []))];
  const hostSearch = resolvLines(hostResolv, 'search').flatMap((l) => l.split(/\s+/).slice(1));
  const search = r?.search.length ? (r.search[0] === '.' ? [] : [...dnsSearch, ...r.search]) : [...dnsSearch, ...hostSearch];
  const options = r?.options.length ? [`options ${r.options.join(' ')}`] : resolvLines(hostResolv, 'options');
  // aardvark-dns answers the names and forwards the rest (to --dns servers when given).
  const nameservers = dnsServers.length ? [...dnsServers, ...(r?.servers.length ? [] : servers)] : servers;
  return `${[...(search.length ? [`search ${[...new Set(search)].join(' ')}`] : []), ...new Set(nameservers), ...options].join('\n')}\n`;
}

/** The container's own addresses on its networks, first network first (for /etc/hosts). */
function ownAddresses(net: ContainerNetworkState): string[] {
  return Object.values(net.networks).flatMap((n) =>
    Object.values(n.status.interfaces ?? {}).flatMap((i) => (i.subnets ?? []).map((s) => s.ipnet.split('/')[0]!)),
  );
}

/** The host as a bridge container reaches it: its first network's gateway (podman's host.containers.internal). */
function bridgeGateway(net: ContainerNetworkState): string | undefined {
  for (const n of Object.values(net.networks)) {
    for (const i of Object.values(n.status.interfaces ?? {})) for (const s of i.subnets ?? []) if (s.gateway && !s.gateway.includes(':')) return s.gateway;
  }
  return undefined;
}

/**
 * /etc/hosts, /etc/resolv.conf and /etc/hostname for the container, written into its bundle.
 * `net`: what netavark set up (bridge); `shared`: the container uses another's hosts and
 * resolv.conf (`container:ID`), so only its hostname is its own.
 */
export async function writeEtcFiles(c: ContainerRecord, paths: ContainerPaths, net?: ContainerNetworkState, shared = false): Promise<void> {
  // A record written before create checked it must not inject lines either.
  validateHostname(c.config.hostname);
  if (shared) {
    await writeFile(paths.hostname, `${c.config.hostname}\n`);
    return;
  }
  const { mode } = c.config.network;
  const forwarded = mode === 'slirp4netns' || mode === 'pasta' ? forwardedAddresses(c.config.network) : undefined;
  const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const resolv = resolvConf(hostResolv, mode, c.config.nameResolution, net, forwarded?.dns ?? []);
  // The host as the container reaches it, under podman's names: the bridge's gateway, as a
  // user-mode forwarder shows it, the loopback when the container shares its network; with none there is no host.
  const hostAddress = forwarded ? forwarded.host : net ? bridgeGateway(net) : mode === 'host' ? '127.0.0.1' : undefined;
  // --add-host lines come first, as podman writes them (a host-gateway one only where there is a host to reach).
  const extra = (c.config.nameResolution?.extraHosts ?? [])
    .flatMap(({ host, ip }) => {
      const address = ip === HOST_GATEWAY ? hostAddress : ip;
      return address ? [`${address}\t${host}\n`] : [];
    })
    .join('');
  const base =
    mode === 'host'
      ? await readFile('/etc/hosts', 'utf8').catch(() => '')
      : '127.0.0.1\tlocalhost localhost.localdomain\n::1\tlocalhost localhost.localdomain\n';
  const names = `${c.config.hostname} ${c.name}`;
  const addresses = forwarded?.container ? [forwarded.container] : net ? ownAddresses(net) : [];
  const own = addresses.length ? addresses.map((ip) => `${ip}\t${names}\n`).join('') : `127.0.1.1\t${names}\n`;
  const host = hostAddress ? `${hostAddress}\thost.containers.internal host.docker.internal\n` : '';
  await Promise.all([
    writeFile(paths.hosts, `${extra}${base.trimEnd()}\n${own}${host}`),
    writeFile(paths.resolvConf, resolv),
    writeFile(paths.hostname, `${c.config.hostname}\n`),
  ]);
}

export function stopHelpers(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
