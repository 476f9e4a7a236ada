/**
 * policy.json (containers-policy.json(5)): which images berth accepts, per transport and scope.
 * Read as strictly as containers/image reads it (`signature/policy_config*.go`): an unknown field,
 * a duplicated key, a value of the wrong type or a missing one is an error, one line naming the
 * file and the field, because a typo in a security policy must never loosen it silently.
 */
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BerthError, errnoCode } from '../util/errors.js';
import { parseNormalizedNamed } from '../oci/reference.js';
import { DEFAULT_SIGNED_IDENTITY, isValidRemapPrefix, type SignedIdentity } from './identity.js';
import { StrictJsonError, memberPath, parseStrictJson } from './_strict-json.js';
import { policyNamespaces, scopeProblem } from './policy-scopes.js';
import type { ImageUnderPolicy } from './types.js';

/** signedBy's keyType. Only GPGKeys is implemented (as in containers/image); the others parse and are refused when evaluated. */
export type SignedByKeyType = 'GPGKeys' | 'signedByGPGKeys' | 'X509Certificates' | 'signedByX509CAs';
const KEY_TYPES: readonly SignedByKeyType[] = ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs'];

export interface SigstoreFulcio {
  caPath?: string;
  caData?: Uint8Array;
  oidcIssuer: string;
  subjectEmail: string;
}

export interface SigstorePki {
  caRootsPath?: string;
  caRootsData?: Uint8Array;
  caIntermediatesPath?: string;
  caIntermediatesData?: Uint8Array;
  subjectEmail?: string;
  subjectHostname?: string;
}

export type PolicyRequirement =
  | { type: 'insecureAcceptAnything' }
  | { type: 'reject' }
  | {
      type: 'signedBy';
      keyType: SignedByKeyType;
      /** Exactly one of keyPath, keyPaths, keyData is set. */
      keyPath?: string;
      keyPaths?: string[];
      keyData?: Uint8Array;
      signedIdentity: SignedIdentity;
    }
  /** Parsed for compatibility; containers/image never implemented it, and neither does berth. */
  | { type: 'signedBaseLayer'; baseLayerIdentity: SignedIdentity }
  | {
      type: 'sigstoreSigned';
      /** Exactly one key source: keyPath, keyPaths, keyData, keyDatas, fulcio or pki. */
      keyPath?: string;
      keyPaths?: string[];
      keyData?: Uint8Array;
      keyDatas?: Uint8Array[];
      fulcio?: SigstoreFulcio;
      pki?: SigstorePki;
      /** At most one Rekor key source. */
      rekorPublicKeyPath?: string;
      rekorPublicKeyPaths?: string[];
      rekorPublicKeyData?: Uint8Array;
      rekorPublicKeyDatas?: Uint8Array[];
      signedIdentity: SignedIdentity;
    };

export type RequirementType = PolicyRequirement['type'];

export interface Policy {
  /** The file it was read from (for messages). */
  source: string;
  default: PolicyRequirement[];
  /** transport → scope → requirements; scope "" is the transport's default. */
  transports: Map<string, Map<string, PolicyRequirement[]>>;
}

/** The requirements that apply to an image, and where in the policy they are. */
export interface ScopeMatch {
  requirements: PolicyRequirement[];
  /** The transport section used, undefined for `default`. */
  transport?: string;
  /** The scope used within it ("" for the transport's default). */
  scope?: string;
}

// ---- reading -------------------------------------------------------------------------------

type Json = unknown;
type JsonObject = Record<string, Json>;

class PolicyReader {
  constructor(readonly source: string) {}

  fail(where: string, problem: string): never {
    throw new BerthError('USAGE', `${this.source}: ${where === '' ? '' : `${where}: `}${problem}`);
  }

  object(v: Json, where: string): JsonObject {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'must be a JSON object');
    return v as JsonObject;
  }

  /** The members of an object, every one of them known (`allowed`), the `required` ones present. */
  members(v: Json, where: string, allowed: readonly string[], required: readonly string[] = []): JsonObject {
    const o = this.object(v, where);
    for (const key of Object.keys(o)) if (!allowed.includes(key)) this.fail(memberPath(where, key), 'unknown field');
    for (const key of required) if (!(key in o)) this.fail(memberPath(where, key), 'missing');
    return o;
  }

  string(o: JsonObject, key: string, where: string): string | undefined {
    if (!(key in o)) return undefined;
    const v = o[key];
    if (typeof v !== 'string') this.fail(memberPath(where, key), 'must be a string');
    return v;
  }

  nonEmptyString(o: JsonObject, key: string, where: string): string | undefined {
    const s = this.string(o, key, where);
    if (s === '') this.fail(memberPath(where, key), 'must not be empty');
    return s;
  }

  strings(o: JsonObject, key: string, where: string): string[] | undefined {
    if (!(key in o)) return undefined;
    const v = o[key];
    const at = memberPath(where, key);
    if (!Array.isArray(v)) this.fail(at, 'must be an array of strings');
    if (v.length === 0) this.fail(at, 'must not be empty');
    v.forEach((s, i) => {
      if (typeof s !== 'string' || s === '') this.fail(memberPath(at, i), 'must be a non-empty string');
    });
    return v as string[];
  }

  /** Go's []byte in JSON: standard base64 with padding. */
  base64(v: Json, where: string): Uint8Array {
    if (typeof v !== 'string') this.fail(where, 'must be a base64 string');
    if (v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) this.fail(where, 'is not valid base64');
    return new Uint8Array(Buffer.from(v, 'base64'));
  }

  bytes(o: JsonObject, key: string, where: string): Uint8Array | undefined {
    return key in o ? this.base64(o[key], memberPath(where, key)) : undefined;
  }

  bytesList(o: JsonObject, key: string, where: string): Uint8Array[] | undefined {
    if (!(key in o)) return undefined;
    const v = o[key];
    const at = memberPath(where, key);
    if (!Array.isArray(v)) this.fail(at, 'must be an array of base64 strings');
    if (v.length === 0) this.fail(at, 'must not be empty');
    return v.map((s, i) => this.base64(s, memberPath(at, i)));
  }

  typeOf(v: Json, where: string): string {
    const o = this.object(v, where);
    if (!('type' in o)) this.fail(memberPath(where, 'type'), 'missing');
    if (typeof o.type !== 'string') this.fail(memberPath(where, 'type'), 'must be a string');
    return o.type;
  }

  identity(v: Json, where: string): SignedIdentity {
    const type = this.typeOf(v, where);
    switch (type) {
      case 'matchExact':
      case 'matchRepoDigestOrExact':
      case 'matchRepository':
        this.members(v, where, ['type']);
        return { type };
      case 'exactReference': {
        const o = this.members(v, where, ['type', 'dockerReference'], ['dockerReference']);
        const s = this.string(o, 'dockerReference', where)!;
        const ref = this.reference(s, memberPath(where, 'dockerReference'));
        if (ref.tag === undefined && ref.digest === undefined)
          this.fail(memberPath(where, 'dockerReference'), `${JSON.stringify(s)} contains neither a tag nor a digest`);
        return { type, dockerReference: s };
      }
      case 'exactRepository': {
        const o = this.members(v, where, ['type', 'dockerRepository'], ['dockerRepository']);
        const s = this.string(o, 'dockerRepository', where)!;
        this.reference(s, memberPath(where, 'dockerRepository'));
        return { type, dockerRepository: s };
      }
      case 'remapIdentity': {
        const o = this.members(v, where, ['type', 'prefix', 'signedPrefix'], ['prefix', 'signedPrefix']);
        const prefix = this.string(o, 'prefix', where)!;
        const signedPrefix = this.string(o, 'signedPrefix', where)!;
        for (const [key, value] of [
          ['prefix', prefix],
          ['signedPrefix', signedPrefix],
        ] as const) {
          if (!isValidRemapPrefix(value)) this.fail(memberPath(where, key), `${JSON.stringify(value)} is not a registry or a repository in one`);
        }
        return { type, prefix, signedPrefix };
      }
      default:
        return this.fail(memberPath(where, 'type'), `unknown signedIdentity type ${JSON.stringify(type)}`);
    }
  }

  reference(s: string, where: string) {
    try {
      return parseNormalizedNamed(s);
    } catch (e) {
      return this.fail(where, (e as Error).message);
    }
  }

  signedIdentity(o: JsonObject, where: string): SignedIdentity {
    return 'signedIdentity' in o ? this.identity(o.signedIdentity, memberPath(where, 'signedIdentity')) : DEFAULT_SIGNED_IDENTITY;
  }

  exactlyOne(o: JsonObject, keys: readonly string[], where: string): void {
    const present = keys.filter((k) => k in o);
    if (present.length !== 1) {
      const list = `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}`;
      this.fail(where, present.length === 0 ? `one of ${list} is required` : `only one of ${present.join(', ')} may be given`);
    }
  }

  requirement(v: Json, where: string): PolicyRequirement {
    const type = this.typeOf(v, where);
    switch (type) {
      case 'insecureAcceptAnything':
      case 'reject':
        this.members(v, where, ['type']);
        return { type };
      case 'signedBy': {
        const o = this.members(v, where, ['type', 'keyType', 'keyPath', 'keyPaths', 'keyData', 'signedIdentity'], ['keyType']);
        const keyType = this.string(o, 'keyType', where) as SignedByKeyType;
        if (!KEY_TYPES.includes(keyType))
          this.fail(memberPath(where, 'keyType'), `unknown keyType ${JSON.stringify(keyType)} (GPGKeys is the one berth implements)`);
        this.exactlyOne(o, ['keyPath', 'keyPaths', 'keyData'], where);
        const keyPath = this.nonEmptyString(o, 'keyPath', where);
        const keyPaths = this.strings(o, 'keyPaths', where);
        const keyData = this.bytes(o, 'keyData', where);
        return {
          type,
          keyType,
          ...(keyPath !== undefined ? { keyPath } : {}),
          ...(keyPaths !== undefined ? { keyPaths } : {}),
          ...(keyData !== undefined ? { keyData } : {}),
          signedIdentity: this.signedIdentity(o, where),
        };
      }
      case 'signedBaseLayer': {
        const o = this.members(v, where, ['type', 'baseLayerIdentity'], ['baseLayerIdentity']);
        return { type, baseLayerIdentity: this.identity(o.baseLayerIdentity, memberPath(where, 'baseLayerIdentity')) };
      }
      case 'sigstoreSigned':
        return this.sigstoreSigned(v, where);
      default:
        return this.fail(memberPath(where, 'type'), `unknown requirement type ${JSON.stringify(type)}`);
    }
  }

  sigstoreSigned(v: Json, where: string): PolicyRequirement {
    const keys = ['keyPath', 'keyPaths', 'keyData', 'keyDatas', 'fulcio', 'pki'] as const;
    const rekor = ['rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas'] as const;
    const o = this.members(v, where, ['type', ...keys, ...rekor, 'signedIdentity']);
    this.exactlyOne(o, keys, where);
    const rekorGiven = rekor.filter((k) => k in o);
    if (rekorGiven.length > 1) this.fail(where, `only one of ${rekorGiven.join(', ')} may be given`);
    if ('fulcio' in o && rekorGiven.length === 0)
      this.fail(memberPath(where, 'fulcio'), 'needs one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData or rekorPublicKeyDatas');
    if ('pki' in o && rekorGiven.length > 0) this.fail(memberPath(where, rekorGiven[0]!), 'is not supported with pki');
    const r: Extract<PolicyRequirement, { type: 'sigstoreSigned' }> = { type: 'sigstoreSigned', signedIdentity: this.signedIdentity(o, where) };
    const keyPath = this.nonEmptyString(o, 'keyPath', where);
    if (keyPath !== undefined) r.keyPath = keyPath;
    const keyPaths = this.strings(o, 'keyPaths', where);
    if (keyPaths) r.keyPaths = keyPaths;
    const keyData = this.bytes(o, 'keyData', where);
    if (keyData) r.keyData = keyData;
    const keyDatas = this.bytesList(o, 'keyDatas', where);
    if (keyDatas) r.keyDatas = keyDatas;
    if ('fulcio' in o) r.fulcio = this.fulcio(o.fulcio, memberPath(where, 'fulcio'));
    if ('pki' in o) r.pki = this.pki(o.pki, memberPath(where, 'pki'));
    const rekorPath = this.nonEmptyString(o, 'rekorPublicKeyPath', where);
    if (rekorPath !== undefined) r.rekorPublicKeyPath = rekorPath;
    const rekorPaths = this.strings(o, 'rekorPublicKeyPaths', where);
    if (rekorPaths) r.rekorPublicKeyPaths = rekorPaths;
    const rekorData = this.bytes(o, 'rekorPublicKeyData', where);
    if (rekorData) r.rekorPublicKeyData = rekorData;
    const rekorDatas = this.bytesList(o, 'rekorPublicKeyDatas', where);
    if (rekorDatas) r.rekorPublicKeyDatas = rekorDatas;
    return r;
  }

  fulcio(v: Json, where: string): SigstoreFulcio {
    const o = this.members(v, where, ['caPath', 'caData', 'oidcIssuer', 'subjectEmail'], ['oidcIssuer', 'subjectEmail']);
    this.exactlyOne(o, ['caPath', 'caData'], where);
    const caPath = this.nonEmptyString(o, 'caPath', where);
    const caData = this.bytes(o, 'caData', where);
    return {
      ...(caPath !== undefined ? { caPath } : {}),
      ...(caData ? { caData } : {}),
      oidcIssuer: this.nonEmptyString(o, 'oidcIssuer', where)!,
      subjectEmail: this.nonEmptyString(o, 'subjectEmail', where)!,
    };
  }

  pki(v: Json, where: string): SigstorePki {
    const o = this.members(v, where, ['caRootsPath', 'caRootsData', 'caIntermediatesPath', 'caIntermediatesData', 'subjectEmail', 'subjectHostname']);
    this.exactlyOne(o, ['caRootsPath', 'caRootsData'], where);
    if ('caIntermediatesPath' in o && 'caIntermediatesData' in o) this.fail(where, 'only one of caIntermediatesPath, caIntermediatesData may be given');
    if (!('subjectEmail' in o) && !('subjectHostname' in o)) this.fail(where, 'one of subjectEmail or subjectHostname is required');
    const p: SigstorePki = {};
    const caRootsPath = this.nonEmptyString(o, 'caRootsPath', where);
    if (caRootsPath !== undefined) p.caRootsPath = caRootsPath;
    const caRootsData = this.bytes(o, 'caRootsData', where);
    if (caRootsData) p.caRootsData = caRootsData;
    const caIntermediatesPath = this.nonEmptyString(o, 'caIntermediatesPath', where);
    if (caIntermediatesPath !== undefined) p.caIntermediatesPath = caIntermediatesPath;
    const caIntermediatesData = this.bytes(o, 'caIntermediatesData', where);
    if (caIntermediatesData) p.caIntermediatesData = caIntermediatesData;
    const subjectEmail = this.nonEmptyString(o, 'subjectEmail', where);
    if (subjectEmail !== undefined) p.subjectEmail = subjectEmail;
    const subjectHostname = this.nonEmptyString(o, 'subjectHostname', where);
    if (subjectHostname !== undefined) p.subjectHostname = subjectHostname;
    return p;
  }

  requirements(v: Json, where: string): PolicyRequirement[] {
    if (!Array.isArray(v)) this.fail(where, 'must be an array of requirements');
    if (v.length === 0) this.fail(where, 'must not be empty (an empty list of requirements would accept nothing and is refused)');
    return v.map((r, i) => this.requirement(r, memberPath(where, i)));
  }

  policy(v: Json): Policy {
    const o = this.members(v, '', ['default', 'transports'], ['default']);
    const transports = new Map<string, Map<string, PolicyRequirement[]>>();
    if ('transports' in o) {
      for (const [transport, scopes] of Object.entries(this.object(o.transports, 'transports'))) {
        const where = memberPath('transports', transport);
        const map = new Map<string, PolicyRequirement[]>();
        for (const [scope, reqs] of Object.entries(this.object(scopes, where))) {
          const at = memberPath(where, scope);
          const problem = scope === '' ? undefined : scopeProblem(transport, scope);
          if (problem) this.fail(at, `invalid scope: ${problem}`);
          map.set(scope, this.requirements(reqs, at));
        }
        transports.set(transport, map);
      }
    }
    return { source: this.source, default: this.requirements(o.default, 'default'), transports };
  }
}

/** Parses policy.json's text; errors name `source` and the field. */
export function parsePolicy(text: string, source = 'policy.json'): Policy {
  const reader = new PolicyReader(source);
  let json: unknown;
  try {
    json = parseStrictJson(text);
  } catch (e) {
    if (e instanceof StrictJsonError) reader.fail(e.where, e.message);
    throw e;
  }
  return reader.policy(json);
}

// ---- where it is -----------------------------------------------------------------------------

export const SYSTEM_POLICY_PATH = '/etc/containers/policy.json';

export interface PolicyLocation {
  /** `--signature-policy FILE`: this file, which must exist. */
  signaturePolicy?: string;
  /** Default os.homedir(). */
  home?: string;
  /** Default /etc/containers/policy.json (tests point it elsewhere). */
  systemPath?: string;
}

/** The user's own policy file: ~/.config/containers/policy.json. */
export function userPolicyPath(home: string = homedir()): string {
  return join(home, '.config', 'containers', 'policy.json');
}

/**
 * The policy file containers/image would read: `--signature-policy`, else the user's file if it
 * exists, else the system's if it exists; undefined when there is none.
 */
export function findPolicyFile(loc: PolicyLocation = {}): string | undefined {
  if (loc.signaturePolicy !== undefined) return loc.signaturePolicy;
  const user = userPolicyPath(loc.home);
  if (existsSync(user)) return user;
  const system = loc.systemPath ?? SYSTEM_POLICY_PATH;
  return existsSync(system) ? system : undefined;
}

/** Reads and parses one policy file. */
export function readPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('USAGE', `${path}: no such file or directory`, { cause: e });
    throw new BerthError('IO', `${path}: ${(e as Error).message}`, { cause: e });
  }
  return parsePolicy(text, path);
}

/**
 * The policy in force, or undefined when no policy file exists anywhere: then berth accepts any
 * image, as it always has. (podman and skopeo refuse to work without a policy.json instead;
 * berth keeps working on machines that never installed containers-common.)
 */
export function loadPolicy(loc: PolicyLocation = {}): Policy | undefined {
  const path = findPolicyFile(loc);
  return path === undefined ? undefined : readPolicyFile(path);
}

// ---- which section applies ---------------------------------------------------------------------

/**
 * The requirements for an image (containers/image `requirementsForImageRef`): in its transport's
 * section, its own scope, then each wider scope, then the transport's ""; else `default`.
 */
export function requirementsFor(policy: Policy, image: Pick<ImageUnderPolicy, 'transport' | 'scope'>): ScopeMatch {
  const scopes = policy.transports.get(image.transport);
  if (scopes) {
    for (const scope of [image.scope, ...policyNamespaces(image.transport, image.scope), '']) {
      const requirements = scopes.get(scope);
      if (requirements) return { requirements, transport: image.transport, scope };
    }
  }
  return { requirements: policy.default };
}

/** Where a ScopeMatch is in policy.json, as a reader finds it: `default`, `transports.docker["quay.io"]`. */
export function describeScope(m: Pick<ScopeMatch, 'transport' | 'scope'>): string {
  return m.transport === undefined ? 'default' : memberPath(memberPath('transports', m.transport), m.scope ?? '');
}
