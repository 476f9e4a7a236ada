// The registry's TOML config file, and how flags override it.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'smol-toml';
import { BerthError } from '../util/errors.js';
import { parseAuthConfig, parseDuration, type AuthConfig } from './auth/config.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './log.js';
import { parseProxyConfig, PROXY_KEYS, type ProxyConfig } from './proxy/config.js';
import type { S3StorageConfig } from './storage/s3.js';

/**
 * ```toml
 * [http]
 * addr = "127.0.0.1:5000"
 * [storage]
 * path = "/var/lib/berth/registry"   # relative paths are relative to the config file
 * [storage.s3]             # instead of path: the registry in an S3 bucket (storage/s3.ts)
 * endpoint = "http://127.0.0.1:7480"
 * region = "us-east-1"
 * bucket = "registry"
 * prefix = "berth"         # keys under this prefix (default: the bucket's root)
 * path_style = true
 * access_key = "..."       # with secret_key; else AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or credential files
 * secret_key = "..."
 * ca = "ca.pem"            # CAs for an https endpoint (relative to the config file)
 * part_size = 8388608      # bytes per multipart part (at least 5 MiB)
 * concurrency = 4          # parts of one upload in flight
 * redirect = false         # blob GETs answered with a 307 to a presigned URL
 * cache_bytes = 67108864   # blobs up to 4 MiB and manifests kept in memory (0: none)
 * [limits]
 * manifest_bytes = 4194304
 * [tls]
 * cert = "server.crt"
 * key = "server.key"
 * [gc]
 * interval = "1h"          # collect garbage online this often (default: never; SIGUSR1 runs one now)
 * grace = "1h"             # keep blobs and manifests used this recently (default 1h)
 * upload_max_age = "24h"   # remove upload sessions idle this long
 * delete_untagged = false  # also remove manifests no tag, index or live subject holds
 * [log]
 * level = "info"           # trace, debug, info, warn, error, fatal or silent
 * format = "text"          # text: human lines, none per request (the default); json: a JSON line per request and event
 * [metrics]
 * enabled = true           # Prometheus metrics on /metrics (default true); with [auth], for whoever may list the catalog
 * ```
 * and [http] drain_timeout = "30s": how long SIGTERM/SIGINT lets requests in flight finish.
 * and [auth], [auth.token], [[access]] as auth/config.ts describes, [proxy] as proxy/config.ts does.
 */
export interface RegistryConfig {
  addr?: string;
  storage?: string | undefined;
  /** `[storage.s3]`: the S3 backend instead of a directory. */
  s3?: S3StorageConfig;
  tlsCert?: string;
  tlsKey?: string;
  manifestBytes?: number;
  auth?: AuthConfig;
  gc?: GcConfig;
  log?: { level?: LogLevel; format?: LogFormat };
  metrics?: boolean;
  drainTimeoutMs?: number;
  proxy?: ProxyConfig;
}

export interface GcConfig {
  intervalMs?: number;
  graceMs?: number;
  uploadMaxAgeMs?: number;
  deleteUntagged?: boolean;
}

const SECTIONS: Record<string, string[]> = {
  http: ['addr', 'drain_timeout'],
  storage: ['path', 's3'],
  limits: ['manifest_bytes'],
  tls: ['cert', 'key'],
  gc: ['interval', 'grace', 'upload_max_age', 'delete_untagged'],
  log: ['level', 'format'],
  metrics: ['enabled'],
  proxy: PROXY_KEYS,
};
/** Sections parsed elsewhere (auth/config.ts), with their own checks. */
const OTHER_SECTIONS = ['auth', 'access'];

function bad(file: string, why: string): BerthError {
  return new BerthError('USAGE', `registry config ${file}: ${why}`);
}

/** Reads a registry config file; unknown sections or keys and wrong types are refused, so that typos show. */
export async function loadRegistryConfig(file: string): Promise<RegistryConfig> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new BerthError('USAGE', `registry config ${file}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  for (const [section, value] of Object.entries(doc)) {
    if (OTHER_SECTIONS.includes(section)) continue;
    const keys = SECTIONS[section];
    if (!keys) throw bad(file, `unknown section [${section}]`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, `[${section}] must be a table`);
    for (const key of Object.keys(value)) if (!keys.includes(key)) throw bad(file, `unknown key "${key}" in [${section}]`);
  }
  const get = (section: string, key: string): unknown => (doc[section] as Record<string, unknown> | undefined)?.[key];
  const str = (section: string, key: string): string | undefined => {
    const v = get(section, key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw bad(file, `${section}.${key} must be a non-empty string`);
    return v;
  };
  const path = (section: string, key: string): string | undefined => {
    const v = str(section, key);
    return v === undefined ? undefined : resolve(dirname(file), v);
  };
  const config: RegistryConfig = {};
  const addr = str('http', 'addr');
  if (addr !== undefined) config.addr = addr;
  const storage = path('storage', 'path');
  if (storage !== undefined) config.storage = storage;
  const s3 = (doc['storage'] as Record<string, unknown> | undefined)?.['s3'];
  if (s3 !== undefined) {
    if (storage !== undefined) throw bad(file, '[storage] path and [storage.s3] are mutually exclusive: choose one');
    config.s3 = parseS3Config(s3, file);
  }
  const cert = path('tls', 'cert');
  const key = path('tls', 'key');
  if ((cert === undefined) !== (key === undefined)) throw bad(file, '[tls] needs both cert and key');
  if (cert !== undefined && key !== undefined) Object.assign(config, { tlsCert: cert, tlsKey: key });
  const limit = get('limits', 'manifest_bytes');
  if (limit !== undefined) {
    const n = typeof limit === 'bigint' ? Number(limit) : limit;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw bad(file, 'limits.manifest_bytes must be a positive integer');
    config.manifestBytes = n;
  }
  const auth = parseAuthConfig(doc, file);
  if (auth) config.auth = auth;
  const gc = doc['gc'] as Record<string, unknown> | undefined;
  if (gc) {
    const duration = (key: string): number | undefined => {
      if (gc[key] === undefined) return undefined;
      try {
        return parseDuration(gc[key], `gc.${key}`);
      } catch (e) {
        throw bad(file, (e as Error).message);
      }
    };
    const g: GcConfig = {};
    const interval = duration('interval');
    if (interval !== undefined) {
      if (interval < 1000) throw bad(file, 'gc.interval must be at least 1s');
      g.intervalMs = interval;
    }
    const grace = duration('grace');
    if (grace !== undefined) g.graceMs = grace;
    const maxAge = duration('upload_max_age');
    if (maxAge !== undefined) g.uploadMaxAgeMs = maxAge;
    if (gc['delete_untagged'] !== undefined) {
      if (typeof gc['delete_untagged'] !== 'boolean') throw bad(file, 'gc.delete_untagged must be true or false');
      g.deleteUntagged = gc['delete_untagged'];
    }
    config.gc = g;
  }
  const drain = get('http', 'drain_timeout');
  if (drain !== undefined) {
    try {
      config.drainTimeoutMs = parseDuration(drain, 'http.drain_timeout');
    } catch (e) {
      throw bad(file, (e as Error).message);
    }
  }
  const level = str('log', 'level');
  const format = str('log', 'format');
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) throw bad(file, `log.level must be one of ${LOG_LEVELS.join(', ')}`);
  if (format !== undefined && format !== 'json' && format !== 'text') throw bad(file, 'log.format must be "json" or "text"');
  if (level !== undefined || format !== undefined) {
    config.log = { ...(level !== undefined ? { level: level as LogLevel } : {}), ...(format !== undefined ? { format: format as LogFormat } : {}) };
  }
  const metrics = get('metrics', 'enabled');
  if (metrics !== undefined) {
    if (typeof metrics !== 'boolean') throw bad(file, 'metrics.enabled must be true or false');
    config.metrics = metrics;
  }
  if (doc['proxy']) config.proxy = parseProxyConfig(doc['proxy'] as Record<string, unknown>, file);
  return config;
}

const S3_KEYS = [
  'endpoint',
  'region',
  'bucket',
  'prefix',
  'path_style',
  'access_key',
  'secret_key',
  'ca',
  'part_size',
  'concurrency',
  'redirect',
  'cache_bytes',
];

/** `[storage.s3]`, checked key by key. */
function parseS3Config(value: unknown, file: string): S3StorageConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, '[storage.s3] must be a table');
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t)) if (!S3_KEYS.includes(key)) throw bad(file, `unknown key "${key}" in [storage.s3]`);
  const str = (key: string, empty = false): string | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || (v === '' && !empty)) throw bad(file, `storage.s3.${key} must be a non-empty string`);
    return v;
  };
  const bool = (key: string): boolean | undefined => {
    if (t[key] !== undefined && typeof t[key] !== 'boolean') throw bad(file, `storage.s3.${key} must be true or false`);
    return t[key] as boolean | undefined;
  };
  const int = (key: string, min: number): number | undefined => {
    const v = typeof t[key] === 'bigint' ? Number(t[key]) : t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(file, `storage.s3.${key} must be an integer of at least ${min}`);
    return v;
  };
  const bucket = str('bucket');
  if (bucket === undefined) throw bad(file, '[storage.s3] needs a bucket');
  const out: S3StorageConfig = { bucket };
  const endpoint = str('endpoint');
  if (endpoint !== undefined) {
    if (!/^https?:\/\/[^/]/.test(endpoint)) throw bad(file, `storage.s3.endpoint must be an http:// or https:// URL, not "${endpoint}"`);
    out.endpoint = endpoint;
  }
  const accessKey = str('access_key');
  const secretKey = str('secret_key');
  if ((accessKey === undefined) !== (secretKey === undefined)) throw bad(file, '[storage.s3] needs both access_key and secret_key, or neither');
  const ca = str('ca');
  const fields: Record<string, unknown> = {
    region: str('region'),
    prefix: str('prefix', true),
    pathStyle: bool('path_style'),
    accessKey,
    secretKey,
    ca: ca === undefined ? undefined : resolve(dirname(file), ca),
    partSize: int('part_size', 5 * 1024 * 1024),
    concurrency: int('concurrency', 1),
    redirect: bool('redirect'),
    cacheBytes: int('cache_bytes', 0),
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) Object.assign(out, { [k]: v });
  return out;
}

/** The config file's settings with every flag that was given taking precedence. */
export function mergeRegistryConfig(file: RegistryConfig, flags: RegistryConfig): RegistryConfig {
  const out: RegistryConfig = { ...file };
  for (const [k, v] of Object.entries(flags) as [keyof RegistryConfig, unknown][]) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** host and port of "host:port", ":port" (every interface) or "[v6]:port". */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new BerthError('USAGE', `invalid listen address "${addr}": expected host:port`);
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
}
