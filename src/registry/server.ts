// Serving the registry over HTTP or HTTPS.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { BerthError } from '../util/errors.js';
import { createRegistryApp, type RegistryEnv, type RegistryLimits } from './app.js';
import { createAccessControl } from './auth/access.js';
import type { AuthConfig } from './auth/config.js';
import { parseAddr, type GcConfig } from './config.js';
import { GcRunner, type GcOptions, type GcReport } from './gc.js';
import { resolveListenAddress, type LookupAll } from './listen.js';
import { createRegistryLog, logGcReport, type RegistryLog } from './log.js';
import { opsRoutes } from './_health.js';
import { instrumentStorage } from './_instrument-storage.js';
import { RegistryMetrics } from './_metrics.js';
import { noteUser, RequestObserver, requestRecordOf } from './_observe.js';
import { createProxy, type ProxyOptions } from './proxy/index.js';
import { openStorage } from './storage/open.js';
import type { S3StorageConfig } from './storage/s3.js';
import type { RegistryStorage } from './storage/types.js';

export interface RegistryServerOptions {
  /** host:port to listen on; port 0 picks a free one. Default 127.0.0.1:5000. */
  addr?: string;
  /** A directory for the filesystem backend, `{ s3 }` for a bucket (`[storage.s3]`), or an opened storage. */
  storage: string | RegistryStorage | { s3: S3StorageConfig };
  /** PEM files; both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  limits?: Partial<RegistryLimits>;
  middleware?: MiddlewareHandler<RegistryEnv>[];
  /**
   * Access control; without it the registry is open to whoever reaches it, so it refuses to listen unless
   * every address the host resolves to is a loopback address.
   */
  auth?: AuthConfig;
  /** Resolves the listen host (tests inject one); default the system resolver, as node's listen uses. */
  lookup?: LookupAll;
  /** Online garbage collection: periodic with intervalMs, else only when gc() is called. */
  gc?: GcConfig;
  /** Where to report internal errors (default: the log, with the request id). */
  onInternalError?: (e: unknown) => void;
  /** Told about each periodic collection (default: a summary line on stderr when something was removed). */
  onGc?: (report: GcReport | Error) => void;
  /** Where the server logs (default: the text log on stderr, as before there was a choice). */
  log?: RegistryLog;
  /** Serve Prometheus metrics on /metrics (default true). */
  metrics?: boolean;
  /** Serve an upstream registry's repositories as a pull-through cache (pushes and deletes refused). */
  proxy?: ProxyOptions;
}

export interface RunningRegistry {
  /** http(s)://host:port, with the port actually bound. */
  url: string;
  host: string;
  /** The IP address bound: the host, or the address it resolved to. */
  address: string;
  port: number;
  /** Only this machine reaches the registry (a loopback address). */
  loopback: boolean;
  storage: RegistryStorage;
  /** Collects garbage now, while serving (one collection at a time). */
  gc(opts?: GcOptions): Promise<GcReport>;
  /** Stops listening, drops open connections, waits for a collection in progress and closes the storage. */
  close(): Promise<void>;
  /**
   * Stops listening, lets the requests in flight finish for up to `timeoutMs` (their connections close after
   * their response; idle keep-alive connections at once), then drops what is left and closes as close() does.
   */
  shutdown(timeoutMs: number): Promise<void>;
}

export async function startRegistry(opts: RegistryServerOptions): Promise<RunningRegistry> {
  const addr = opts.addr ?? '127.0.0.1:5000';
  const { host, port } = parseAddr(addr);
  // The name is resolved here and the address bound, so the address checked is the one other machines could reach.
  const listen = await resolveListenAddress(host, opts.lookup);
  if (!opts.auth && !listen.loopback) {
    const where = listen.address === host ? addr : `${addr} (${listen.address})`;
    throw new BerthError(
      'USAGE',
      `refusing to listen on ${where} without access control: it is not a loopback address; configure [auth] or [[access]] rules (or --htpasswd), or listen on a loopback address`,
    );
  }
  const opened = typeof opts.storage === 'string' || 's3' in opts.storage ? await openStorage(opts.storage) : opts.storage;
  const log = opts.log ?? createRegistryLog();
  const metrics = opts.metrics === false ? undefined : new RegistryMetrics();
  // Timed for /metrics; GC goes through it too.
  const storage = metrics ? instrumentStorage(opened, metrics) : opened;
  const observer = new RequestObserver(log, metrics);
  const access = opts.auth ? await createAccessControl(opts.auth) : undefined;
  const proxy = opts.proxy ? await createProxy(storage, opts.proxy) : undefined;
  const app = createRegistryApp({
    ...(proxy ? { handlers: proxy.handlers } : {}),
    storage,
    limits: opts.limits,
    middleware: [noteUser, ...(access ? [access.middleware] : []), ...(opts.middleware ?? [])],
    routes: [
      ...opsRoutes({ storage, metrics, draining: () => observer.draining, log, access: access?.middleware }),
      ...(access?.tokenEndpoint ? [{ path: '/token', methods: ['GET', 'POST'], handler: access.tokenEndpoint }] : []),
    ],
    onInternalError:
      opts.onInternalError ??
      ((e, c) => {
        const id = requestRecordOf(c)?.id;
        log.error('registry: internal error', e, id === undefined ? {} : { requestId: id });
      }),
  });
  const tls = opts.tlsCert !== undefined && opts.tlsKey !== undefined;
  const tlsOptions = tls ? { createServer: createHttpsServer, serverOptions: { cert: await readFile(opts.tlsCert!), key: await readFile(opts.tlsKey!) } } : {};
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: app.fetch, port, hostname: listen.address, ...tlsOptions }) as Server;
    s.once('error', fail);
    s.once('listening', () => {
      s.off('error', fail);
      ok(s);
    });
  });
  // Large blobs over slow links take longer than Node's default 5 minutes per request.
  server.requestTimeout = 0;
  // Ahead of Hono's listener: the request id header must be set before anything answers.
  server.prependListener('request', observer.listener);
  const bound = server.address() as AddressInfo;
  const g = opts.gc ?? {};
  const gc = new GcRunner(storage, {
    ...(g.graceMs !== undefined ? { graceMs: g.graceMs } : {}),
    ...(g.uploadMaxAgeMs !== undefined ? { uploadMaxAgeMs: g.uploadMaxAgeMs } : {}),
    ...(g.deleteUntagged !== undefined ? { deleteUntagged: g.deleteUntagged } : {}),
    pruneLinks: false,
  });
  const onGc = opts.onGc ?? ((r: GcReport | Error) => logGcReport(log, r));
  // Every collection's report reaches the metrics once, periodic or asked for (both may share one run).
  const counted = new WeakSet<object>();
  const collect = async (o?: GcOptions): Promise<GcReport> => {
    try {
      const report = await gc.run(o);
      if (!counted.has(report)) metrics?.gcRun(report);
      counted.add(report);
      return report;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!counted.has(error)) metrics?.gcRun(error);
      counted.add(error);
      throw error;
    }
  };
  const timer = g.intervalMs === undefined ? undefined : setInterval(() => void collect().then(onGc, (e: Error) => onGc(e)), g.intervalMs);
  timer?.unref();
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${bound.port}`,
    host,
    address: bound.address,
    port: bound.port,
    loopback: listen.loopback,
    storage,
    gc: collect,
    async close() {
      if (timer) clearInterval(timer);
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await gc.idle();
      await proxy?.close();
      await storage.close();
      log.flush();
    },
    async shutdown(timeoutMs) {
      if (timer) clearInterval(timer);
      observer.drain();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      // A keep-alive connection goes idle when its response in flight ends: close each as it does.
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      let deadline: NodeJS.Timeout | undefined;
      const drained = await Promise.race([closed.then(() => true), new Promise<boolean>((ok) => (deadline = setTimeout(() => ok(false), timeoutMs)))]);
      clearInterval(sweep);
      clearTimeout(deadline);
      if (!drained) {
        log.warn(`registry: ${observer.requestsInFlight} requests still in flight after ${timeoutMs} ms; closing their connections`);
        server.closeAllConnections();
        await closed;
      }
      await gc.idle();
      await proxy?.close();
      await storage.close();
      log.flush();
    },
  };
}
