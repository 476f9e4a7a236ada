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
  /** Where to report internal errors (default: console.error). */
  onInternalError?: (e: unknown) => void;
  /** Told about each periodic collection (default: a summary line on stderr when something was removed). */
  onGc?: (report: GcReport | Error) => void;
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
  const storage = typeof opts.storage === 'string' || 's3' in opts.storage ? await openStorage(opts.storage) : opts.storage;
  const access = opts.auth ? await createAccessControl(opts.auth) : undefined;
  const app = createRegistryApp({
    storage,
    limits: opts.limits,
    middleware: [...(access ? [access.middleware] : []), ...(opts.middleware ?? [])],
    routes: access?.tokenEndpoint ? [{ path: '/token', methods: ['GET', 'POST'], handler: access.tokenEndpoint }] : [],
    onInternalError: opts.onInternalError ?? ((e) => console.error('registry: internal error:', e)),
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
  const bound = server.address() as AddressInfo;
  const g = opts.gc ?? {};
  const gc = new GcRunner(storage, {
    ...(g.graceMs !== undefined ? { graceMs: g.graceMs } : {}),
    ...(g.uploadMaxAgeMs !== undefined ? { uploadMaxAgeMs: g.uploadMaxAgeMs } : {}),
    ...(g.deleteUntagged !== undefined ? { deleteUntagged: g.deleteUntagged } : {}),
    pruneLinks: false,
  });
  const onGc =
    opts.onGc ??
    ((r: GcReport | Error) => {
      if (r instanceof Error) console.error('registry: garbage collection failed:', r);
      else if (r.blobsRemoved.length + r.manifestsRemoved.length + r.uploadsRemoved.length > 0) {
        console.error(
          `registry: gc removed ${r.manifestsRemoved.length} manifests, ${r.blobsRemoved.length} blobs, ${r.uploadsRemoved.length} uploads (${r.bytesFreed} bytes)`,
        );
      }
    });
  const timer =
    g.intervalMs === undefined
      ? undefined
      : setInterval(() => void gc.run().then(onGc, (e: unknown) => onGc(e instanceof Error ? e : new Error(String(e)))), g.intervalMs);
  timer?.unref();
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${bound.port}`,
    host,
    address: bound.address,
    port: bound.port,
    loopback: listen.loopback,
    storage,
    gc: (o) => gc.run(o),
    async close() {
      if (timer) clearInterval(timer);
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await gc.idle();
      await storage.close();
    },
  };
}
