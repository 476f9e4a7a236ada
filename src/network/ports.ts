/**
 * Published ports as podman 4 (4.3) takes them: `-p/--publish`, `--expose`, the image's EXPOSE and
 * `-P` turned into netavark's port mappings, and the conflicts between them. Host ports are
 * checked and picked at start (`port-assignment.ts`) and printed by `port-output.ts`. Error lines
 * are podman's words (Go's lower-case style).
 *
 * Nothing here knows containers or the store: the caller passes the mappings of other running
 * containers (`taken`) where they matter.
 */
import { isIP } from 'node:net';
import { BerthError } from '../util/errors.js';
import type { PortMapping } from './types.js';

export type PortProtocol = PortMapping['protocol'];

/** One exposed port of a container (`--expose`, the image's EXPOSE): no host side. */
export interface ExposedPort {
  port: number;
  protocol: PortProtocol;
}

/** One entry of inspect's `NetworkSettings.Ports` (and `HostConfig.PortBindings`). */
export interface InspectHostPort {
  HostIp: string;
  HostPort: string;
}

/** The highest TCP/UDP port. */
export const MAX_PORT = 65535;

/** A port flag's error: podman's line, exit 125. */
export function usage(message: string): BerthError {
  return new BerthError('USAGE', message);
}

/** Go's `%q` for the ASCII a port spec is made of. */
export function quote(s: string): string {
  return JSON.stringify(s);
}

// ---- parsing ---------------------------------------------------------------------------------

/** strconv.Atoi as Go reports it: an optional sign, decimal digits, int64. */
function goAtoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw usage(`invalid port number: strconv.Atoi: parsing ${quote(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) {
    throw usage(`invalid port number: strconv.Atoi: parsing ${quote(s)}: value out of range`);
  }
  return Number(n);
}

function parsePort(s: string): number {
  const n = goAtoi(s);
  if (n < 1 || n > MAX_PORT) throw usage(`port numbers must be between 1 and 65535 (inclusive), got ${n}`);
  return n;
}

/** `start[-end]`: the first port and how many. */
function parseRange(s: string): { start: number; range: number } {
  const parts = s.split('-');
  if (parts.length > 2) throw usage('invalid port format - port ranges are formatted as startPort-stopPort');
  // podman's words for an empty start, `-80` included.
  if (parts[0] === '') throw usage('port numbers cannot be negative');
  const start = parsePort(parts[0]!);
  if (parts.length === 1) return { start, range: 1 };
  if (parts[1] === '') throw usage('must provide ending number for port range');
  const end = parsePort(parts[1]!);
  if (end <= start) throw usage(`the end port of a range must be higher than the start port - ${end} is not higher than ${start}`);
  return { start, range: end - start + 1 };
}

/** Prefixes the message of a port error, as podman wraps it with `%w`. */
function within<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BerthError) throw usage(`${prefix}: ${e.message}`);
    throw e;
  }
}

/**
 * A comma-separated protocol list, deduplicated, in podman's words. Case does not matter and an
 * empty item means tcp. SCTP is refused for exposed ports, as podman 4.3 does.
 */
function parseProtocols(list: string, allowSctp: boolean): PortProtocol[] {
  const out: PortProtocol[] = [];
  for (const raw of list.split(',')) {
    const p = raw.toLowerCase();
    let proto: PortProtocol;
    if (p === 'tcp' || p === '') proto = 'tcp';
    else if (p === 'udp') proto = 'udp';
    else if (p === 'sctp') {
      if (!allowSctp) throw usage('protocol SCTP is not allowed for exposed ports');
      proto = 'sctp';
    } else throw usage(`unrecognized protocol ${quote(p)} in port mapping`);
    if (!out.includes(proto)) out.push(proto);
  }
  return out;
}

/**
 * An IP address as Go's net.ParseIP takes it and IP.String prints it: strict dotted IPv4, IPv6
 * without a zone, compressed (RFC 5952); an IPv4-mapped IPv6 address prints as IPv4. Undefined
 * when it is not an address.
 */
function canonicalIp(s: string): string | undefined {
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6 || s.includes('%')) return undefined;
  // The URL parser serialises IPv6 as Go does: lower case, the first longest zero run compressed.
  const v6 = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
  if (!mapped) return v6;
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/**
 * Whether a mapping's host address (canonical, as `parsePublish` leaves it; '' for every IPv4
 * address) is IPv6. Not `isIP`: for '' it runs Node's IPv6 pattern, whose first use costs a
 * container's start with `-p` ~4 ms.
 */
export function isIPv6Mapping(hostIp: string): boolean {
  return hostIp.includes(':');
}

/**
 * One `-p/--publish` spec, `[[hostIP:][hostPort]:]containerPort[/protocol]`, as mappings: one per
 * protocol (`tcp,udp` gives two, as podman's API takes it; its CLI splits a `-p` value at commas
 * first, a pflag string slice, so there `-p 80,443` is two specs and `/tcp,udp` fails at `udp`). Either side may be a range (`8000-8010:80-90`); no host port, or
 * an empty one (`127.0.0.1::80`), means a random one: host_port 0. An IPv6 host address goes in
 * brackets (`[::1]:8080:80`). A host IP of 0.0.0.0 is kept as '' (every address), as podman does.
 */
export function parsePublish(spec: string): PortMapping[] {
  const slash = spec.split('/');
  if (slash.length > 2) throw usage('invalid port format - protocol can only be specified once');
  const protoText = slash[1];
  let rest = slash[0]!;

  let hostIp: string | undefined;
  let hostPortText: string | undefined;
  let ctrText: string;
  const bracket = rest.split(']');
  if (bracket.length > 2) throw usage('invalid port format - at most one IPv6 address can be specified in a --publish');
  const haveV6 = bracket.length === 2;
  if (haveV6) {
    if (!bracket[0]!.startsWith('[')) throw usage('invalid port format - IPv6 addresses must be enclosed by []');
    if (!bracket[1]!.startsWith(':')) throw usage("invalid port format - IPv6 address must be followed by a colon (':')");
    hostIp = bracket[0]!.slice(1);
    rest = bracket[1]!.slice(1);
  }
  const colon = rest.split(':');
  if (colon.length === 1) {
    if (haveV6) throw usage('invalid port format - must provide host and destination port if specifying an IP');
    ctrText = colon[0]!;
  } else if (colon.length === 2) {
    [hostPortText, ctrText] = colon as [string, string];
  } else if (colon.length === 3) {
    if (haveV6) throw usage('invalid port format - when v6 address specified, must be [ipv6]:hostPort:ctrPort');
    [hostIp, hostPortText, ctrText] = colon as [string, string, string];
  } else {
    throw usage('invalid port format - format is [[hostIP:]hostPort:]containerPort');
  }

  if (ctrText === '') throw usage('must provide a non-empty container port to publish');
  const ctr = within('parsing container port', () => parseRange(ctrText));
  if (protoText === '') throw usage('must provide a non-empty protocol to publish');

  let host_ip = '';
  if (hostIp !== undefined) {
    if (hostIp === '') throw usage('must provide a non-empty container host IP to publish');
    if (hostIp !== '0.0.0.0') {
      const ip = canonicalIp(hostIp);
      if (ip === undefined) throw usage(`cannot parse ${quote(hostIp)} as an IP address`);
      host_ip = ip;
    }
  }
  let host_port = 0;
  if (hostPortText !== undefined && hostPortText !== '') {
    const host = within('parsing host port', () => parseRange(hostPortText));
    if (host.range !== ctr.range) {
      throw usage(`host and container port ranges have different lengths: ${host.range} vs ${ctr.range}`);
    }
    host_port = host.start;
  }
  return parseProtocols(protoText ?? 'tcp', true).map((protocol) => ({
    host_ip,
    container_port: ctr.start,
    host_port,
    range: ctr.range,
    protocol,
  }));
}

function addExposed(out: ExposedPort[], port: number, protocol: PortProtocol): void {
  if (!out.some((e) => e.port === port && e.protocol === protocol)) out.push({ port, protocol });
}

/**
 * `port[-end][/proto[,proto]]` into `out`, in podman's words. `prefix` wraps the format errors only:
 * podman checks the protocols later, with their own prefix, for `--expose` and EXPOSE alike.
 */
function exposeInto(out: ExposedPort[], value: string, prefix?: string): void {
  const format = (): { start: number; range: number } => {
    const slash = value.split('/');
    if (slash.length > 2) throw usage('invalid expose format - protocol can only be specified once');
    return parseRange(slash[0]!);
  };
  const { start, range } = prefix === undefined ? format() : within(prefix, format);
  const protoText = value.split('/')[1] ?? 'tcp';
  const protocols = within(`validating protocols for exposed port ${start}`, () => parseProtocols(protoText, false));
  for (let i = 0; i < range; i++) for (const p of protocols) addExposed(out, start + i, p);
}

/**
 * `--expose` values (`80`, `80/udp`, `8000-8010/tcp`): one entry per port and protocol, duplicates
 * dropped, in the order given. Commas separate values (`--expose 80,443`), as podman's flag is a
 * pflag string slice; so `53/tcp,udp` is refused at `udp` here, as by podman.
 */
export function parseExpose(values: readonly string[]): ExposedPort[] {
  const out: ExposedPort[] = [];
  for (const v of values.flatMap((v) => v.split(','))) exposeInto(out, v);
  return out;
}

/** An image config's `ExposedPorts` keys (`80/tcp`; `80` means tcp) as exposed ports. */
export function exposedFromImage(exposedPorts: Record<string, unknown> | null | undefined): ExposedPort[] {
  const out: ExposedPort[] = [];
  for (const key of Object.keys(exposedPorts ?? {})) exposeInto(out, key, 'unable to convert image EXPOSE');
  return out;
}

/**
 * `-P`: the explicit mappings followed by one for each exposed port that no explicit mapping
 * publishes (same container port and protocol, any host address), each on every host address with
 * a random host port (host_port 0), one port each, as podman does.
 */
export function publishAllMappings(exposed: readonly ExposedPort[], explicit: readonly PortMapping[]): PortMapping[] {
  const published = (e: ExposedPort): boolean =>
    explicit.some((m) => m.protocol === e.protocol && m.container_port <= e.port && e.port < m.container_port + m.range);
  const added = exposed
    .filter((e) => !published(e))
    .map((e): PortMapping => ({ host_ip: '', container_port: e.port, host_port: 0, range: 1, protocol: e.protocol }));
  return [...explicit, ...added];
}

// ---- conflicts -------------------------------------------------------------------------------

/** Whether two host addresses of mappings share an address: '' is every address, '::' every IPv6 one. */
function addressesOverlap(a: string, b: string): boolean {
  if (a === b || a === '' || b === '') return true;
  const any = (ip: string, family: number): boolean => (family === 4 ? ip === '0.0.0.0' : ip === '::');
  const fa = isIP(a);
  const fb = isIP(b);
  return fa === fb && (any(a, fa) || any(b, fb));
}

function hostPortsOverlap(a: PortMapping, b: PortMapping): boolean {
  return a.host_port < b.host_port + b.range && b.host_port < a.host_port + a.range;
}

/** Two mappings that hold a host port in common: same protocol, addresses and ports overlapping. */
export function clash(a: PortMapping, b: PortMapping): boolean {
  return a.protocol === b.protocol && addressesOverlap(a.host_ip, b.host_ip) && hostPortsOverlap(a, b);
}

/**
 * Checks that no host address, port and protocol is published twice to different container ports,
 * and returns the mappings as podman keeps them: repeats of one mapping, and mappings that overlap
 * or adjoin with the same host-to-container offset on the same address, joined into one (so
 * `-p 8080:80 -p 8081:81` is one range); host_port 0 mappings whose container ports overlap joined
 * too. Grouped by address and protocol (first seen first), sorted by host port, random ones last.
 * The error is podman's: `conflicting port mappings for host port 8080 (protocol tcp)`.
 */
export function checkConflicts(mappings: readonly PortMapping[]): PortMapping[] {
  const groups = new Map<string, PortMapping[]>();
  for (const m of mappings) {
    const key = `${m.host_ip}/${m.protocol}`;
    groups.set(key, [...(groups.get(key) ?? []), { ...m, range: Math.max(1, m.range) }]);
  }
  const out: PortMapping[] = [];
  for (const group of groups.values()) {
    const fixed = group.filter((m) => m.host_port !== 0).sort((a, b) => a.host_port - b.host_port || a.container_port - b.container_port);
    out.push(
      ...joinRuns(fixed, (prev, m) => m.host_port <= prev.host_port + prev.range && m.host_port - prev.host_port === m.container_port - prev.container_port),
    );
    const random = group.filter((m) => m.host_port === 0).sort((a, b) => a.container_port - b.container_port);
    out.push(...joinRuns(random, (prev, m) => m.container_port < prev.container_port + prev.range));
  }
  // What overlaps after joining maps one host port to two container ports: on one address, or on
  // two that share one ('' is every address, 127.0.0.1 among them).
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) {
      const a = out[i]!;
      const b = out[j]!;
      if (a.host_port !== 0 && b.host_port !== 0 && clash(a, b)) throw conflict(Math.max(a.host_port, b.host_port), a.protocol);
    }
  }
  return out;
}

/** Joins each mapping of a sorted list into the one before when `joins` says it continues it. */
function joinRuns(sorted: readonly PortMapping[], joins: (prev: PortMapping, m: PortMapping) => boolean): PortMapping[] {
  const out: PortMapping[] = [];
  for (const m of sorted) {
    const prev = out.at(-1);
    // m starts at or after prev: the run now reaches the further of their two ends.
    if (prev && joins(prev, m)) prev.range = Math.max(prev.range, m.container_port - prev.container_port + m.range);
    else out.push(m);
  }
  return out;
}

function conflict(hostPort: number, protocol: PortProtocol): BerthError {
  return usage(`conflicting port mappings for host port ${hostPort} (protocol ${protocol})`);
}
