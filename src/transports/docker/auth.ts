/**
 * Registry authentication as docker and containers/image do it: the `WWW-Authenticate` challenge of
 * `/v2/` (or of any 401) says Basic or Bearer; Bearer tokens are fetched from the realm for the
 * scopes a request needs (anonymously, with Basic credentials, or with an identity token as an
 * OAuth2 refresh token) and reused until they expire.
 */
import type { Credentials } from '../../config/auth.js';
import { BerthError } from '../../util/errors.js';

export interface Challenge {
  /** Lower-cased: 'bearer', 'basic'. */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235): one or more challenges, each a scheme and
 * comma-separated `key=value` or `key="quoted \"value\""` parameters. Parameter names are lower-cased.
 */
export function parseWWWAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (re: RegExp) => {
    while (i < n && re.test(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skip(/[\s,]/);
    if (i >= n) break;
    const start = i;
    const word = token();
    if (word === '') {
      i++; // a character no grammar allows: step over it
      continue;
    }
    skip(/\s/);
    if (header[i] === '=' && current) {
      // a parameter of the current challenge (but "token68" forms like "abc==" are ignored)
      i++;
      skip(/\s/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const vs = i;
        while (i < n && header[i] !== ',' && !/\s/.test(header[i]!)) i++;
        value = header.slice(vs, i);
      }
      current.params[word.toLowerCase()] = value;
    } else {
      i = start + word.length;
      current = { scheme: word.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** `repository:NAME:ACTIONS`, as a token request asks for it. */
export function repositoryScope(repository: string, actions: string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/** Sends a token request and gives back status and body: the client supplies its HTTP and TLS. */
export type TokenFetcher = (req: {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
}) => Promise<{ status: number; body: Buffer }>;

interface CachedToken {
  token: string;
  expires: number;
}

/** Tokens are valid this long when the issuer does not say (the distribution spec's minimum). */
const DEFAULT_TOKEN_SECONDS = 60;

/** Holds one registry's challenge, credentials and tokens; hands out the Authorization header for a request. */
export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials | undefined,
    private readonly fetchToken: TokenFetcher,
  ) {}

  /** Takes the challenge of a 401 (Bearer preferred over Basic). True when it differs from the one held. */
  setChallenge(header: string | undefined): boolean {
    if (!header) return false;
    const all = parseWWWAuthenticate(header);
    const chosen = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    const changed = JSON.stringify(chosen) !== JSON.stringify(this.challenge);
    this.challenge = chosen;
    return changed;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  hasCredentials(): boolean {
    return this.credentials !== undefined && (this.credentials.username !== '' || this.credentials.identityToken !== '');
  }

  /** Forgets the tokens for `scopes` (after a 401 that says a token no longer serves). */
  invalidate(scopes: string[]): void {
    this.tokens.delete(scopeKey(scopes));
  }

  /** The Authorization header for a request needing `scopes`; undefined when none is called for. */
  async authorization(scopes: string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      if (!this.credentials || this.credentials.username === '') return undefined;
      return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`, 'utf8').toString('base64')}`;
    }
    if (c.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.requestToken(c, scopes);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private async requestToken(c: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = c.params['realm'];
    if (!realm) throw new BerthError('UNAUTHORIZED', `${this.registry}: the registry asks for a bearer token but names no realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new BerthError('UNAUTHORIZED', `${this.registry}: invalid token realm ${JSON.stringify(realm)}`);
    }
    const creds = this.credentials;
    let res: { status: number; body: Buffer };
    if (creds?.identityToken) {
      // OAuth2 refresh-token grant, as docker does with an identity token.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'berth' });
      if (c.params['service']) form.set('service', c.params['service']);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      res = await this.fetchToken({
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      if (c.params['service']) url.searchParams.set('service', c.params['service']);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (creds && creds.username !== '') headers['Authorization'] = `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`;
      res = await this.fetchToken({ method: 'GET', url, headers });
    }
    if (res.status === 401 || res.status === 403) {
      const why = creds && (creds.username !== '' || creds.identityToken !== '') ? 'invalid username/password' : 'authentication required';
      throw new BerthError(
        'UNAUTHORIZED',
        `${this.registry}: unable to retrieve auth token: ${why}: unauthorized (status ${res.status} from ${url.origin}${url.pathname})`,
      );
    }
    if (res.status !== 200)
      throw new BerthError('UNAUTHORIZED', `${this.registry}: token request to ${url.origin}${url.pathname} failed with status ${res.status}`, {
        temporary: res.status >= 500,
      });
    let doc: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      doc = JSON.parse(res.body.toString('utf8')) as typeof doc;
    } catch {
      throw new BerthError('UNAUTHORIZED', `${this.registry}: the token endpoint answered something that is not JSON`);
    }
    const token = doc.token || doc.access_token;
    if (!token) throw new BerthError('UNAUTHORIZED', `${this.registry}: the token endpoint returned no token`);
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = doc.issued_at ? Date.parse(doc.issued_at) : NaN;
    const start = Number.isFinite(issued) && issued <= Date.now() ? issued : Date.now();
    // Renew a little early so that a token does not expire between being chosen and being checked.
    return { token, expires: start + seconds * 1000 - 5000 };
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}
