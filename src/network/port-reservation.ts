import { errnoCode } from '../util/errors.js';
import { isRootless } from '../util/rootless.js';
import { bindError } from './port-assignment.js';
import { bindHostPort, type BoundPort } from './port-bind.js';
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

/** Binds every host port of the mappings (host ports already picked); all or none. */
export async function reserveHostPorts(mappings: readonly PortMapping[]): Promise<PortReservation> {
  // Rootless, a user-mode forwarder (slirp4netns for the rootless netns) binds the host ports
  // itself, before this: holding them too would only collide with it.
  if (isRootless()) return { fds: [], close: () => undefined };
  const held: BoundPort[] = [];
  const closeAll = () => held.forEach((h) => h.close());
  try {
    for (const m of mappings) {
      if (m.protocol === 'sctp' || m.host_port === 0) continue;
      for (let port = m.host_port; port < m.host_port + m.range; port++) {
        held.push(
          await bindHostPort(m.protocol, m.host_ip, port).catch((e: NodeJS.ErrnoException) =>
            Promise.reject(bindError(m.protocol, m.host_ip, port, errnoCode(e) ?? e.message, e)),
          ),
        );
      }
    }
    // A port whose descriptor Node keeps out of reach goes unheld rather than failing the start.
    return { fds: held.map((h) => h.fd).filter((fd): fd is number => fd !== undefined), close: closeAll };
  } catch (e) {
    closeAll();
    throw e;
  }
}
