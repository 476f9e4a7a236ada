// [proxy] of the registry's TOML config: the upstream a pull-through cache serves.
import { dirname, resolve } from 'node:path';
import { BerthError } from '../../util/errors.js';
import { parseDuration } from '../auth/config.js';

/**
 * ```toml
 * [proxy]
 * remote = "https://registry.example:5000"   # http:// for an upstream without TLS
 * username = "puller"                          # optional; with password
 * password = "secret"
 * ttl = "5m"                                   # how long a tag fetched upstream is served without asking again
 * ca = "upstream-ca.pem"                       # optional: trusted besides the system's roots
 * ```
 */
export interface ProxyConfig {
  /** The upstream's origin: http(s)://host[:port], without a path. */
  remote: string;
  username?: string;
  password?: string;
  ttlMs: number;
  /** A PEM file of CA certificates (absolute path). */
  ca?: string;
}

export const DEFAULT_PROXY_TTL_MS = 5 * 60_000;

/** The keys [proxy] takes. */
export const PROXY_KEYS = ['remote', 'username', 'password', 'ttl', 'ca'];

/** Parses the [proxy] table of `file` (keys already checked against PROXY_KEYS). */
export function parseProxyConfig(table: Record<string, unknown>, file: string): ProxyConfig {
  const bad = (why: string) => new BerthError('USAGE', `registry config ${file}: ${why}`);
  const str = (key: string): string | undefined => {
    const v = table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw bad(`proxy.${key} must be a non-empty string`);
    return v;
  };
  const remote = str('remote');
  if (remote === undefined) throw bad('[proxy] needs remote, the upstream registry ("https://host[:port]")');
  let url: URL;
  try {
    url = new URL(remote);
  } catch {
    throw bad(`proxy.remote "${remote}" is not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw bad(`proxy.remote "${remote}" must be http(s)://host[:port], with nothing after the port (credentials go in username and password)`);
  }
  const config: ProxyConfig = { remote: url.origin, ttlMs: DEFAULT_PROXY_TTL_MS };
  const username = str('username');
  const password = str('password');
  if ((username === undefined) !== (password === undefined)) throw bad('[proxy] needs both username and password, or neither');
  if (username !== undefined && password !== undefined) Object.assign(config, { username, password });
  if (table['ttl'] !== undefined) {
    try {
      config.ttlMs = parseDuration(table['ttl'], 'proxy.ttl');
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  const ca = str('ca');
  if (ca !== undefined) {
    if (url.protocol !== 'https:') throw bad('proxy.ca needs an https:// remote');
    config.ca = resolve(dirname(file), ca);
  }
  return config;
}
