/**
 * Host ports at a container's start, as podman 4.3 reserves them: each published one bound once to
 * see that it is free (on its own address, and against the mappings of running containers, which
 * the caller passes as `taken`), random ones picked for a `-p CONTAINER_PORT`, and the line a
 * rootless user gets for a port below `ip_unprivileged_port_start`.
 */
import { readFileSync } from 'node:fs';
import { BerthError, errnoCode, ExitCode } from '../util/errors.js';
import { isRootless } from '../util/rootless.js';
import { bindHostPort } from './port-bind.js';
import { clash, isIPv6Mapping, MAX_PORT, usage, type PortProtocol } from './ports.js';
import type { PortMapping } from './types.js';

/** How a bind of one port went: the port bound, or the bind's error. */
type Probe = { port: number } | { error: NodeJS.ErrnoException };

/** Binds one port (0: the kernel picks) on the mapping's address as podman reserves it, reads the port and closes again. */
async function probe(protocol: 'tcp' | 'udp', hostIp: string, port: number): Promise<Probe> {
  try {
    const bound = await bindHostPort(protocol, hostIp, port);
    bound.close();
    return { port: bound.port };
  } catch (e) {
    return { error: e as NodeJS.ErrnoException };
  }
}

/** Go's text for the errors a bind gives. */
const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EAFNOSUPPORT: 'address family not supported by protocol',
};

/** The lowest port a user without privileges may bind: net.ipv4.ip_unprivileged_port_start (1024 unless lowered). */
export function unprivilegedPortStart(file = '/proc/sys/net/ipv4/ip_unprivileged_port_start'): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 1024;
  }
}

/** What to do about a privileged port, rootless, in rootless podman's words (its rootlessport's). */
export function privilegedPortLine(port: number, start: number): string {
  return `rootless berth cannot expose privileged port ${port}, you can add 'net.ipv4.ip_unprivileged_port_start=${port}' to /etc/sysctl.conf (currently ${start}), or choose a larger port number (>= ${start})`;
}

/**
 * podman's line for a port it cannot reserve, e.g. `cannot listen on the TCP port: listen tcp4
 * 127.0.0.1:8080: bind: address already in use`; Go writes '' as nothing and IPv6 in brackets.
 */
export function bindError(protocol: PortProtocol, hostIp: string, port: number, errno: string, cause?: unknown): BerthError {
  const v6 = isIPv6Mapping(hostIp);
  const net = `${protocol}${v6 ? 6 : 4}`;
  const addr = v6 ? `[${hostIp}]:${port}` : `${hostIp}:${port}`;
  const why = ERRNO_TEXT[errno] ?? errno.toLowerCase();
  const start = errno === 'EACCES' && isRootless() ? unprivilegedPortStart() : 0;
  if (port > 0 && port < start) {
    return new BerthError('IO', `${privilegedPortLine(port, start)}: listen ${net} ${addr}: bind: ${why}`, { cause, exitCode: ExitCode.cannotInvoke });
  }
  // 126 as podman's `run` exits when the port cannot be bound (`start` wraps it and exits 125, as podman's).
  return new BerthError('IO', `cannot listen on the ${protocol.toUpperCase()} port: listen ${net} ${addr}: bind: ${why}`, {
    cause,
    exitCode: ExitCode.cannotInvoke,
  });
}

/** Whether host port `port` of `protocol` on `hostIp` is held by one of `held`. */
function heldBy(held: readonly PortMapping[], protocol: PortProtocol, hostIp: string, port: number): boolean {
  return held.some((h) => h.host_port !== 0 && clash(h, { host_ip: hostIp, protocol, host_port: port, range: 1, container_port: 0 }));
}

/**
 * Checks ports `start`..`start+range-1` free: not held by `held`, and (tcp, udp) bindable now.
 * SCTP is not bound: podman does not reserve it either. Returns the error of the first that is not.
 */
async function checkFree(m: PortMapping, start: number, held: readonly PortMapping[]): Promise<BerthError | undefined> {
  for (let port = start; port < start + m.range; port++) {
    if (heldBy(held, m.protocol, m.host_ip, port)) return bindError(m.protocol, m.host_ip, port, 'EADDRINUSE');
    if (m.protocol === 'sctp') continue;
    const r = await probe(m.protocol, m.host_ip, port);
    if ('error' in r) return bindError(m.protocol, m.host_ip, port, errnoCode(r.error) ?? r.error.message, r.error);
  }
  return undefined;
}

/** How often a random start is drawn for a mapping before giving up (podman: 15). */
const RANDOM_TRIES = 20;

/** A random free start for the mapping's range: the kernel's pick for the first, the rest checked. */
async function randomStart(m: PortMapping, held: readonly PortMapping[]): Promise<number> {
  for (let i = 0; i < RANDOM_TRIES; i++) {
    // SCTP cannot be bound from Node; the kernel's free TCP port on that address stands in for it.
    const r = await probe(m.protocol === 'udp' ? 'udp' : 'tcp', m.host_ip, 0);
    if ('error' in r) throw bindError(m.protocol, m.host_ip, 0, errnoCode(r.error) ?? r.error.message, r.error);
    if (r.port + m.range - 1 > MAX_PORT) continue;
    if ((await checkFree(m, r.port, held)) === undefined) return r.port;
  }
  const range = m.range > 1 ? `with range ${m.range} ` : '';
  throw new BerthError('IO', `failed to find an open port to expose container port ${m.container_port} ${range}on the host`);
}

/**
 * The mappings with every host_port 0 replaced by a free port (for a range, the first of that many
 * consecutive free ports), after checking that every given host port is free: bindable now on its
 * address and protocol, and not in `taken` (the mappings of other running containers, which
 * netavark forwards without holding a socket). Ports are bound and closed again at once: the
 * caller hands them to netavark right after. Order is kept.
 */
export async function assignHostPorts(mappings: readonly PortMapping[], taken: readonly PortMapping[] = []): Promise<PortMapping[]> {
  const held: PortMapping[] = [...taken];
  for (const m of mappings) {
    if (m.host_port === 0) continue;
    if (m.host_port < 0 || m.host_port + m.range - 1 > MAX_PORT) throw usage('host port range exceeds maximum allowable port number');
    const error = await checkFree(m, m.host_port, held);
    if (error) throw error;
  }
  // Fixed ports first, so that no random one lands on a port this container asks for.
  held.push(...mappings.filter((m) => m.host_port !== 0));
  const out: PortMapping[] = [];
  for (const m of mappings) {
    if (m.host_port !== 0) {
      out.push({ ...m });
      continue;
    }
    const assigned = { ...m, host_port: await randomStart(m, held) };
    held.push(assigned);
    out.push(assigned);
  }
  return out;
}
