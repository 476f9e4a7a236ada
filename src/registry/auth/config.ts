// The access-control part of the registry config: [auth], [auth.token] and [[access]] rules.
import { dirname, resolve } from 'node:path';
import { BerthError } from '../../util/errors.js';

/**
 * ```toml
 * [auth]
 * htpasswd = "users.htpasswd"      # bcrypt entries (htpasswd -B); relative to the config file
 * catalog = ["alice"]              # who may list /v2/_catalog (default: any user when there are no rules, else nobody)
 * [auth.token]                     # Docker token authentication instead of Basic
 * service = "registry.example.com" # the audience of tokens (required)
 * issuer = "berth-registry"        # the iss of tokens, built-in or external (default "berth-registry")
 * key = "token.key"                # PEM private key (EC P-256 or RSA): enables the built-in GET /token endpoint
 * public_key = ["issuer.pem"]      # PEM public keys or certificates of an external issuer
 * realm = "https://auth.example.com/token"  # where clients get tokens (default: this server's /token)
 * expiry = "5m"                    # lifetime of built-in tokens
 * [[access]]                       # rules, first match wins; a repository no rule matches is private to nobody
 * repository = "public/**"         # * matches within one path component, ** across them
 * pull = ["anonymous"]             # "anonymous": everyone, even without credentials; "*": any user; or user names
 * push = ["alice"]
 * delete = ["alice"]
 * ```
 * With [auth] but no [[access]] rules, every user may do everything and anonymous requests nothing.
 */
export interface AuthConfig {
  htpasswd?: string;
  token?: TokenConfig;
  catalog: string[];
  access: AccessRule[];
}

export interface TokenConfig {
  service: string;
  issuer: string;
  realm?: string;
  /** Private key file of the built-in issuer. */
  key?: string;
  /** Public key or certificate files of external issuers. */
  publicKeys: string[];
  expirySeconds: number;
}

export type RepositoryAction = 'pull' | 'push' | 'delete';
export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

export interface AccessRule {
  repository: string;
  pull: string[];
  push: string[];
  delete: string[];
}

/** The principal for requests without credentials. */
export const ANONYMOUS = 'anonymous';
/** Any authenticated user. */
export const ANY_USER = '*';

const USER_RE = /^[^\s:]+$/;
/** Repository name characters plus `*`, in non-empty `/`-separated components. */
const PATTERN_RE = /^[a-z0-9._*-]+(?:\/[a-z0-9._*-]+)*$/;

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** "90s", "5m", "1h", "7d" (or a plain number of seconds) in milliseconds. */
export function parseDuration(text: unknown, what: string): number {
  const m = typeof text === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim()) : undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  if (m) return Number(m[1]) * unit[m[2] as keyof typeof unit];
  if ((typeof text === 'number' || typeof text === 'bigint') && Number(text) >= 0) return Number(text) * 1000;
  throw new BerthError('USAGE', `${what} must be a duration such as "90s", "5m", "1h" or "7d"`);
}

/** Parses [auth] and [[access]] of a registry config document; undefined when neither is there. */
export function parseAuthConfig(doc: Table, file: string): AuthConfig | undefined {
  const bad = (why: string) => new BerthError('USAGE', `registry config ${file}: ${why}`);
  const auth = doc['auth'];
  const access = doc['access'];
  if (auth === undefined && access === undefined) return undefined;
  if (auth !== undefined && !isTable(auth)) throw bad('[auth] must be a table');
  if (access !== undefined && (!Array.isArray(access) || !access.every(isTable))) throw bad('access must be an array of tables ([[access]])');
  const a: Table = auth ?? {};
  const keysOnly = (t: Table, allowed: string[], where: string) => {
    for (const k of Object.keys(t)) if (!allowed.includes(k)) throw bad(`unknown key "${k}" in ${where}`);
  };
  keysOnly(a, ['htpasswd', 'catalog', 'token'], '[auth]');
  const str = (t: Table, k: string, where: string): string | undefined => {
    const v = t[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw bad(`${where}.${k} must be a non-empty string`);
    return v;
  };
  const path = (t: Table, k: string, where: string) => {
    const v = str(t, k, where);
    return v === undefined ? undefined : resolve(dirname(file), v);
  };
  const principals = (t: Table, k: string, where: string): string[] | undefined => {
    const v = t[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((p) => typeof p === 'string' && USER_RE.test(p))) {
      throw bad(`${where}.${k} must be a list of user names, "${ANY_USER}" or "${ANONYMOUS}"`);
    }
    return v as string[];
  };

  const rules: AccessRule[] = [];
  for (const [i, r] of ((access ?? []) as Table[]).entries()) {
    const where = `access[${i}]`;
    keysOnly(r, ['repository', 'pull', 'push', 'delete'], `[[access]] #${i + 1}`);
    const repository = str(r, 'repository', where);
    if (repository === undefined) throw bad(`[[access]] #${i + 1} needs a repository pattern`);
    if (!PATTERN_RE.test(repository)) throw bad(`${where}.repository "${repository}" is not a repository name pattern`);
    rules.push({
      repository,
      pull: principals(r, 'pull', where) ?? [],
      push: principals(r, 'push', where) ?? [],
      delete: principals(r, 'delete', where) ?? [],
    });
  }

  const config: AuthConfig = { catalog: principals(a, 'catalog', 'auth') ?? (rules.length === 0 ? [ANY_USER] : []), access: rules };
  const htpasswd = path(a, 'htpasswd', 'auth');
  if (htpasswd !== undefined) config.htpasswd = htpasswd;
  const t = a['token'];
  if (t !== undefined) {
    if (!isTable(t)) throw bad('[auth.token] must be a table');
    keysOnly(t, ['service', 'issuer', 'realm', 'key', 'public_key', 'expiry'], '[auth.token]');
    const service = str(t, 'service', 'auth.token');
    if (service === undefined) throw bad('[auth.token] needs a service (the audience of its tokens)');
    const pk = t['public_key'];
    const publicKeys = pk === undefined ? [] : typeof pk === 'string' ? [pk] : pk;
    if (!Array.isArray(publicKeys) || !publicKeys.every((p) => typeof p === 'string' && p !== ''))
      throw bad('auth.token.public_key must be a file or a list of files');
    const token: TokenConfig = {
      service,
      issuer: str(t, 'issuer', 'auth.token') ?? 'berth-registry',
      publicKeys: (publicKeys as string[]).map((p) => resolve(dirname(file), p)),
      expirySeconds: t['expiry'] === undefined ? 300 : Math.round(wrap(() => parseDuration(t['expiry'], 'auth.token.expiry')) / 1000),
    };
    const realm = str(t, 'realm', 'auth.token');
    if (realm !== undefined) {
      if (!/^https?:\/\/[^\s"]+$/.test(realm)) throw bad('auth.token.realm must be an http(s) URL');
      token.realm = realm;
    }
    const key = path(t, 'key', 'auth.token');
    if (key !== undefined) token.key = key;
    if (key === undefined && token.publicKeys.length === 0) throw bad('[auth.token] needs a key (built-in issuer) or public_key (external issuer)');
    if (key === undefined && realm === undefined) throw bad('[auth.token] with only an external issuer needs its realm');
    if (token.expirySeconds < 1) throw bad('auth.token.expiry must be at least 1s');
    config.token = token;
  }
  if (t !== undefined && htpasswd === undefined && rules.length === 0 && config.token?.key !== undefined) {
    throw bad('[auth.token] with a built-in issuer needs [auth] htpasswd users or [[access]] rules for anonymous users');
  }
  return config;

  function wrap<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
}

/** Whether a repository name matches a rule's pattern: `*` within one path component, `**` across them. */
export function matchPattern(pattern: string, name: string): boolean {
  const re = pattern
    .split('**')
    .map((part) =>
      part
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*'),
    )
    .join('.*');
  return new RegExp(`^${re}$`).test(name);
}
