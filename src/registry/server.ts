// Serving the registry over HTTP or HTTPS.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { createRegistryApp, type RegistryEnv, type RegistryLimits } from './app.js';
import { parseAddr } from './config.js';
import { openFsStorage } from './storage/fs.js';
import type { RegistryStorage } from './storage/types.js';

export interface RegistryServerOptions {
  /** host:port to listen on; port 0 picks a free one. Default 127.0.0.1:5000. */
  addr?: string;
  /** A directory for the filesystem backend, or an opened storage. */
  storage: string | RegistryStorage;
  /** PEM files; both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  limits?: Partial<RegistryLimits>;
  middleware?: MiddlewareHandler<RegistryEnv>[];
  /** Where to report internal errors (default: console.error). */
  onInternalError?: (e: unknown) => void;
}

export interface RunningRegistry {
  /** http(s)://host:port, with the port actually bound. */
  url: string;
  host: string;
  port: number;
  storage: RegistryStorage;
  /** Stops listening, drops open connections and closes the storage. */
  close(): Promise<void>;
}

export async function startRegistry(opts: RegistryServerOptions): Promise<RunningRegistry> {
  const { host, port } = parseAddr(opts.addr ?? '127.0.0.1:5000');
  const storage = typeof opts.storage === 'string' ? await openFsStorage(opts.storage) : opts.storage;
  const app = createRegistryApp({
    storage,
    limits: opts.limits,
    middleware: opts.middleware,
    onInternalError: opts.onInternalError ?? ((e) => console.error('registry: internal error:', e)),
  });
  const tls = opts.tlsCert !== undefined && opts.tlsKey !== undefined;
  const tlsOptions = tls ? { createServer: createHttpsServer, serverOptions: { cert: await readFile(opts.tlsCert!), key: await readFile(opts.tlsKey!) } } : {};
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: app.fetch, port, hostname: host, ...tlsOptions }) as Server;
    s.once('error', fail);
    s.once('listening', () => {
      s.off('error', fail);
      ok(s);
    });
  });
  // Large blobs over slow links take longer than Node's default 5 minutes per request.
  server.requestTimeout = 0;
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `${tls ? 'https' : 'http'}://${urlHost}:${bound}`,
    host,
    port: bound,
    storage,
    async close() {
      await new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      await storage.close();
    },
  };
}
