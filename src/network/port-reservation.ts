import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server } from 'node:net';
import { BerthError, errnoCode, ExitCode } from '../util/errors.js';
import { isRootless } from '../util/rootless.js';
import type { PortMapping } from './types.js';

/**
 * The published host ports held open while a container runs, as podman's conmon holds them: a
 * listening TCP socket and a bound UDP socket per host port, handed to conmon, so that no other
 * program on the host can take a port the container publishes (netavark only rewrites packets;
 * it binds nothing). SCTP is not held: podman does not hold it either, and Node cannot bind it.
 */
export interface PortReservation {
  /** The sockets' descriptors, for the monitor to inherit. */
  fds: number[];
  /** Closes berth's copies (once the monitor holds its own). */
  close(): void;
}

type Held = { kind: 'tcp'; server: Server } | { kind: 'udp'; socket: UdpSocket };

/**
 * A socket's descriptor. Node keeps it on the socket's libuv handle, which it does not document:
 * a TCP server's `_handle`, a UDP socket's handle in its symbol-keyed state (its `_handle` getter
 * is deprecated and warns). Undefined when a Node version keeps it elsewhere: the port then goes
 * unheld rather than failing the start.
 */
function fdOf(h: Held): number | undefined {
  type WithFd = { fd?: unknown } | null | undefined;
  let handle: WithFd;
  if (h.kind === 'tcp') handle = (h.server as unknown as { _handle?: WithFd })._handle;
  else {
    const socket = h.socket as unknown as Record<symbol, unknown>;
    const state = Object.getOwnPropertySymbols(socket)
      .map((k) => socket[k])
      .find((v): v is { handle: WithFd } => typeof v === 'object' && v !== null && 'handle' in v);
    handle = state?.handle;
  }
  const fd = handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function closeHeld(h: Held): void {
  try {
    if (h.kind === 'tcp') h.server.close();
    else h.socket.close();
  } catch {
    // already closed
  }
}

function failure(protocol: string, hostIp: string, port: number, error: NodeJS.ErrnoException): BerthError {
  const v6 = isIP(hostIp) === 6;
  const addr = v6 ? `[${hostIp}]:${port}` : `${hostIp}:${port}`;
  const why = errnoCode(error) === 'EADDRINUSE' ? 'address already in use' : error.message;
  return new BerthError('IO', `cannot listen on the ${protocol.toUpperCase()} port: listen ${protocol}${v6 ? 6 : 4} ${addr}: bind: ${why}`, {
    cause: error,
    exitCode: ExitCode.cannotInvoke,
  });
}

async function hold(protocol: 'tcp' | 'udp', hostIp: string, port: number): Promise<Held> {
  const v6 = isIP(hostIp) === 6;
  const address = hostIp === '' ? '0.0.0.0' : hostIp;
  if (protocol === 'tcp') {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(failure(protocol, hostIp, port, e)));
      server.listen({ host: address, port, exclusive: true, ipv6Only: v6 }, resolve);
    });
    server.unref();
    return { kind: 'tcp', server };
  }
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e: NodeJS.ErrnoException) => reject(failure(protocol, hostIp, port, e)));
    socket.bind({ address, port, exclusive: true }, resolve);
  });
  socket.unref();
  return { kind: 'udp', socket };
}

/** Binds every host port of the mappings (host ports already picked); all or none. */
export async function reserveHostPorts(mappings: readonly PortMapping[]): Promise<PortReservation> {
  // Rootless, a user-mode forwarder (slirp4netns for the rootless netns) binds the host ports
  // itself, before this: holding them too would only collide with it.
  if (isRootless()) return { fds: [], close: () => undefined };
  const held: Held[] = [];
  try {
    for (const m of mappings) {
      if (m.protocol === 'sctp' || m.host_port === 0) continue;
      for (let port = m.host_port; port < m.host_port + m.range; port++) held.push(await hold(m.protocol, m.host_ip, port));
    }
    return { fds: held.map(fdOf).filter((fd): fd is number => fd !== undefined), close: () => held.forEach(closeHeld) };
  } catch (e) {
    held.forEach(closeHeld);
    throw e;
  }
}
