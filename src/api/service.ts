// `berth system service`: the Docker Engine API on a Unix socket (or TCP with TLS client
// certificates), over one store opened for the service's life. Containers it starts are conmon's,
// as the CLI's are, so they outlive the service; the CLI and the service share the store through its
// lock.
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, readFile, unlink } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import type { Store } from '../engine/index.js';
import { makeDirs } from '../util/dirs.js';
import { BerthError } from '../util/errors.js';
import { API_VERSION_HEADER, createApiApp, ENGINE_HEADERS } from './app.js';
import type { UpgradeRoute } from './context.js';
import { errorResponse } from './errors.js';
import { isUpgraded } from './streams/hijack.js';
import { formatServiceAddress, type ServiceAddress } from './uri.js';
import { splitApiVersion } from './version.js';

export interface ServiceOptions {
  store: Store;
  address: ServiceAddress;
  /** Seconds without a request or an open stream before the service ends itself; 0: never. */
  idleSeconds: number;
  tls?: { cert: string; key: string; ca: string };
  /** The Unix socket's group (its members may use the API); root's when undefined. */
  socketGid?: number;
}

export interface RunningService {
  url: string;
  /** Resolves when the service has stopped (idle timeout or close()). */
  done: Promise<void>;
  close(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { address } = opts;
  if (address.kind === 'tcp' && !opts.tls) {
    throw new BerthError(
      'USAGE',
      `refusing to serve the API on ${formatServiceAddress(address)} without TLS: whoever reaches it is root on this host; give --tls-cert, --tls-key and --tls-ca (clients must present a certificate signed by that CA), or listen on a unix:// socket`,
    );
  }
  const { app, upgrades } = createApiApp({ store: opts.store, startedAt: new Date() });
  const listener = getRequestListener(app.fetch);
  const server: Server = opts.tls
    ? createHttpsServer({
        cert: await readFile(opts.tls.cert),
        key: await readFile(opts.tls.key),
        ca: await readFile(opts.tls.ca),
        requestCert: true,
        rejectUnauthorized: true,
      })
    : createHttpServer();
  // A stream (logs -f, events, attach) may stay open for hours.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  const idle = new IdleTimer(opts.idleSeconds, () => void close());
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const [name, value] of Object.entries(ENGINE_HEADERS)) res.setHeader(name, value);
    if (!versionRoute(req, res)) return;
    idle.enter();
    res.once('close', () => {
      idle.leave();
      // What a removal put in the trash is deleted now, not at the service's end; a GET or HEAD removes nothing.
      if (req.method !== 'GET' && req.method !== 'HEAD') void opts.store.trash.empty().catch(() => {});
    });
    void listener(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    idle.enter();
    socket.once('close', () => idle.leave());
    void hijack(upgrades, req, socket, head);
  });

  let closing: Promise<void> | undefined;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const close = () => {
    closing ??= (async () => {
      idle.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (address.kind === 'unix') await unlink(address.path).catch(() => {});
      stopped();
    })();
    return closing;
  };

  if (address.kind === 'unix') await listenUnix(server, address.path, opts.socketGid);
  else await listen(server, () => server.listen(address.port, address.host));
  idle.arm();
  return { url: formatServiceAddress(address), done, close };
}

/** Takes the `/vX.Y` prefix off; false when the version is out of range (answered here, as Docker does). */
function versionRoute(req: IncomingMessage, res: ServerResponse | undefined): boolean {
  const v = splitApiVersion(req.url ?? '/');
  if ('error' in v) {
    if (res) {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ message: v.error })}\n`);
    }
    return false;
  }
  req.url = v.path;
  req.headers[API_VERSION_HEADER] = v.version;
  return true;
}

async function hijack(upgrades: UpgradeRoute[], req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const v = splitApiVersion(req.url ?? '/');
  const fail = (status: number, message: string) => {
    const body = `${JSON.stringify({ message })}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
  if ('error' in v) return fail(400, v.error);
  const path = v.path.split('?', 1)[0]!;
  for (const route of upgrades) {
    const m = route.method === req.method ? route.pattern.exec(path) : null;
    if (!m) continue;
    req.url = v.path;
    try {
      await route.handle(req, socket, head, { ...m.groups }, v.version);
    } catch (e) {
      // Before the 101 went out the client still reads an HTTP answer; after it, the stream just ends.
      if (!socket.destroyed && !isUpgraded(socket)) {
        const { status, message } = errorResponse(e);
        fail(status, message);
      } else socket.destroy();
    }
    return;
  }
  fail(404, `page not found: ${req.method} ${path}`);
}

/**
 * A socket file left by a service that is gone is replaced; one a live service answers on is not
 * (two services on one socket would each see half the requests). The socket is made 0660 by the
 * umask in force while it is created, so there is no moment when others could connect.
 */
async function listenUnix(server: Server, path: string, gid: number | undefined): Promise<void> {
  await makeDirs(dirname(path), 0o755);
  if (existsSync(path)) {
    const st = await lstat(path);
    if (!st.isSocket()) throw new BerthError('USAGE', `cannot listen on ${path}: it exists and is not a socket`);
    if (await answers(path)) throw new BerthError('USAGE', `cannot listen on ${path}: another service is listening there`);
    await unlink(path);
  }
  const umask = process.umask(0o117);
  try {
    await listen(server, () => server.listen(path));
  } finally {
    process.umask(umask);
  }
  // The group is given before the mode lets it in (0660 from the umask already, so chown first changes nothing for others).
  if (gid !== undefined) await chown(path, -1, gid);
  await chmod(path, 0o660);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(new BerthError('IO', `cannot listen: ${e.message}`, { cause: e }));
    server.once('error', fail);
    server.once('listening', () => {
      server.off('error', fail);
      resolve();
    });
    start();
  });
}

/** podman's --time: the service ends after this long with no request in flight and no stream open. */
class IdleTimer {
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly seconds: number,
    private readonly onIdle: () => void,
  ) {}
  arm(): void {
    if (this.seconds > 0 && this.active === 0) this.timer = setTimeout(this.onIdle, this.seconds * 1000);
  }
  enter(): void {
    this.active++;
    clearTimeout(this.timer);
  }
  leave(): void {
    this.active--;
    this.arm();
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}
