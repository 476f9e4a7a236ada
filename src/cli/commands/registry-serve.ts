import { join } from 'node:path';
import { resolveStorePaths } from '../../engine/index.js';
import {
  createRegistryLog,
  formatGcReport,
  holdYoungGeneration,
  loadRegistryConfig,
  logGcReport,
  mergeRegistryConfig,
  startRegistry,
  type AuthConfig,
} from '../../registry/index.js';
import { engineOptions, type GlobalOptions } from '../context.js';

interface ServeOptions {
  config?: string;
  addr?: string;
  storage?: string;
  tlsCert?: string;
  tlsKey?: string;
  manifestBytes?: string;
  htpasswd?: string;
}

/** How long SIGTERM/SIGINT lets requests in flight finish, without [http] drain_timeout. */
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * `berth registry serve`: runs until SIGINT/SIGTERM, then stops accepting connections and lets the requests
 * in flight finish ([http] drain_timeout; a second signal stops at once); SIGUSR1 collects garbage now.
 */
export async function run(g: GlobalOptions, opts: ServeOptions): Promise<void> {
  const file = opts.config ? await loadRegistryConfig(opts.config) : {};
  const cfg = mergeRegistryConfig(file, {
    ...(opts.addr ? { addr: opts.addr } : {}),
    ...(opts.storage ? { storage: opts.storage } : {}),
    ...(opts.tlsCert ? { tlsCert: opts.tlsCert } : {}),
    ...(opts.tlsKey ? { tlsKey: opts.tlsKey } : {}),
    ...(opts.manifestBytes ? { manifestBytes: Number(opts.manifestBytes) } : {}),
  });
  let auth: AuthConfig | undefined = cfg.auth;
  if (opts.htpasswd) auth = { catalog: auth?.catalog ?? ['*'], access: auth?.access ?? [], ...auth, htpasswd: opts.htpasswd };
  const addr = cfg.addr ?? '127.0.0.1:5000';
  // [storage.s3] unless --storage names a directory.
  const s3 = opts.storage ? undefined : cfg.s3;
  const storage = s3 ? { s3 } : (cfg.storage ?? join((await resolveStorePaths(engineOptions(g))).root, 'registry'));
  const log = createRegistryLog(cfg.log ?? {});
  holdYoungGeneration();
  // startRegistry refuses an address other machines reach (resolved, as bound) unless there is access control.
  const server = await startRegistry({
    addr,
    storage,
    ...(cfg.tlsCert ? { tlsCert: cfg.tlsCert } : {}),
    ...(cfg.tlsKey ? { tlsKey: cfg.tlsKey } : {}),
    ...(cfg.manifestBytes ? { limits: { manifestBytes: cfg.manifestBytes } } : {}),
    ...(auth ? { auth } : {}),
    ...(cfg.gc ? { gc: cfg.gc } : {}),
    ...(cfg.metrics !== undefined ? { metrics: cfg.metrics } : {}),
    log,
    ...(cfg.proxy ? { proxy: cfg.proxy } : {}),
  });
  if (auth && (auth.htpasswd || auth.token) && !server.loopback && !cfg.tlsCert) {
    log.warn(`warning: serving credentials over plain HTTP on ${addr}: passwords and tokens can be read on the network; configure [tls] cert and key`);
  }
  const where = typeof storage === 'string' ? storage : `s3://${storage.s3.bucket}/${storage.s3.prefix ?? ''}`;
  log.info(`berth registry listening on ${server.url} (storage ${where}${auth ? '' : ', no access control'})`, {
    url: server.url,
    storage: where,
    accessControl: auth !== undefined,
  });
  if (cfg.proxy)
    log.info(`berth registry: a pull-through cache of ${cfg.proxy.remote} (tags refreshed after ${cfg.proxy.ttlMs / 1000}s)`, { remote: cfg.proxy.remote });
  const collect = () => {
    server.gc().then(
      (r) => (log.format === 'json' ? logGcReport(log, r) : process.stderr.write(formatGcReport(r))),
      (e: unknown) =>
        log.format === 'json' ? logGcReport(log, e as Error) : process.stderr.write(`registry: garbage collection failed: ${(e as Error).message}\n`),
    );
  };
  process.on('SIGUSR1', collect);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.off('SIGUSR1', collect);
  const drainMs = cfg.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  log.info(`registry: ${signal}: finishing the requests in flight (up to ${drainMs} ms; signal again to stop now)`, { signal, drainTimeoutMs: drainMs });
  const now = () => void server.close();
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  await server.shutdown(drainMs);
  process.off('SIGINT', now);
  process.off('SIGTERM', now);
}
