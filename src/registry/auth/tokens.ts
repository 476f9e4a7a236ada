// Docker registry tokens: JWTs whose `access` claim lists what the bearer may do, e.g.
// [{"type":"repository","name":"team/app","actions":["pull","push"]}]. The built-in issuer signs them with
// its private key; tokens of an external issuer are checked against its public keys.
import { createPrivateKey, createPublicKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, jwtVerify, SignJWT } from 'jose';
import { BerthError } from '../../util/errors.js';
import type { TokenConfig } from './config.js';

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** What a verified token says. */
export interface TokenClaims {
  subject: string;
  access: AccessEntry[];
  /** Signed by this server's own key (so its subject is one of our users, or "" for anonymous). */
  builtin: boolean;
}

interface VerifyKey {
  key: KeyObject;
  kid: string;
  builtin: boolean;
}

/** The JWS algorithm for a key: ES256/384/512 by curve, RS256, or EdDSA. */
function algorithmOf(key: KeyObject, file: string): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg = curve === 'prime256v1' ? 'ES256' : curve === 'secp384r1' ? 'ES384' : curve === 'secp521r1' ? 'ES512' : undefined;
    if (alg) return alg;
  }
  throw new BerthError('USAGE', `token key ${file}: unsupported key type ${type ?? 'unknown'} (use EC P-256 or RSA)`);
}

async function keyId(key: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(key));
}

/** Public keys of a PEM file: every certificate in it, or a public (or private) key. */
async function readPublicKeys(file: string): Promise<KeyObject[]> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new BerthError('USAGE', `token public key ${file}: ${(e as Error).message}`, { cause: e });
  }
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  try {
    if (certs) return certs.map((c) => new X509Certificate(c).publicKey);
    return [createPublicKey(pem)];
  } catch (e) {
    throw new BerthError('USAGE', `token public key ${file}: not a PEM public key or certificate`, { cause: e });
  }
}

export class TokenService {
  private constructor(
    readonly config: TokenConfig,
    private readonly signing: { key: KeyObject; alg: string; kid: string } | undefined,
    private readonly keys: VerifyKey[],
  ) {}

  static async open(config: TokenConfig): Promise<TokenService> {
    let signing: { key: KeyObject; alg: string; kid: string } | undefined;
    const keys: VerifyKey[] = [];
    if (config.key !== undefined) {
      let key: KeyObject;
      try {
        key = createPrivateKey(await readFile(config.key, 'utf8'));
      } catch (e) {
        throw new BerthError('USAGE', `token key ${config.key}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
      }
      const pub = createPublicKey(key);
      signing = { key, alg: algorithmOf(key, config.key), kid: await keyId(pub) };
      keys.push({ key: pub, kid: signing.kid, builtin: true });
    }
    for (const file of config.publicKeys) {
      for (const key of await readPublicKeys(file)) {
        algorithmOf(key, file);
        keys.push({ key, kid: await keyId(key), builtin: false });
      }
    }
    return new TokenService(config, signing, keys);
  }

  get canIssue(): boolean {
    return this.signing !== undefined;
  }

  /** A signed token for `subject` ("" for anonymous) granting `access`, valid for the configured expiry. */
  async issue(subject: string, access: AccessEntry[], now = Date.now()): Promise<{ token: string; expiresIn: number; issuedAt: string }> {
    if (!this.signing) throw new BerthError('INTERNAL', 'this registry has no token signing key');
    const iat = Math.floor(now / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: this.signing.alg, typ: 'JWT', kid: this.signing.kid })
      .setIssuer(this.config.issuer)
      .setSubject(subject)
      .setAudience(this.config.service)
      .setIssuedAt(iat)
      .setNotBefore(iat - 1)
      .setExpirationTime(iat + this.config.expirySeconds)
      .setJti(randomUUID())
      .sign(this.signing.key);
    return { token, expiresIn: this.config.expirySeconds, issuedAt: new Date(iat * 1000).toISOString() };
  }

  /** The claims of a token signed by a known key, for this service, from the issuer, and in date; undefined otherwise. */
  async verify(token: string): Promise<TokenClaims | undefined> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    const candidates = kid !== undefined && this.keys.some((k) => k.kid === kid) ? this.keys.filter((k) => k.kid === kid) : this.keys;
    for (const k of candidates) {
      try {
        const { payload } = await jwtVerify(token, k.key, {
          issuer: this.config.issuer,
          audience: this.config.service,
          requiredClaims: ['exp'],
          clockTolerance: 30,
        });
        const access = parseAccess(payload['access']);
        if (!access) return undefined;
        return { subject: typeof payload.sub === 'string' ? payload.sub : '', access, builtin: k.builtin };
      } catch {
        // the next key, if any
      }
    }
    return undefined;
  }
}

function parseAccess(v: unknown): AccessEntry[] | undefined {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return undefined;
  const out: AccessEntry[] = [];
  for (const e of v) {
    const { type, name, actions } = (e ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions) || !actions.every((a) => typeof a === 'string')) return undefined;
    out.push({ type, name, actions: actions as string[] });
  }
  return out;
}

/**
 * The scopes of a token request: `type:name:action,action`, several per parameter separated by spaces.
 * The name may hold colons (a registry host with a port), so the type ends at the first colon and the
 * actions start after the last.
 */
export function parseScopes(params: string[]): AccessEntry[] {
  const out: AccessEntry[] = [];
  for (const scope of params.flatMap((p) => p.split(' ')).filter((s) => s !== '')) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const actions = scope
      .slice(last + 1)
      .split(',')
      .filter((a) => a !== '');
    out.push({ type: scope.slice(0, first), name: scope.slice(first + 1, last), actions });
  }
  return out;
}

/** Whether the token grants `action` on `type:name` (`*` grants every action). */
export function grants(access: AccessEntry[], type: string, name: string, action: string): boolean {
  return access.some((e) => e.type === type && e.name === name && (e.actions.includes(action) || e.actions.includes('*')));
}
