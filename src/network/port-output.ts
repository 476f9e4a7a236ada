/**
 * Published ports printed as podman 4.3 prints them: `ps`' PORTS column, inspect's
 * `NetworkSettings.Ports` and `port`'s lines.
 */
import { checkConflicts, MAX_PORT, quote, usage, type ExposedPort, type InspectHostPort } from './ports.js';
import type { PortMapping } from './types.js';
import { compareStrings } from '../util/compare.js';

/** The host address as podman prints it: '' is 0.0.0.0; IPv6 without brackets, as podman 4.3. */
function shownIp(hostIp: string): string {
  return hostIp === '' ? '0.0.0.0' : hostIp;
}

/**
 * The PORTS column of `ps`: `0.0.0.0:8080->80/tcp, 127.0.0.1:9000-9001->9000-9001/udp`. Mappings
 * that continue one another (same address, protocol and offset) show as one range, as podman shows
 * them after joining them at create.
 */
export function formatPortsForPs(mappings: readonly PortMapping[]): string {
  const joined = joinForDisplay(mappings);
  return joined
    .map((m) => {
      const ip = shownIp(m.host_ip);
      if (m.range > 1) {
        return `${ip}:${m.host_port}-${m.host_port + m.range - 1}->${m.container_port}-${m.container_port + m.range - 1}/${m.protocol}`;
      }
      return `${ip}:${m.host_port}->${m.container_port}/${m.protocol}`;
    })
    .join(', ');
}

/** Like checkConflicts' joining, but never failing: output must show whatever is stored. */
function joinForDisplay(mappings: readonly PortMapping[]): PortMapping[] {
  try {
    return checkConflicts(mappings);
  } catch {
    return mappings.map((m) => ({ ...m }));
  }
}

/**
 * inspect's `NetworkSettings.Ports`: one key per container port and protocol (`80/tcp`; every
 * port of a range its own), each with its host bindings (`HostIp` '' when published on every
 * address, as podman 4.3 prints it); an exposed port with no binding maps to null. Keys are in
 * Go's order for a JSON map (sorted as strings).
 */
export function inspectPorts(mappings: readonly PortMapping[], exposed: readonly ExposedPort[] = []): Record<string, InspectHostPort[] | null> {
  const ports = new Map<string, InspectHostPort[] | null>();
  for (const m of mappings) {
    for (let i = 0; i < Math.max(1, m.range); i++) {
      const key = `${m.container_port + i}/${m.protocol}`;
      const list = ports.get(key) ?? [];
      list.push({ HostIp: m.host_ip, HostPort: String(m.host_port + i) });
      ports.set(key, list);
    }
  }
  for (const e of exposed) {
    const key = `${e.port}/${e.protocol}`;
    if (!ports.has(key)) ports.set(key, null);
  }
  const out: Record<string, InspectHostPort[] | null> = {};
  for (const key of [...ports.keys()].sort(compareStrings)) out[key] = ports.get(key)!;
  return out;
}

/** strconv.ParseUint(s, 10, 16) as Go reports its failures. */
function goParseUint16(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw usage(`strconv.ParseUint: parsing ${quote(s)}: invalid syntax`);
  const n = Number(s);
  if (n > MAX_PORT) throw usage(`strconv.ParseUint: parsing ${quote(s)}: value out of range`);
  return n;
}

/**
 * The lines `port CONTAINER [PORT]` prints. Without a filter, one per published port:
 * `80/tcp -> 0.0.0.0:8080` (ranges spelled out). With `80` or `80/udp` (tcp when not given), the
 * host side of each mapping that publishes it: `0.0.0.0:8080`; none is podman's error
 * `failed to find published port "80/udp"`.
 */
export function portCommandLines(mappings: readonly PortMapping[], filter?: string): string[] {
  const lines: string[] = [];
  if (filter === undefined || filter === '') {
    for (const m of mappings) {
      for (let i = 0; i < m.range; i++) {
        lines.push(`${m.container_port + i}/${m.protocol} -> ${shownIp(m.host_ip)}:${m.host_port + i}`);
      }
    }
    return lines;
  }
  const fields = filter.split('/');
  if (fields.length > 2) throw usage(`port formats are port/protocol. '${filter}' is invalid`);
  const port = goParseUint16(fields[0]!);
  const protocol = fields[1] ?? 'tcp';
  for (const m of mappings) {
    if (m.protocol === protocol && m.container_port <= port && port < m.container_port + m.range) {
      lines.push(`${shownIp(m.host_ip)}:${m.host_port + port - m.container_port}`);
    }
  }
  if (lines.length === 0) throw usage(`failed to find published port ${quote(filter)}`);
  return lines;
}
