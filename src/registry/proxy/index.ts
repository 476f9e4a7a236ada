// The pull-through cache (`[proxy] remote = ...`): handlers that take the place of the registry's own for
// reading (manifests, blobs, tag lists from the upstream, kept in the storage) and refuse writing, as
// distribution's proxy mode does. The catalog and referrers stay the storage's.
import { readFile } from 'node:fs/promises';
import { RegistryError } from '../errors.js';
import type { Handler } from '../routes/_http.js';
import type { RegistryStorage } from '../storage/types.js';
import { SingleFlight } from './_single-flight.js';
import { BlobFetcher, proxyGetBlob } from './blobs.js';
import type { ProxyConfig } from './config.js';
import { ManifestFetcher, proxyGetManifest, proxyListTags } from './manifests.js';
import { Upstream } from './upstream.js';

export { DEFAULT_PROXY_TTL_MS, parseProxyConfig, PROXY_KEYS, type ProxyConfig } from './config.js';

export interface ProxyOptions extends ProxyConfig {
  /** Told when a cached copy stands in for an upstream that is down (default: a line on stderr). */
  onWarning?: (message: string) => void;
  /** An upstream request with nothing received for this long fails (default 30 s). */
  timeoutMs?: number;
}

export interface PullThroughCache {
  /** By `kind METHOD`, as the app's handler table. */
  handlers: Record<string, Handler>;
  /** Drops the upstream's connections, failing the fetches still running, and waits for them to clean up. */
  close(): Promise<void>;
}

const WRITES = ['blob DELETE', 'uploads POST', 'upload PATCH', 'upload PUT', 'upload GET', 'upload DELETE', 'manifest PUT', 'manifest DELETE'];

export async function createProxy(storage: RegistryStorage, opts: ProxyOptions): Promise<PullThroughCache> {
  const upstream = new Upstream({
    remote: opts.remote,
    username: opts.username,
    password: opts.password,
    ca: opts.ca === undefined ? undefined : await readFile(opts.ca),
    timeoutMs: opts.timeoutMs,
  });
  const warn = opts.onWarning ?? ((m: string) => console.error(`registry: warning: ${m}`));
  const flights = new SingleFlight();
  const manifests = new ManifestFetcher(storage, upstream, flights, opts.ttlMs, warn);
  const getBlob = proxyGetBlob(new BlobFetcher(storage, upstream, flights), upstream);
  const getManifest = proxyGetManifest(manifests);
  const refuse: Handler = async (c, { target }) => {
    throw new RegistryError('UNSUPPORTED', `${c.req.method} is not supported on ${target.kind}: this registry is a pull-through cache of ${upstream.origin}`);
  };
  return {
    handlers: {
      'blob GET': getBlob,
      'blob HEAD': getBlob,
      'manifest GET': getManifest,
      'manifest HEAD': getManifest,
      'tags GET': proxyListTags(upstream, warn),
      ...Object.fromEntries(WRITES.map((w) => [w, refuse])),
    },
    async close() {
      upstream.close();
      await flights.idle();
    },
  };
}
