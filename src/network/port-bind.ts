/**
 * One host port bound, the one way both the check before a start (port-assignment.ts) and the
 * hold while a container runs (port-reservation.ts) bind it: a listening TCP socket or a bound
 * UDP socket on the mapping's address, as podman reserves one.
 *
 * With berth's native addon it is four system calls. Node's own sockets, the fallback, cost a
 * container's first `-p` start ~8 ms: a listen on an address loads Node's cluster and dns
 * modules and compiles its IPv6 pattern; and their descriptor can only be read from Node's
 * undocumented handles.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { closeSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { nativeCalls } from '../util/native.js';
import { isIPv6Mapping } from './ports.js';

export interface BoundPort {
  /** The port bound (the kernel's pick for port 0). */
  port: number;
  /** The socket's descriptor, for a monitor to inherit; undefined where Node keeps it out of reach. */
  fd: number | undefined;
  close(): void;
}

/**
 * Binds `port` (0: any) of `protocol` on `hostIp` ('' is every IPv4 address, as podman binds
 * tcp4/udp4 there; an IPv6 address binds IPv6 only). Rejects with the bind's errno error
 * (`code` EADDRINUSE, EACCES...).
 */
export async function bindHostPort(protocol: 'tcp' | 'udp', hostIp: string, port: number): Promise<BoundPort> {
  const address = hostIp === '' ? '0.0.0.0' : hostIp;
  const native = nativeCalls();
  if (native) {
    const [fd, bound] = native.bindPort(address, port, protocol === 'udp');
    let open = true;
    // Once only: a second close could close a descriptor the number was given to since.
    const close = () => {
      if (open) closeSync(fd);
      open = false;
    };
    return { port: bound, fd, close };
  }
  const v6 = isIPv6Mapping(hostIp);
  if (protocol === 'tcp') {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true, ipv6Only: v6 }, resolve);
    });
    server.unref();
    return { port: (server.address() as AddressInfo).port, fd: serverFd(server), close: () => server.close() };
  }
  const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e) => {
      try {
        socket.close();
      } catch {
        // already closed by the failed bind
      }
      reject(e);
    });
    socket.bind({ address, port, exclusive: true }, resolve);
  });
  socket.unref();
  return {
    port: socket.address().port,
    fd: udpSocketFd(socket),
    close: () => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}

type WithFd = { fd?: unknown } | null | undefined;

const validFd = (handle: WithFd) => (typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined);

/** A TCP server's descriptor, on its libuv handle (`_handle`, which Node does not document). */
function serverFd(server: Server): number | undefined {
  return validFd((server as unknown as { _handle?: WithFd })._handle);
}

/** A UDP socket's descriptor: its handle is in symbol-keyed state (the `_handle` getter is deprecated and warns). */
function udpSocketFd(socket: UdpSocket): number | undefined {
  const state = socket as unknown as Record<symbol, unknown>;
  const found = Object.getOwnPropertySymbols(state)
    .map((k) => state[k])
    .find((v): v is { handle: WithFd } => typeof v === 'object' && v !== null && 'handle' in v);
  return validFd(found?.handle);
}
