// Every request as node:http sees it, before Hono: its request id (the client's X-Request-Id when it is
// usable, else a new one, echoed in the response), its route kind, and when the response is done or the
// client gone, its metrics and its log line. Watching the node response rather than Hono's covers blobs
// sent straight into the socket and bodies still streaming after a handler returned. While the server
// shuts down, it has every response close its connection.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { resolveTarget, type RegistryEnv } from './app.js';
import type { RegistryLog } from './log.js';
import type { RegistryMetrics, RouteKind } from './_metrics.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** The status of a request whose client went away before the response began (as nginx logs it). */
export const CLIENT_CLOSED = 499;

/** Printable ASCII without spaces, at most 128 characters: enough for a UUID or a trace id, safe in a header and a log. */
const USABLE_ID = /^[\x21-\x7e]{1,128}$/;

/** The client's request id when it is usable, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && USABLE_ID.test(value) ? value : randomUUID();
}

/** The route kind of a request's target, as /metrics and the log label it. */
export function routeKindOf(method: string, url: string): RouteKind {
  const q = url.indexOf('?');
  const target = resolveTarget(method, q < 0 ? url : url.slice(0, q));
  if (!target) return 'other';
  return target.kind === 'uploads' ? 'upload' : target.kind;
}

/** What the handlers learn about a request that its log line wants. */
export interface RequestRecord {
  id: string;
  /** Set by access control. */
  user?: string;
}

const records = new WeakMap<IncomingMessage, RequestRecord>();

/** The record of the request a Hono context serves (undefined outside @hono/node-server, as in app.request()). */
export function requestRecordOf(c: Context): RequestRecord | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming ? records.get(incoming) : undefined;
}

/** Bytes a connection had read and written when its previous request ended. */
const socketMarks = new WeakMap<Socket, { read: number; written: number }>();

/** Bytes on the connection since its previous request ended: this request's, as HTTP/1.1 serves one at a time. */
function socketBytes(socket: Socket | null): { bytesIn: number; bytesOut: number } {
  if (!socket) return { bytesIn: 0, bytesOut: 0 };
  const mark = socketMarks.get(socket) ?? { read: 0, written: 0 };
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  socketMarks.set(socket, { read, written });
  return { bytesIn: Math.max(0, read - mark.read), bytesOut: Math.max(0, written - mark.written) };
}

export class RequestObserver {
  private readonly inFlight = new Set<ServerResponse>();
  private drainingSince: number | undefined;

  constructor(
    private readonly log: RegistryLog,
    private readonly metrics: RegistryMetrics | undefined,
  ) {}

  /** For node:http's 'request' event, ahead of Hono's listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const route = routeKindOf(method, url);
    const record: RequestRecord = { id: requestIdFrom(req.headers['x-request-id']) };
    records.set(req, record);
    // Merged into the head Hono (or sendBlob) writes.
    res.setHeader(REQUEST_ID_HEADER, record.id);
    if (this.draining) res.setHeader('Connection', 'close');
    this.inFlight.add(res);
    this.metrics?.requestStarted();
    const socket = req.socket;
    res.once('close', () => {
      this.inFlight.delete(res);
      const seconds = (performance.now() - start) / 1000;
      const { bytesIn, bytesOut } = socketBytes(socket);
      // A client that left before any answer: nginx's 499, not the 200 a response starts with.
      const status = res.headersSent ? res.statusCode : CLIENT_CLOSED;
      this.metrics?.requestEnded(route, method, status, seconds, bytesIn, bytesOut);
      const q = url.indexOf('?');
      this.log.request({
        requestId: record.id,
        method,
        path: q < 0 ? url : url.slice(0, q),
        ...(q < 0 ? {} : { query: url.slice(q + 1) }),
        route,
        status,
        bytesIn,
        bytesOut,
        durationMs: Math.round(seconds * 1e6) / 1000,
        ...(socket?.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
        ...(record.user !== undefined ? { user: record.user } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
  };

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /** From now on every response closes its connection, and so do those in flight that have not answered yet. */
  drain(): void {
    this.drainingSince ??= Date.now();
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
  }
}

/** Put ahead of access control: who it found asking goes into the request's log line (also when it refused the request). */
export const noteUser: MiddlewareHandler<RegistryEnv> = async (c, next) => {
  try {
    await next();
  } finally {
    const user = c.get('user');
    const record = requestRecordOf(c);
    if (record && user !== undefined) record.user = user;
  }
};
