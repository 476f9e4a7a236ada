import { join } from 'node:path';
import { resolveStorePaths } from '../../engine/engine.js';
import { loadRegistryConfig, mergeRegistryConfig, parseAddr, startRegistry } from '../../registry/index.js';
import { BerthError } from '../../util/errors.js';
import { engineOptions, type GlobalOptions } from '../context.js';

interface ServeOptions {
  config?: string;
  addr?: string;
  storage?: string;
  tlsCert?: string;
  tlsKey?: string;
  manifestBytes?: string;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** `berth registry serve`: runs until SIGINT/SIGTERM. */
export async function run(g: GlobalOptions, opts: ServeOptions): Promise<void> {
  const file = opts.config ? await loadRegistryConfig(opts.config) : {};
  const cfg = mergeRegistryConfig(file, {
    ...(opts.addr ? { addr: opts.addr } : {}),
    ...(opts.storage ? { storage: opts.storage } : {}),
    ...(opts.tlsCert ? { tlsCert: opts.tlsCert } : {}),
    ...(opts.tlsKey ? { tlsKey: opts.tlsKey } : {}),
    ...(opts.manifestBytes ? { manifestBytes: Number(opts.manifestBytes) } : {}),
  });
  const addr = cfg.addr ?? '127.0.0.1:5000';
  // No access control exists yet: an open registry is only safe where only this machine reaches it.
  const { host } = parseAddr(addr);
  if (!isLoopback(host)) {
    throw new BerthError('USAGE', `refusing to listen on ${addr}: without access control the registry serves only loopback addresses`);
  }
  const storage = cfg.storage ?? join((await resolveStorePaths(engineOptions(g))).root, 'registry');
  const server = await startRegistry({
    addr,
    storage,
    ...(cfg.tlsCert ? { tlsCert: cfg.tlsCert } : {}),
    ...(cfg.tlsKey ? { tlsKey: cfg.tlsKey } : {}),
    ...(cfg.manifestBytes ? { limits: { manifestBytes: cfg.manifestBytes } } : {}),
  });
  process.stderr.write(`berth registry listening on ${server.url} (storage ${storage})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
}
