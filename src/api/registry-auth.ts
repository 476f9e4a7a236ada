// What the Docker API says about registries: the credentials a client sends (the X-Registry-Auth
// header of pull and push, the body of POST /auth), and which registries go without TLS checks.
import { badRequest } from './errors.js';

export interface AuthConfig {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress?: string;
}

/** The registry options' credentials: none, a username and password, or an identity token. */
export type Creds = { username: string; password: string; identityToken?: string };

/**
 * X-Registry-Auth: base64url (docker's CLI) or base64 (older clients) of JSON AuthConfig. An
 * empty header or `{}` (the CLI's "e30=" when it has no credentials) is no credentials.
 */
export function decodeRegistryAuth(header: string | undefined): AuthConfig | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  let parsed: unknown;
  try {
    // Node's base64 decoding takes the URL-safe alphabet too, padded or not.
    parsed = JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8'));
  } catch {
    throw badRequest('invalid X-Registry-Auth header: it is not base64-encoded JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw badRequest('invalid X-Registry-Auth header: it is not a JSON object');
  return authConfig(parsed as Record<string, unknown>);
}

/** The fields berth uses of an AuthConfig (Docker's names are case-insensitive in Go's JSON decoding). */
export function authConfig(raw: Record<string, unknown>): AuthConfig {
  const field = (name: string) => {
    const key = Object.keys(raw).find((k) => k.toLowerCase() === name);
    const v = key === undefined ? undefined : raw[key];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const out: AuthConfig = {};
  for (const name of ['username', 'password', 'identitytoken', 'serveraddress'] as const) {
    const v = field(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Credentials for the registry client, or undefined to use what berth has stored (auth.json). */
export function credsOf(auth: AuthConfig | undefined): Creds | undefined {
  if (!auth) return undefined;
  if (auth.identitytoken) return { username: auth.username ?? '', password: '', identityToken: auth.identitytoken };
  if (auth.username !== undefined || auth.password !== undefined) return { username: auth.username ?? '', password: auth.password ?? '' };
  return undefined;
}

/** A /auth serveraddress ("https://index.docker.io/v1/", "http://127.0.0.1:5000", "reg:5000") as the registry's host[:port]. */
export function registryHost(serverAddress: string | undefined): string {
  if (!serverAddress) return 'docker.io';
  const host = serverAddress
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * Docker treats registries on 127.0.0.0/8 (and ::1) as insecure by default: plain HTTP and no
 * certificate checks. The API does the same for them, so a client's pull or push to a local test
 * registry works as it does with dockerd; every other registry follows berth's registries.conf.
 */
export function isDockerInsecureByDefault(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return /^127\.\d+\.\d+\.\d+$/.test(name) || name === 'localhost' || name === '::1';
}

/** The registry options for `host`: the client's credentials and, for a loopback registry, no TLS checks. */
export function registryOptionsFor(host: string, auth: AuthConfig | undefined): { creds?: Creds; tlsVerify?: boolean } {
  const creds = credsOf(auth);
  return { ...(creds ? { creds } : {}), ...(isDockerInsecureByDefault(host) ? { tlsVerify: false } : {}) };
}

/**
 * X-Registry-Config (a build's pulls): base64 JSON of registry address to AuthConfig, the docker
 * CLI's whole credential store. Keyed here by host, as registryHost names it.
 */
export function decodeRegistryConfig(header: string | undefined): Map<string, AuthConfig> {
  const out = new Map<string, AuthConfig>();
  if (header === undefined || header.trim() === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header.trim(), 'base64').toString('utf8'));
  } catch {
    throw badRequest('invalid X-Registry-Config header: it is not base64-encoded JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw badRequest('invalid X-Registry-Config header: it is not a JSON object');
  for (const [address, value] of Object.entries(parsed)) {
    if (typeof value === 'object' && value !== null) out.set(registryHost(address), authConfig(value as Record<string, unknown>));
  }
  return out;
}
