import { join } from 'node:path';
import { resolveStorePaths } from '../../engine/index.js';
import { formatGcReport, holdYoungGeneration, loadRegistryConfig, mergeRegistryConfig, startRegistry, type AuthConfig } from '../../registry/index.js';
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

/** `berth registry serve`: runs until SIGINT/SIGTERM; SIGUSR1 collects garbage now. */
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
  });
  if (auth && (auth.htpasswd || auth.token) && !server.loopback && !cfg.tlsCert) {
    process.stderr.write(
      `warning: serving credentials over plain HTTP on ${addr}: passwords and tokens can be read on the network; configure [tls] cert and key\n`,
    );
  }
  process.stderr.write(
    `berth registry listening on ${server.url} (storage ${s3 ? `s3://${s3.bucket}/${s3.prefix ?? ''}` : storage}${auth ? '' : ', no access control'})\n`,
  );
  const collect = () => {
    server.gc().then(
      (r) => process.stderr.write(formatGcReport(r)),
      (e: unknown) => process.stderr.write(`registry: garbage collection failed: ${(e as Error).message}\n`),
    );
  };
  process.on('SIGUSR1', collect);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.off('SIGUSR1', collect);
  await server.close();
}
