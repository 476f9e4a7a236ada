import { connect } from 'node:net';
import { BerthError } from '../util/errors.js';
import type { PortMapping } from './types.js';

/**
 * A client of slirp4netns's API socket (`--api-socket`): one JSON request per connection, the
 * write side shut to end it (slirp4netns's protocol), one JSON answer. Only the host forwards
 * (`add_hostfwd`, `list_hostfwd`, `remove_hostfwd`), which is all a published port needs.
 */

interface Answer {
  return?: unknown;
  error?: { desc?: string };
}

async function request(socket: string, body: object): Promise<Answer> {
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const conn = connect(socket);
    conn.setTimeout(10_000, () => conn.destroy(new Error('slirp4netns did not answer')));
    conn.on('connect', () => conn.end(JSON.stringify(body)));
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    conn.on('error', reject);
  }).catch((e: Error) => {
    throw new BerthError('IO', `slirp4netns's API at ${socket}: ${e.message}`, { cause: e });
  });
  try {
    return JSON.parse(text) as Answer;
  } catch {
    return { error: { desc: `unexpected answer ${JSON.stringify(text.slice(0, 200))}` } };
  }
}

/** One forward as slirp4netns lists it. */
export interface HostForward {
  id: number;
  proto: string;
  host_addr: string;
  host_port: number;
  guest_addr: string;
  guest_port: number;
}

/**
 * The forwards of one mapping, one per port of its range, from the host address and port to
 * `guest`: at the container's port (a container on slirp4netns itself), or at the same port as the
 * host's (the rootless netns, where netavark's rules carry it on to the container).
 */
export function forwardsOf(m: PortMapping, guest: string, to: 'container-port' | 'host-port' = 'host-port'): Omit<HostForward, 'id'>[] {
  return Array.from({ length: m.range }, (_, i) => ({
    proto: m.protocol,
    host_addr: m.host_ip || '0.0.0.0',
    host_port: m.host_port + i,
    guest_addr: guest,
    guest_port: (to === 'container-port' ? m.container_port : m.host_port) + i,
  }));
}

/** Adds a forward; slirp4netns binds the host port itself, so a port taken fails here. */
export async function addHostForward(socket: string, f: Omit<HostForward, 'id'>): Promise<number> {
  const answer = await request(socket, { execute: 'add_hostfwd', arguments: f });
  const id = (answer.return as { id?: unknown } | undefined)?.id;
  if (answer.error || typeof id !== 'number') {
    throw new BerthError('IO', `failed to expose port ${f.host_addr}:${f.host_port}/${f.proto} via slirp4netns: ${answer.error?.desc ?? 'no answer'}`);
  }
  return id;
}

export async function listHostForwards(socket: string): Promise<HostForward[]> {
  const answer = await request(socket, { execute: 'list_hostfwd' });
  if (answer.error) throw new BerthError('IO', `listing slirp4netns's forwards: ${answer.error.desc ?? 'failed'}`);
  return ((answer.return as { entries?: HostForward[] } | undefined)?.entries ?? []).filter((e) => typeof e.id === 'number');
}

export async function removeHostForward(socket: string, id: number): Promise<void> {
  const answer = await request(socket, { execute: 'remove_hostfwd', arguments: { id } });
  if (answer.error) throw new BerthError('IO', `removing slirp4netns's forward ${id}: ${answer.error.desc ?? 'failed'}`);
}
