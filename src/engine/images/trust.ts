// `image trust show` and `image trust set`: policy.json described and edited the way podman's
// pkg/trust does it, so a file edited by either tool reads the same in both.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SYSTEM_POLICY_PATH, findPolicyFile } from '../../signature/policy.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { BerthError, errnoCode } from '../../util/errors.js';
import { execFileAsync } from '../../util/exec-file.js';

/** One row of `image trust show`: podman's trust.Policy, its JSON names and order. */
export interface TrustEntry {
  transport: string;
  name?: string;
  repo_name?: string;
  sigstore?: string;
  type: string;
  gpg_id?: string;
}

export interface TrustShowOptions {
  /** podman's hidden --policypath; default: the policy file berth reads. */
  policyPath?: string;
  /** podman's hidden --registrypath: the registries.d directory for the Store column. */
  registriesDir?: string;
  /** Only the rows of this scope (`default` for the default section). */
  scope?: string;
}

export interface TrustShow {
  path: string;
  /** The file's bytes, for --raw. */
  raw: string;
  entries: TrustEntry[];
}

/** The policy file trust commands read and edit: the one berth enforces, else the system path. */
export function trustPolicyPath(explicit?: string): string {
  return explicit ?? findPolicyFile() ?? SYSTEM_POLICY_PATH;
}

/** podman's RegistriesDirPath: ~/.config/containers/registries.d when it exists, else /etc/containers/registries.d. */
function registriesDirPath(explicit?: string): string {
  if (explicit) return explicit;
  const user = join(homedir(), '.config', 'containers', 'registries.d');
  return existsSync(user) ? user : '/etc/containers/registries.d';
}

function readPolicyText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('USAGE', `unable to read policy file: open ${path}: no such file or directory`, { cause: e });
    throw new BerthError('IO', `unable to read policy file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

interface LookasideConfig {
  defaultDocker?: string;
  docker: Map<string, string>;
}

/** The lookaside (signature store) URLs of registries.d, as podman's `show` reads them for its Store column. */
function readLookaside(dir: string): LookasideConfig {
  const conf: LookasideConfig = { docker: new Map() };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.yaml'));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return conf;
    throw new BerthError('IO', `${dir}: ${(e as Error).message}`, { cause: e });
  }
  const store = (ns: unknown) => (isObject(ns) ? String(ns.lookaside || ns.sigstore || '') : '');
  for (const name of names.sort()) {
    const path = join(dir, name);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new BerthError('USAGE', `parsing ${path}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    if (!isObject(doc)) continue;
    if (doc['default-docker'] !== undefined && doc['default-docker'] !== null) conf.defaultDocker = store(doc['default-docker']);
    if (isObject(doc.docker)) for (const [ns, v] of Object.entries(doc.docker)) conf.docker.set(ns, store(v));
  }
  return conf;
}

/** podman's registriesDConfigurationForScope: the scope, then each parent namespace, then default-docker. */
function lookasideFor(conf: LookasideConfig, scope: string): string | undefined {
  for (let s = scope; s !== ''; s = s.includes('/') ? s.slice(0, s.lastIndexOf('/')) : '') {
    const found = conf.docker.get(s);
    if (found !== undefined) return found;
  }
  return conf.defaultDocker;
}

/** The user IDs of the keys in a GPG key file (podman shows each uid's email, or the whole uid). */
async function gpgIds(keyFile: string): Promise<string[]> {
  // A throw-away GnuPG home: listing a file must not create or touch the user's keyring.
  const home = mkdtempSync(join(tmpdir(), 'berth-gpg-'));
  try {
    const { stdout } = await execFileAsync('gpg', ['--batch', '--no-tty', '--with-colons', '--show-keys', keyFile], {
      env: { ...process.env, GNUPGHOME: home },
      encoding: 'utf8',
    });
    const ids: string[] = [];
    for (const line of stdout.split('\n')) {
      if (!line.startsWith('uid:') && !line.startsWith('pub:')) continue;
      const uid = line.split(':')[9] ?? '';
      if (uid === '') continue;
      const email = /<([^>]*)>/.exec(uid);
      ids.push(email ? email[1]! : uid);
    }
    return ids;
  } catch {
    return []; // podman logs and shows no ID when gpg cannot read the file
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function keyDataIds(base64: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
  try {
    const file = join(dir, 'key');
    writeFileSync(file, Buffer.from(base64, 'base64'));
    return await gpgIds(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TYPE_DESCRIPTION: Record<string, string> = { insecureAcceptAnything: 'accept', signedBy: 'signed', sigstoreSigned: 'sigstoreSigned', reject: 'reject' };

async function requirementRows(
  reqs: unknown,
  template: Pick<TrustEntry, 'transport' | 'name' | 'repo_name'>,
  store: string | undefined,
): Promise<TrustEntry[]> {
  const out: TrustEntry[] = [];
  for (const r of Array.isArray(reqs) ? reqs : []) {
    const req = isObject(r) ? r : {};
    const type = typeof req.type === 'string' ? req.type : '';
    let gpgId = '';
    if (type === 'signedBy') {
      const ids: string[] = [];
      if (typeof req.keyPath === 'string' && req.keyPath) ids.push(...(await gpgIds(req.keyPath)));
      if (Array.isArray(req.keyPaths)) for (const p of req.keyPaths) if (typeof p === 'string') ids.push(...(await gpgIds(p)));
      if (typeof req.keyData === 'string' && req.keyData) ids.push(...(await keyDataIds(req.keyData)));
      gpgId = ids.join(', ');
    } else if (type === 'sigstoreSigned') {
      gpgId = 'N/A'; // its keys are not GPG keys
    }
    out.push({
      transport: template.transport,
      ...(template.name ? { name: template.name } : {}),
      ...(template.repo_name ? { repo_name: template.repo_name } : {}),
      ...(store ? { sigstore: store } : {}),
      type: TYPE_DESCRIPTION[type] ?? '',
      ...(gpgId ? { gpg_id: gpgId } : {}),
    });
  }
  return out;
}

/**
 * `image trust show`: one row per requirement, the default section first, then each transport
 * (sorted; `docker` shown as `repository`) and each of its scopes (sorted). Like podman, the file
 * is read loosely here: showing a policy berth would refuse helps find what is wrong with it.
 */
export async function showTrust(opts: TrustShowOptions = {}): Promise<TrustShow> {
  const path = trustPolicyPath(opts.policyPath);
  const raw = readPolicyText(path);
  let policy: unknown;
  try {
    policy = JSON.parse(raw);
  } catch (e) {
    throw new BerthError('USAGE', `could not read trust policies: could not parse trust policies from ${path}: ${(e as Error).message}`, { cause: e });
  }
  const doc = isObject(policy) ? policy : {};
  const lookaside = readLookaside(registriesDirPath(opts.registriesDir));
  const entries: TrustEntry[] = [];
  const wanted = (scope: string) => opts.scope === undefined || opts.scope === scope;
  if (Array.isArray(doc.default) && doc.default.length > 0 && wanted('default')) {
    entries.push(...(await requirementRows(doc.default, { transport: 'all', name: '* (default)', repo_name: 'default' }, lookasideFor(lookaside, ''))));
  }
  const transports = isObject(doc.transports) ? doc.transports : {};
  for (const transport of Object.keys(transports).sort()) {
    const scopes = isObject(transports[transport]) ? (transports[transport] as Loose) : {};
    for (const scope of Object.keys(scopes).sort()) {
      if (!wanted(scope)) continue;
      const shown = transport === 'docker' ? 'repository' : transport;
      entries.push(...(await requirementRows(scopes[scope], { transport: shown, name: scope, repo_name: scope }, lookasideFor(lookaside, scope))));
    }
  }
  return { path, raw, entries };
}

export type TrustType = 'accept' | 'insecureAcceptAnything' | 'reject' | 'signedBy' | 'sigstoreSigned';
export const TRUST_TYPES: readonly TrustType[] = ['accept', 'insecureAcceptAnything', 'reject', 'signedBy', 'sigstoreSigned'];

export interface TrustSetOptions {
  /** podman's hidden --policypath; default: the policy file berth reads, else /etc/containers/policy.json. */
  policyPath?: string;
  /** `default`, or a docker scope: a registry, a repository or a namespace in one. */
  scope: string;
  type: string;
  /** Public key files for signedBy (GPG) or sigstoreSigned (PEM); one requirement per file. */
  pubKeysFiles?: string[];
}

/** podman's check of REGISTRY: a host[:port] and an optional lower-case path. */
function checkScope(scope: string): void {
  if (scope === 'default') return;
  // A `*.` wildcard domain is a valid docker scope too (podman's check happens to refuse it).
  if (!/^(?:\*\.)?[a-zA-Z0-9_.-]+(?::[0-9]+)?(?:\/[a-z0-9._\-/:]*)?$/.test(scope) || scope.includes('//')) {
    throw new BerthError('USAGE', `invalid image uri: ${scope}`);
  }
}

/**
 * `image trust set`: replaces the requirements of `scope` (in whichever transport has it, else in
 * `docker`) or of `default`, keeping everything else in the file as it was. The file is written
 * whole, through a temp file and a rename, so a reader never sees half a policy.
 */
export async function setTrust(opts: TrustSetOptions): Promise<string> {
  checkScope(opts.scope);
  if (!TRUST_TYPES.includes(opts.type as TrustType)) {
    throw new BerthError('USAGE', `invalid choice: ${opts.type} (choose from 'accept', 'reject', 'signedBy', 'sigstoreSigned')`);
  }
  const type = opts.type === 'accept' ? 'insecureAcceptAnything' : opts.type;
  const keys = opts.pubKeysFiles ?? [];
  let requirements: Loose[];
  if (type === 'insecureAcceptAnything' || type === 'reject') {
    if (keys.length > 0) throw new BerthError('USAGE', `${keys.length} public keys unexpectedly provided for trust type ${opts.type}`);
    requirements = [{ type }];
  } else {
    if (keys.length === 0) throw new BerthError('USAGE', `at least one public key must be defined for type '${type}'`);
    // The help promises absolute paths in policy.json: a relative one would be read from wherever a later pull runs.
    requirements = keys.map((k) => {
      const abs = resolve(k);
      if (!statSync(abs, { throwIfNoEntry: false })?.isFile()) throw new BerthError('USAGE', `public key file ${k}: no such file`);
      return type === 'signedBy' ? { type, keyType: 'GPGKeys', keyPath: abs } : { type, keyPath: abs };
    });
  }

  const path = trustPolicyPath(opts.policyPath);
  let doc: Loose = {};
  let mode = 0o644;
  if (existsSync(path)) {
    mode = statSync(path).mode & 0o7777; // an edit keeps the file's permissions, as podman's in-place write does
    const parsed = ((): unknown => {
      try {
        return JSON.parse(readPolicyText(path));
      } catch (e) {
        if (e instanceof BerthError) throw e;
        throw new BerthError('USAGE', `could not read trust policies: ${path}: ${(e as Error).message}`, { cause: e });
      }
    })();
    if (!isObject(parsed)) throw new BerthError('USAGE', `could not read trust policies: ${path}: not a JSON object`);
    doc = parsed;
  }
  if (opts.scope === 'default') {
    doc = { ...doc, default: requirements };
  } else {
    if (!Array.isArray(doc.default) || doc.default.length === 0) throw new BerthError('USAGE', 'default trust policy must be set');
    const transports = isObject(doc.transports) ? doc.transports : {};
    const holder = Object.keys(transports).find((t) => isObject(transports[t]) && Object.hasOwn(transports[t] as Loose, opts.scope));
    const transport = holder ?? 'docker';
    const scopes = isObject(transports[transport]) ? (transports[transport] as Loose) : {};
    doc = { ...doc, transports: { ...transports, [transport]: { ...scopes, [opts.scope]: requirements } } };
  }
  // As podman writes it (Go's encoding/json): `default` then `transports`, transports and scopes in
  // sorted order, four-space indents, no newline at the end.
  const sorted = (o: Loose) =>
    Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, o[k]]),
    );
  const transports = isObject(doc.transports) ? doc.transports : undefined;
  const ordered = {
    default: doc.default,
    ...(transports && Object.keys(transports).length > 0
      ? {
          transports: Object.fromEntries(
            Object.keys(transports)
              .sort()
              .map((t) => [t, isObject(transports[t]) ? sorted(transports[t] as Loose) : transports[t]]),
          ),
        }
      : {}),
  };
  if (!existsSync(dirname(path))) throw new BerthError('USAGE', `${dirname(path)}: no such directory`);
  await writeFileAtomic(path, JSON.stringify(ordered, null, 4), mode);
  return path;
}
