// Access control for the registry: the middleware that runs on every /v2/ request once its target is known,
// and the built-in token endpoint. A request is anonymous, a Basic user (htpasswd) or a bearer token; it
// passes only when the rules (or the token's access claim) allow every action its target needs. Otherwise
// it gets 401 with the challenge to answer (Basic, or Bearer with the scope to ask for), or 403 when
// asking again cannot help.
import type { Context, MiddlewareHandler } from 'hono';
import { RegistryError } from '../errors.js';
import { isValidName } from '../names.js';
import type { RegistryEnv, RegistryTarget } from '../routes/_http.js';
import type { AuthConfig } from './config.js';
import { Htpasswd } from './htpasswd.js';
import { AccessPolicy } from './policy.js';
import { grants, parseScopes, TokenService, type AccessEntry, type TokenClaims } from './tokens.js';

export const BASIC_REALM = 'berth-registry';

export interface AccessControl {
  /** Goes into createRegistryApp's middleware. */
  middleware: MiddlewareHandler<RegistryEnv>;
  /** The built-in token endpoint (GET, or POST with an OAuth2 password grant), when there is a signing key. */
  tokenEndpoint?: (c: Context) => Promise<Response>;
  /** "htpasswd", "token" and the like, for the startup message. */
  describe(): string;
}

type Identity = { kind: 'anonymous' } | { kind: 'user'; user: string } | { kind: 'token'; claims: TokenClaims };

/** The access a request needs: its target's action, plus pull on the source repository of a cross-mount. */
export function requiredAccess(target: RegistryTarget, query: (k: string) => string | undefined): AccessEntry[] {
  if (target.kind === 'base') return [];
  if (target.kind === 'catalog') return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  const out: AccessEntry[] = [{ type: 'repository', name: target.name!, actions: [target.action] }];
  const from = query('from');
  if (target.kind === 'uploads' && target.action === 'push' && query('mount') !== undefined && from !== undefined && isValidName(from)) {
    out.push({ type: 'repository', name: from, actions: ['pull'] });
  }
  return out;
}

/** A scope as a token request names it; a push asks for pull too, as docker clients do. */
function scopeOf(e: AccessEntry): string {
  const actions = e.actions.includes('push') ? ['pull', 'push'] : e.actions;
  return `${e.type}:${e.name}:${actions.join(',')}`;
}

function quote(v: string): string {
  return `"${v.replace(/["\\]/g, '\\$&')}"`;
}

function decodeBasic(value: string): { user: string; password: string } | undefined {
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export async function createAccessControl(config: AuthConfig): Promise<AccessControl> {
  const users = config.htpasswd === undefined ? undefined : await Htpasswd.open(config.htpasswd);
  const tokens = config.token === undefined ? undefined : await TokenService.open(config.token);
  const policy = new AccessPolicy(config);
  const canAuthenticate = users !== undefined || tokens !== undefined;

  const realmOf = (c: Context): string => config.token?.realm ?? `${new URL(c.req.url).origin}/token`;

  const challenge = (c: Context, needed: AccessEntry[], error?: 'invalid_token' | 'insufficient_scope'): string => {
    if (!tokens) return `Basic realm=${quote(BASIC_REALM)}`;
    let value = `Bearer realm=${quote(realmOf(c))},service=${quote(tokens.config.service)}`;
    if (needed.length > 0) value += `,scope=${quote(needed.map(scopeOf).join(' '))}`;
    if (error) value += `,error=${quote(error)}`;
    return value;
  };

  const unauthorized = (c: Context, needed: AccessEntry[], message: string, error?: 'invalid_token' | 'insufficient_scope'): RegistryError =>
    new RegistryError('UNAUTHORIZED', message, {
      headers: { 'WWW-Authenticate': challenge(c, needed, error) },
      detail: needed.map((e) => ({ Type: e.type, Name: e.name, Action: e.actions.join(',') })),
    });

  const denied = (needed: AccessEntry[]): RegistryError =>
    new RegistryError('DENIED', 'requested access to the resource is denied', {
      detail: needed.map((e) => ({ Type: e.type, Name: e.name, Action: e.actions.join(',') })),
    });

  /** Who is asking; throws 401 for credentials that do not check out. */
  const identify = async (c: Context, needed: AccessEntry[]): Promise<Identity> => {
    const header = c.req.header('authorization');
    if (header === undefined || header.trim() === '') return { kind: 'anonymous' };
    const [scheme, value = ''] = header.trim().split(/\s+/, 2) as [string, string?];
    if (scheme.toLowerCase() === 'basic') {
      const creds = decodeBasic(value);
      if (creds && creds.user === '' && creds.password === '') return { kind: 'anonymous' };
      // Always a bcrypt comparison, known user or not (Htpasswd.verify).
      if (creds && users && (await users.verify(creds.user, creds.password))) return { kind: 'user', user: creds.user };
      throw unauthorized(c, needed, 'invalid username or password');
    }
    if (scheme.toLowerCase() === 'bearer' && tokens) {
      const claims = await tokens.verify(value);
      if (claims) return { kind: 'token', claims };
      throw unauthorized(c, needed, 'invalid, expired or foreign token', 'invalid_token');
    }
    throw unauthorized(c, needed, `unsupported authorization scheme ${scheme}`);
  };

  const allowedFor = (user: string | undefined, e: AccessEntry): boolean =>
    e.type === 'registry' ? policy.mayListCatalog(user) : e.actions.every((a) => policy.may(user, e.name, a as 'pull' | 'push' | 'delete'));

  const middleware: MiddlewareHandler<RegistryEnv> = async (c, next) => {
    const needed = requiredAccess(c.var.target, (k) => c.req.query(k));
    const who = await identify(c, needed);
    if (who.kind === 'user') c.set('user', who.user);
    else if (who.kind === 'token' && who.claims.subject !== '') c.set('user', who.claims.subject);
    if (c.var.target.kind === 'base') {
      // Clients probe /v2/ to learn how to authenticate; anyone with valid credentials passes.
      if (who.kind === 'anonymous' && canAuthenticate) throw unauthorized(c, [], 'authentication required');
      return next();
    }
    const missing = needed.filter((e) => {
      if (allowedFor(undefined, e)) return false; // open to anonymous requests: credentials do not matter
      if (who.kind === 'user') return !allowedFor(who.user, e);
      if (who.kind === 'token') return !e.actions.every((a) => grants(who.claims.access, e.type, e.name, a));
      return true;
    });
    if (missing.length === 0) return next();
    if (who.kind === 'user') throw denied(missing);
    if (who.kind === 'token') {
      // Our own token for a user the rules refuse: a new token would not help.
      const user = who.claims.subject;
      if (who.claims.builtin && user !== '' && missing.some((e) => !allowedFor(user, e))) throw denied(missing);
      throw unauthorized(c, needed, 'the token does not grant this access', 'insufficient_scope');
    }
    if (!canAuthenticate) throw denied(missing);
    throw unauthorized(c, needed, 'authentication required');
  };

  const tokenEndpoint = async (c: Context): Promise<Response> => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers } });
    const fail = (status: number, error: string, description: string, headers?: Record<string, string>) =>
      json(status, { error, error_description: description, errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message: description }] }, headers);
    let params: URLSearchParams;
    let user: string | undefined;
    if (c.req.method === 'POST') {
      params = new URLSearchParams(await c.req.text());
      if (params.get('grant_type') !== 'password') return fail(400, 'unsupported_grant_type', 'only the password grant is supported');
      const name = params.get('username') ?? '';
      if (!users || !(await users.verify(name, params.get('password') ?? ''))) return fail(401, 'invalid_grant', 'invalid username or password');
      user = name;
    } else {
      params = new URL(c.req.url).searchParams;
      const header = c.req.header('authorization');
      if (header !== undefined && header.trim() !== '') {
        const [scheme, value = ''] = header.trim().split(/\s+/, 2) as [string, string?];
        const creds = scheme.toLowerCase() === 'basic' ? decodeBasic(value) : undefined;
        const anonymous = creds?.user === '' && creds.password === '';
        if (!anonymous) {
          if (!creds || !users || !(await users.verify(creds.user, creds.password))) {
            return fail(401, 'invalid_grant', 'invalid username or password', { 'WWW-Authenticate': `Basic realm=${quote(BASIC_REALM)}` });
          }
          user = creds.user;
        }
      }
    }
    const service = params.get('service');
    if (service !== null && service !== tokens!.config.service)
      return fail(400, 'invalid_request', `this issuer serves ${tokens!.config.service}, not ${service}`);
    const access = policy.grant(user, parseScopes(params.getAll('scope')));
    const t = await tokens!.issue(user ?? '', access);
    return json(200, { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt });
  };

  return {
    middleware,
    ...(tokens?.canIssue ? { tokenEndpoint } : {}),
    describe: () =>
      [
        users ? `htpasswd ${config.htpasswd}` : '',
        tokens ? `token service ${tokens.config.service}${tokens.canIssue ? ' (built-in issuer at /token)' : ''}` : '',
        `${config.access.length} access rules`,
      ]
        .filter((s) => s !== '')
        .join(', '),
  };
}
