// The pieces of Docker's stream protocol shared by attach, exec and logs: the 101 answer that hands
// the connection over, and the 8-byte frame header that multiplexes stdout and stderr when the
// container has no terminal.
import type { Duplex } from 'node:stream';
import { versionAtLeast } from '../version.js';

const upgraded = new WeakSet<Duplex>();

/** Answers `101 UPGRADED`: from here on the socket carries the raw or multiplexed stream. */
export function acceptUpgrade(socket: Duplex, apiVersion: string, tty: boolean): void {
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${streamContentType(apiVersion, tty)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  upgraded.add(socket);
}

/** Whether acceptUpgrade has answered on this socket (after it, an error can only end the stream). */
export const isUpgraded = (socket: Duplex) => upgraded.has(socket);

/** API 1.42 names the multiplexed form; before it both were `raw-stream`. */
export function streamContentType(apiVersion: string, tty: boolean): string {
  return !tty && versionAtLeast(apiVersion, '1.42') ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
}

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

/** One frame: [stream, 0, 0, 0, size (uint32 big-endian)] then the bytes. */
export function muxFrame(stream: typeof STDIN | typeof STDOUT | typeof STDERR, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}
