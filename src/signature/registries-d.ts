/**
 * registries.d: where GPG signatures of docker:// images live (lookaside folders) and whether
 * sigstore attachments are used, as containers/image reads it (docker/registries_d.go). Every
 * `*.yaml` file of one folder is merged; a scope may be defined in only one of them.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatReference, type ImageReference, referenceName } from '../oci/reference.js';
import { BerthError, errnoCode } from '../util/errors.js';
import { isRootless } from '../util/rootless.js';

/** One scope's settings (containers/image's registryNamespace). */
export interface RegistryNamespace {
  lookaside?: string;
  lookasideStaging?: string;
  /** The old names of lookaside and lookaside-staging, still read. */
  sigstore?: string;
  sigstoreStaging?: string;
  useSigstoreAttachments?: boolean;
}

export interface RegistriesD {
  defaultDocker?: RegistryNamespace;
  /** Scope (a reference, a repository, a namespace, a host, `*.domain`) → settings. */
  docker: Map<string, RegistryNamespace>;
}

export const SYSTEM_REGISTRIES_D = '/etc/containers/registries.d';

/**
 * The folder to read: `--registries.d`, else the user's `~/.config/containers/registries.d` when it
 * exists, else the system one. The user's folder replaces the system one, it is not merged with it.
 */
export async function registriesDirPath(explicit?: string): Promise<string> {
  if (explicit !== undefined && explicit !== '') return explicit;
  const user = join(process.env.HOME ?? homedir(), '.config', 'containers', 'registries.d');
  if (
    await stat(user).then(
      () => true,
      () => false,
    )
  )
    return user;
  return SYSTEM_REGISTRIES_D;
}

const NAMESPACE_KEYS: Record<string, keyof RegistryNamespace> = {
  lookaside: 'lookaside',
  'lookaside-staging': 'lookasideStaging',
  sigstore: 'sigstore',
  'sigstore-staging': 'sigstoreStaging',
  'use-sigstore-attachments': 'useSigstoreAttachments',
};

function invalid(file: string, why: string): BerthError {
  return new BerthError('USAGE', `parsing signature storage configuration ${file}: ${why}`);
}

function namespaceOf(v: unknown, file: string, where: string): RegistryNamespace {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(file, `${where} is not a mapping`);
  const ns: RegistryNamespace = {};
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    const field = NAMESPACE_KEYS[k];
    // Unknown keys are ignored, as Go's yaml decoding into a struct ignores them.
    if (field === undefined) continue;
    if (field === 'useSigstoreAttachments') {
      if (typeof value !== 'boolean') throw invalid(file, `${where}.${k} is not a boolean`);
      ns.useSigstoreAttachments = value;
    } else {
      if (typeof value !== 'string') throw invalid(file, `${where}.${k} is not a string`);
      ns[field] = value;
    }
  }
  return ns;
}

/** Reads and merges every `*.yaml` of `dir` (in name order); a missing folder is an empty configuration. */
export async function loadRegistriesD(dir: string): Promise<RegistriesD> {
  const config: RegistriesD = { docker: new Map() };
  const defaultFrom: { file?: string } = {};
  const scopeFrom = new Map<string, string>();
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return config;
    throw e;
  }
  for (const name of names) {
    if (!name.endsWith('.yaml')) continue;
    const file = join(dir, name);
    if (!(await stat(file)).isFile()) continue;
    let doc: unknown;
    try {
      doc = parseYaml(await readFile(file, 'utf8'));
    } catch (e) {
      throw invalid(file, (e as Error).message.split('\n')[0] ?? 'not YAML');
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc)) throw invalid(file, 'not a mapping');
    const top = doc as Record<string, unknown>;
    if (top['default-docker'] !== undefined && top['default-docker'] !== null) {
      if (defaultFrom.file !== undefined) throw invalid(file, `default-docker is already defined in ${defaultFrom.file}`);
      defaultFrom.file = file;
      config.defaultDocker = namespaceOf(top['default-docker'], file, 'default-docker');
    }
    const docker = top.docker;
    if (docker === undefined || docker === null) continue;
    if (typeof docker !== 'object' || Array.isArray(docker)) throw invalid(file, 'docker is not a mapping');
    for (const [scope, v] of Object.entries(docker as Record<string, unknown>)) {
      const previous = scopeFrom.get(scope);
      if (previous !== undefined) throw invalid(file, `docker scope ${JSON.stringify(scope)} is already defined in ${previous}`);
      scopeFrom.set(scope, file);
      config.docker.set(scope, namespaceOf(v, file, `docker.${scope}`));
    }
  }
  return config;
}

/**
 * The scopes a docker reference falls under, most specific first: the reference itself, its
 * repository, each parent namespace up to the host, then `*.`-wildcarded parent domains (without a port).
 */
export function dockerScopes(ref: ImageReference): string[] {
  const scopes = [formatReference(ref)];
  let name = referenceName(ref);
  for (;;) {
    scopes.push(name);
    const slash = name.lastIndexOf('/');
    if (slash === -1) break;
    name = name.slice(0, slash);
  }
  const colon = name.indexOf(':');
  if (colon !== -1) name = name.slice(0, colon);
  for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.')) {
    name = name.slice(dot + 1);
    scopes.push(`*.${name}`);
  }
  return scopes;
}

function namespaceTopLevel(ns: RegistryNamespace, write: boolean): string | undefined {
  if (write) {
    if (ns.lookasideStaging) return ns.lookasideStaging;
    if (ns.sigstoreStaging) return ns.sigstoreStaging;
  }
  return ns.lookaside || ns.sigstore || undefined;
}

/**
 * The lookaside URL configured for `ref` (for writing: the staging one when set), or undefined: the
 * most specific scope that names one wins, then default-docker.
 */
export function lookasideTopLevel(config: RegistriesD, ref: ImageReference, write: boolean): string | undefined {
  for (const scope of dockerScopes(ref)) {
    const ns = config.docker.get(scope);
    const url = ns && namespaceTopLevel(ns, write);
    if (url) return url;
  }
  return config.defaultDocker ? namespaceTopLevel(config.defaultDocker, write) : undefined;
}

/** Whether `ref` keeps sigstore signatures as registry attachments: the most specific scope that says so decides. */
export function useSigstoreAttachments(config: RegistriesD, ref: ImageReference): boolean {
  for (const scope of dockerScopes(ref)) {
    const v = config.docker.get(scope)?.useSigstoreAttachments;
    if (v !== undefined) return v;
  }
  return config.defaultDocker?.useSigstoreAttachments ?? false;
}

/**
 * containers/image's built-in lookaside when registries.d names none: a local folder, the system
 * one for root and one in the user's data home otherwise.
 */
export function builtinLookaside(): string {
  // Inside a rootless user's namespace berth is UID 0, but the lookaside is still that user's.
  if (!isRootless()) return 'file:///var/lib/containers/sigstore';
  return `file://${join(process.env.HOME ?? homedir(), '.local', 'share', 'containers', 'sigstore')}`;
}
