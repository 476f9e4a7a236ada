// The upstream registry of a pull-through cache: GET and HEAD over node:http(s) (keep-alive agents, an
// extra CA, redirects for blobs kept on a CDN or behind presigned URLs) with the distribution spec's
// authentication: a 401's WWW-Authenticate names Basic (credentials sent as they are) or Bearer (a token
// for `repository:NAME:pull` fetched from the realm, with the credentials, and reused until it expires).
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { errnoCode } from '../../util/errors.js';
import { RegistryError } from '../errors.js';

export interface UpstreamOptions {
  /** http(s)://host[:port] */
  remote: string;
  username?: string | undefined;
  password?: string | undefined;
  /** PEM certificates trusted besides the system's roots. */
  ca?: string | Buffer | undefined;
  /** A request with nothing received for this long fails (default 30 s). */
  timeoutMs?: number | undefined;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  realm?: string;
  service?: string;
}

const MAX_REDIRECTS = 5;
/** Tokens kept (one per repository pulled); the oldest goes first. */
const MAX_TOKENS = 1024;
/** A token the issuer gives no lifetime for is good this long (the spec's minimum). */
const DEFAULT_TOKEN_SECONDS = 60;

/** The Bearer (preferred) or Basic challenge of a WWW-Authenticate header, with the parameters a token request needs. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  // Each challenge starts with its scheme; what follows up to the next scheme are its key=value parameters.
  const parts = header.split(/(?:^|,)\s*(?=(?:basic|bearer)(?:\s|$))/i).filter((p) => p.trim() !== '');
  const challenges = parts.map((part): Challenge | undefined => {
    const scheme = /^(\w+)/.exec(part.trim())?.[1]?.toLowerCase();
    if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
    const c: Challenge = { scheme };
    for (const m of part.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
      const key = m[1]!.toLowerCase();
      const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
      if (key === 'realm' || key === 'service') c[key] = value;
    }
    return c;
  });
  return challenges.find((c) => c?.scheme === 'bearer') ?? challenges.find((c) => c?.scheme === 'basic');
}

/** Reads a body of at most `limit` bytes (more is an error: an upstream is not trusted with our memory). */
export async function readBody(res: UpstreamResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      res.body.destroy();
      throw new RegistryError('UNAVAILABLE', `the upstream's answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class Upstream {
  readonly origin: string;
  private readonly timeoutMs: number;
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent: https.Agent;
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  constructor(private readonly opts: UpstreamOptions) {
    this.origin = new URL(opts.remote).origin;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.httpsAgent = new https.Agent({ keepAlive: true, ...(opts.ca ? { ca: [...rootCertificates, opts.ca.toString()] } : {}) });
  }

  /**
   * `method` of `/v2/<path>` on the upstream, authenticated for pulling `repository`. Network failures
   * reject (see unreachable()); every HTTP answer resolves, a 401 after the credentials were tried too.
   */
  async request(method: 'GET' | 'HEAD', repository: string, path: string, headers: Record<string, string> = {}): Promise<UpstreamResponse> {
    const url = new URL(`/v2/${path}`, this.origin);
    const scope = `repository:${repository}:pull`;
    const sent = await this.authorization(scope);
    const res = await this.send(method, url, { ...headers, ...(sent ? { Authorization: sent } : {}) });
    if (res.status !== 401) return res;
    const challenge = parseChallenge(header(res.headers['www-authenticate']));
    if (!challenge) return res;
    // A first challenge, or a token that no longer serves (expired early, revoked): one more try.
    this.challenge = challenge;
    this.tokens.delete(scope);
    const again = await this.authorization(scope);
    if (again === undefined || (again === sent && challenge.scheme === 'basic')) return res;
    res.body.resume();
    return this.send(method, url, { ...headers, Authorization: again });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private basic(): string | undefined {
    const { username, password } = this.opts;
    return username === undefined ? undefined : `Basic ${Buffer.from(`${username}:${password ?? ''}`, 'utf8').toString('base64')}`;
  }

  private async authorization(scope: string): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return this.basic();
    const cached = this.tokens.get(scope);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(c, scope);
    if (this.tokens.size >= MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    this.tokens.set(scope, token);
    return `Bearer ${token.token}`;
  }

  private async fetchToken(c: Challenge, scope: string): Promise<{ token: string; expires: number }> {
    const refused = (why: string) => new RegistryError('UNAVAILABLE', `upstream ${this.origin}: ${why}`);
    let url: URL;
    try {
      url = new URL(c.realm ?? '');
    } catch {
      throw refused(`the token realm ${JSON.stringify(c.realm ?? '')} is not a URL`);
    }
    if (c.service !== undefined) url.searchParams.set('service', c.service);
    url.searchParams.set('scope', scope);
    const basic = this.basic();
    let res: UpstreamResponse;
    try {
      res = await this.send('GET', url, basic ? { Authorization: basic } : {});
    } catch (e) {
      throw unreachable(`token endpoint ${url.origin}${url.pathname}`, e);
    }
    const body = await readBody(res, 1 << 20).catch(() => Buffer.alloc(0));
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        'DENIED',
        `upstream ${this.origin}: the token endpoint refused ${basic ? 'proxy.username and password' : 'an anonymous request'} (${res.status})`,
      );
    }
    if (res.status !== 200) throw refused(`the token endpoint answered ${res.status}`);
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw refused('the token endpoint answered something that is not JSON');
    }
    const token = typeof doc.token === 'string' && doc.token !== '' ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token === '') throw refused('the token endpoint gave no token');
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_SECONDS;
    // Renewed a little early, so that it does not expire on its way.
    return { token, expires: Date.now() + seconds * 1000 - 5000 };
  }

  /** One request, following redirects (without the Authorization header once the origin changes). */
  private async send(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>): Promise<UpstreamResponse> {
    let current = url;
    let sending = headers;
    for (let hop = 0; ; hop++) {
      const res = await this.once(method, current, sending);
      const location = header(res.headers.location);
      if (![301, 302, 303, 307, 308].includes(res.status) || location === undefined || hop === MAX_REDIRECTS) return res;
      res.body.resume();
      const next = new URL(location, current);
      if (next.origin !== current.origin) {
        const { Authorization: _dropped, ...rest } = sending;
        sending = rest;
      }
      current = next;
    }
  }

  private once(method: string, url: URL, headers: Record<string, string>): Promise<UpstreamResponse> {
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method, headers, agent: secure ? this.httpsAgent : this.httpAgent }, (res) => {
        // Past this point an idle socket fails the body (the consumer sees the error), not the request.
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.once('error', reject);
      req.end();
    });
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The error for an upstream that could not be reached at all (or the registry error a token request ended in). */
export function unreachable(what: string, e: unknown): RegistryError {
  if (e instanceof RegistryError) return e;
  const code = errnoCode(e);
  const why = e instanceof Error ? e.message : String(e);
  return new RegistryError('UNAVAILABLE', `${what} is unreachable: ${code && !why.includes(code) ? `${code} ` : ''}${why}`, { cause: e });
}

/**
 * The error for an upstream answer other than the one wanted: its 404 as `notFound` (or the spec code
 * its body gives), 429 as TOOMANYREQUESTS, a refusal of our credentials as DENIED, anything else UNAVAILABLE.
 */
export async function upstreamError(origin: string, res: UpstreamResponse, notFound: RegistryError): Promise<RegistryError> {
  const body = await readBody(res, 64 << 10).catch(() => Buffer.alloc(0));
  if (res.status === 404) {
    let code: unknown;
    try {
      code = (JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] }).errors?.[0]?.code;
    } catch {
      // no JSON body: the 404 alone says it
    }
    if (code === 'NAME_UNKNOWN' && notFound.code !== 'NAME_UNKNOWN')
      return new RegistryError('NAME_UNKNOWN', `${notFound.message} (upstream: repository unknown)`, { detail: notFound.detail });
    return notFound;
  }
  if (res.status === 429) return new RegistryError('TOOMANYREQUESTS', `upstream ${origin} asks for fewer requests (429)`);
  if (res.status === 401 || res.status === 403) return new RegistryError('DENIED', `upstream ${origin} refused access (${res.status})`);
  return new RegistryError('UNAVAILABLE', `upstream ${origin} answered ${res.status}`);
}

/** Whether an upstream failure is one a cached copy may stand in for: unreachable, 5xx, 429. */
export function isUpstreamDown(e: unknown): boolean {
  return e instanceof RegistryError && (e.code === 'UNAVAILABLE' || e.code === 'TOOMANYREQUESTS');
}
