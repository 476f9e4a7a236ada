// What a hijacked request carries besides its headers: Node hands an upgrade over at the end of
// the headers, so a JSON body (exec start's `{"Detach":false,"Tty":true}`) is the first bytes of
// `head` and the socket; whatever follows it is the client's stdin.
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { badRequest } from '../errors.js';

/** Reads the request's Content-Length bytes; the rest read meanwhile is put back on the socket. */
export async function readUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(length) || length < 0 || length > 1 << 20) throw badRequest('invalid Content-Length');
  let got = head;
  while (got.length < length) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      const onData = (d: Buffer) => done(d);
      const onEnd = () => done(undefined);
      const done = (d: Buffer | undefined) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.pause();
        resolve(d);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
    });
    if (!chunk) throw badRequest('the request ended before its body');
    got = Buffer.concat([got, chunk]);
  }
  if (got.length > length) socket.unshift(got.subarray(length));
  return got.subarray(0, length);
}

/**
 * The client's input on a hijacked connection, as a stream a consumer starts by listening for
 * `data`. The socket itself cannot be handed on: once readUpgradeBody has paused it, a `data`
 * listener alone no longer starts it, and what the client typed would wait there unread.
 */
export function clientInput(socket: Duplex): Readable {
  return socket.pipe(new PassThrough());
}

/** Docker's booleans in a query: 1, true, True. */
export const queryFlag = (v: string | null | undefined, fallback = false) =>
  v === null || v === undefined || v === '' ? fallback : v === '1' || v.toLowerCase() === 'true';
