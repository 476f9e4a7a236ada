/**
 * registries.conf (containers-registries.conf(5), v2 with v1 compatibility), read and merged as
 * containers/image's pkg/sysregistriesv2 does, and the questions the registry client asks of it:
 * which `[[registry]]` governs a reference, where to pull it from (mirrors first), insecure, blocked,
 * which registries complete a short name.
 */
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { formatReference, parseNormalizedNamed, referenceName, type ImageReference } from '../oci/reference.js';
import { BerthError, errnoCode } from '../util/errors.js';
import type { AliasEntry } from './_aliases.js';
import { refMatchingPrefix, rewriteReference } from './_prefix.js';
import { parseRegistriesFile, sortByPrefix, type Endpoint, type RegistriesFile, type Registry, type ShortNameMode } from './_registries-file.js';

export { parseLocation, parseShortNameMode } from './_registries-file.js';
export type { Endpoint, PullFromMirror, Registry, ShortNameMode } from './_registries-file.js';
export type { AliasEntry } from './_aliases.js';

/** The special credential-helpers entry meaning "read the auth.json files" (containers-auth.json(5)). */
export const AUTH_FILE_HELPER = 'containers-auth.json';
export const DEFAULT_SHORT_NAME_MODE: ShortNameMode = 'permissive';

/** The merged configuration of every file read. */
export interface RegistriesConf {
  /** Unique prefixes, sorted by prefix (as upstream). */
  registries: Registry[];
  unqualifiedSearchRegistries: string[];
  /** The file that set unqualifiedSearchRegistries ('' when none did). */
  unqualifiedSearchOrigin: string;
  shortNameMode: ShortNameMode;
  /** Never empty: ['containers-auth.json'] when unset. */
  credentialHelpers: string[];
  additionalLayerStoreAuthHelper: string;
  /** Short-name aliases: short name → entry; an entry with no value cancels an alias of an earlier file. */
  aliases: Map<string, AliasEntry>;
  /** The files actually read, in order. */
  sources: string[];
  /** Keys berth ignored ('<file>: <key>'), as upstream ignores undecoded keys. */
  unknownKeys: string[];
}

export interface LoadRegistriesOptions {
  /** Main files, read in order; missing ones are skipped. The first may be v1. */
  paths?: string[];
  /** Drop-in directories read after `paths`: their `*.conf` (sorted) must be v2. Missing dirs are skipped. */
  dropInDirs?: string[];
  /** `--registries-conf FILE`: replaces the default files; it must exist. Drop-ins only from `dropInDirs`. */
  explicit?: string;
  /** For the default berth user files (~/.config/berth/...). */
  home?: string;
}

type Source = { kind: 'file'; path: string; required: boolean; forceV2: boolean } | { kind: 'dir'; path: string };

/** /etc/containers/registries.conf, its .d drop-ins, then berth's own ~/.config/berth/registries.conf and .d. */
export function defaultRegistriesSources(home: string = homedir()): { path: string; dropInDir: string }[] {
  return [
    { path: '/etc/containers/registries.conf', dropInDir: '/etc/containers/registries.conf.d' },
    { path: join(home, '.config', 'berth', 'registries.conf'), dropInDir: join(home, '.config', 'berth', 'registries.conf.d') },
  ];
}

function sourcesFor(opts: LoadRegistriesOptions): Source[] {
  const dirs = (opts.dropInDirs ?? []).map((path): Source => ({ kind: 'dir', path }));
  if (opts.explicit !== undefined) return [{ kind: 'file', path: opts.explicit, required: true, forceV2: false }, ...dirs];
  if (opts.paths !== undefined || opts.dropInDirs !== undefined) {
    return [...(opts.paths ?? []).map((path): Source => ({ kind: 'file', path, required: false, forceV2: false })), ...dirs];
  }
  return defaultRegistriesSources(opts.home).flatMap(({ path, dropInDir }): Source[] => [
    { kind: 'file', path, required: false, forceV2: false },
    { kind: 'dir', path: dropInDir },
  ]);
}

async function readText(path: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!required) return undefined;
      throw new BerthError('USAGE', `${path}: no such file or directory`, { cause: e });
    }
    throw new BerthError('IO', `${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function dropIns(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => !e.isDirectory() && e.name.endsWith('.conf'))
      .map((e) => join(dir, e.name))
      .sort();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
    throw new BerthError('IO', `${dir}: reading registries.conf.d: ${(e as Error).message}`, { cause: e });
  }
}

function emptyConf(): RegistriesConf {
  return {
    registries: [],
    unqualifiedSearchRegistries: [],
    unqualifiedSearchOrigin: '',
    shortNameMode: DEFAULT_SHORT_NAME_MODE,
    credentialHelpers: [],
    additionalLayerStoreAuthHelper: '',
    aliases: new Map(),
    sources: [],
    unknownKeys: [],
  };
}

/** containers/image `updateWithConfigurationFrom`: later files replace what they set; registries merge by prefix. */
export function mergeRegistriesFile(conf: RegistriesConf, file: RegistriesFile): void {
  const byPrefix = new Map(conf.registries.map((r) => [r.prefix, r]));
  for (const r of file.registries) byPrefix.set(r.prefix, r);
  conf.registries = sortByPrefix([...byPrefix.values()]);
  if (file.unqualifiedSearchRegistries !== undefined) {
    conf.unqualifiedSearchRegistries = file.unqualifiedSearchRegistries;
    conf.unqualifiedSearchOrigin = file.path;
  }
  if (file.credentialHelpers !== undefined) conf.credentialHelpers = file.credentialHelpers;
  if (file.shortNameMode !== undefined) conf.shortNameMode = file.shortNameMode;
  if (file.additionalLayerStoreAuthHelper) conf.additionalLayerStoreAuthHelper = file.additionalLayerStoreAuthHelper;
  for (const [name, entry] of file.aliases) conf.aliases.set(name, entry);
  conf.sources.push(file.path);
  conf.unknownKeys.push(...file.unknownKeys.map((k) => `${file.path}: ${k}`));
}

/**
 * Reads registries.conf files and drop-ins in order and merges them. Without options: the system
 * file, its registries.conf.d, then berth's user file and its .d. A malformed file is an error
 * (BerthError 'USAGE', '<file>: <problem>'); missing files are fine except `explicit`.
 */
export async function loadRegistriesConf(opts: LoadRegistriesOptions = {}): Promise<RegistriesConf> {
  const conf = emptyConf();
  for (const source of sourcesFor(opts)) {
    const files = source.kind === 'dir' ? (await dropIns(source.path)).map((path) => ({ path, required: true, forceV2: true })) : [source];
    for (const { path, required, forceV2 } of files) {
      const text = await readText(path, required);
      if (text === undefined) continue;
      mergeRegistriesFile(conf, parseRegistriesFile(path, text, { forceV2 }));
    }
  }
  if (conf.credentialHelpers.length === 0) conf.credentialHelpers = [AUTH_FILE_HELPER];
  return conf;
}

/** Parses registries.conf text alone (no drop-ins): for tests and `--registries-conf` previews. */
export function parseRegistriesConf(path: string, text: string): RegistriesConf {
  const conf = emptyConf();
  mergeRegistriesFile(conf, parseRegistriesFile(path, text));
  if (conf.credentialHelpers.length === 0) conf.credentialHelpers = [AUTH_FILE_HELPER];
  return conf;
}

function refString(ref: string | ImageReference): string {
  return typeof ref === 'string' ? ref : formatReference(ref);
}

/**
 * `FindRegistry`: the `[[registry]]` whose prefix matches `ref` (a host, repository name or full
 * reference, starting with an explicit host) with the longest prefix; undefined when none does.
 */
export function findRegistry(conf: RegistriesConf, ref: string | ImageReference): Registry | undefined {
  const s = refString(ref);
  let found: Registry | undefined;
  for (const r of conf.registries) {
    if (refMatchingPrefix(s, r.prefix) !== -1 && r.prefix.length > (found?.prefix.length ?? 0)) found = r;
  }
  return found;
}

/** One place to try a pull: the endpoint and the reference rewritten for it. */
export interface PullSource {
  endpoint: Endpoint;
  reference: ImageReference;
}

/** `Registry.PullSourcesFromReference`: usable mirrors in order, then the primary location. */
export function registryPullSources(registry: Registry, ref: ImageReference): PullSource[] {
  const digested = ref.digest !== undefined;
  const mirrors = registry.mirrorByDigestOnly
    ? digested
      ? registry.mirrors
      : []
    : registry.mirrors.filter((m) => !(m.pullFromMirror === 'digest-only' && !digested) && !(m.pullFromMirror === 'tag-only' && digested));
  const primary: Endpoint = { location: registry.location, insecure: registry.insecure };
  return [...mirrors, primary].map((endpoint) => ({ endpoint, reference: rewriteReference(ref, registry.prefix, endpoint.location) }));
}

/**
 * Where to pull `ref` from, in order: the governing registry's mirrors (as pull-from-mirror and
 * mirror-by-digest-only allow), then its location, each with the reference rewritten. Without a
 * matching `[[registry]]`, the reference itself. A blocked registry is an error.
 */
export function pullSources(conf: RegistriesConf, ref: string | ImageReference): PullSource[] {
  const named = typeof ref === 'string' ? parseNormalizedNamed(ref) : ref;
  const registry = findRegistry(conf, referenceName(named));
  if (!registry) return [{ endpoint: { location: named.domain, insecure: false }, reference: named }];
  if (registry.blocked) {
    throw new BerthError('USAGE', `registry ${registry.prefix} is blocked in ${conf.sources.join(', ') || 'registries.conf'}`);
  }
  return registryPullSources(registry, named);
}

/** Whether TLS verification is skipped for `ref` (a host[:port], repository or reference). */
export function isInsecure(conf: RegistriesConf, ref: string | ImageReference): boolean {
  return findRegistry(conf, ref)?.insecure ?? false;
}

/** Whether pulling `ref` is refused. */
export function isBlocked(conf: RegistriesConf, ref: string | ImageReference): boolean {
  return findRegistry(conf, ref)?.blocked ?? false;
}

/** The registries that complete a short name, in order (host[:port] entries). */
export function searchRegistries(conf: RegistriesConf): string[] {
  return [...conf.unqualifiedSearchRegistries];
}
