/**
 * One auth file: containers-auth.json(5), ~/.docker/config.json, or the legacy ~/.dockercfg
 * (a bare host → entry map). Matching as containers/image pkg/docker/config `findCredentialsInFile`.
 */
import { BerthError } from '../util/errors.js';
import type { Credentials } from './_credhelper.js';

export interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  [field: string]: unknown;
}

export interface AuthFile {
  auths: Record<string, AuthEntry>;
  credHelpers: Record<string, string>;
  credsStore?: string;
  /** The whole document, unknown fields included, for rewriting. */
  raw: Record<string, unknown>;
}

/** What a file says about a key: credentials, or a helper to ask. */
export type FileMatch = { kind: 'credentials'; credentials: Credentials; entry: string } | { kind: 'helper'; helper: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseAuthFile(path: string, text: string, legacy: boolean): AuthFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BerthError('USAGE', `${path}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(doc)) throw new BerthError('USAGE', `${path}: must be a JSON object`);
  const entries = (v: unknown, what: string): Record<string, AuthEntry> => {
    if (v === undefined || v === null) return {};
    if (!isObject(v) || !Object.values(v).every(isObject)) throw new BerthError('USAGE', `${path}: ${what} must map registries to objects`);
    return v as Record<string, AuthEntry>;
  };
  if (legacy) return { auths: entries(doc, 'the legacy format'), credHelpers: {}, raw: doc };
  const helpers = doc['credHelpers'] ?? {};
  if (!isObject(helpers) || !Object.values(helpers).every((h) => typeof h === 'string')) {
    throw new BerthError('USAGE', `${path}: credHelpers must map registries to helper names`);
  }
  const store = doc['credsStore'];
  if (store !== undefined && typeof store !== 'string') throw new BerthError('USAGE', `${path}: credsStore must be a string`);
  return { auths: entries(doc['auths'], 'auths'), credHelpers: helpers as Record<string, string>, ...(store ? { credsStore: store } : {}), raw: doc };
}

/** docker.io's other names. */
export function normalizeRegistry(registry: string): string {
  return registry === 'registry-1.docker.io' || registry === 'docker.io' ? 'index.docker.io' : registry;
}

/** `normalizeAuthFileKey`: 'https://index.docker.io/v1/' → 'index.docker.io'; a plain key is kept whole. */
export function normalizeAuthFileKey(key: string, legacy: boolean): string {
  let stripped = key.replace(/^http:\/\//, '');
  stripped = stripped.replace(/^https:\/\//, '');
  if (legacy || stripped !== key) stripped = stripped.split('/')[0]!;
  return normalizeRegistry(stripped);
}

/** `authKeysForKey`: 'a/b/c' → ['a/b/c', 'a/b', 'a'] (most specific first). */
export function authKeysForKey(key: string): string[] {
  const keys = [key];
  for (let i = key.lastIndexOf('/'); i !== -1; i = key.lastIndexOf('/')) {
    key = key.slice(0, i);
    keys.push(key);
  }
  return keys;
}

/** `decodeDockerAuth`: base64 "user:password"; a malformed or empty `auth` is no credentials (as docker). */
export function decodeAuthEntry(entry: AuthEntry): Credentials | undefined {
  const decoded = Buffer.from(typeof entry.auth === 'string' ? entry.auth : '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const identityToken = typeof entry.identitytoken === 'string' ? entry.identitytoken : '';
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, ''), identityToken };
}

export function hasCredentials(c: Credentials | undefined): c is Credentials {
  return c !== undefined && ((c.username !== '' && c.password !== '') || c.identityToken !== '');
}

/**
 * The file's answer for `key` (host, host/namespace or host/namespace/repo) on `registry` (its host):
 * credHelpers[registry], then the most specific exact entry, then an entry whose key normalises to the
 * registry (URL-style keys, docker.io's /v1/ key), then credsStore.
 */
export function matchAuthFile(file: AuthFile, key: string, registry: string, legacy: boolean): FileMatch | undefined {
  const helper = file.credHelpers[registry];
  if (helper !== undefined) return { kind: 'helper', helper };
  const found = (entry: string): FileMatch | undefined => {
    const credentials = decodeAuthEntry(file.auths[entry]!);
    return hasCredentials(credentials) ? { kind: 'credentials', credentials, entry } : undefined;
  };
  for (const k of legacy ? [registry] : authKeysForKey(key)) {
    if (Object.hasOwn(file.auths, k)) return found(k) ?? (file.credsStore ? { kind: 'helper', helper: file.credsStore } : undefined);
  }
  const normalized = normalizeRegistry(registry);
  for (const k of Object.keys(file.auths)) {
    if (normalizeAuthFileKey(k, legacy) === normalized) return found(k) ?? (file.credsStore ? { kind: 'helper', helper: file.credsStore } : undefined);
  }
  return file.credsStore ? { kind: 'helper', helper: file.credsStore } : undefined;
}

/** The document to write back: `auths` replaced, every other field as read. */
export function serializeAuthFile(file: AuthFile): string {
  const raw: Record<string, unknown> = { ...file.raw, auths: file.auths };
  return `${JSON.stringify(raw, null, '\t')}\n`;
}
