/**
 * One registries.conf file, parsed and checked as containers/image's `loadConfigFile` does: v2 tables,
 * v1 `[registries.*]` tables converted to v2, `postProcessRegistries` validation, short-name aliases.
 */
import { parse } from 'smol-toml';
import { ANCHORED_DOMAIN } from '../oci/reference.js';
import { BerthError } from '../util/errors.js';
import { parseAliasValue, shortNameProblem, type AliasEntry } from './_aliases.js';

export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';
export type ShortNameMode = 'disabled' | 'permissive' | 'enforcing';

/** A place images can be pulled from: the registry's own location or one of its mirrors. */
export interface Endpoint {
  /** host[:port][/namespace]; '' only for a `*.` prefix, meaning "the reference's own host". */
  location: string;
  /** Skip TLS verification and allow plain HTTP. */
  insecure: boolean;
  /** Mirrors only: which pulls may use this mirror ('all' when unset). */
  pullFromMirror?: PullFromMirror;
}

/** A `[[registry]]` table after normalisation (prefix defaults to location, trailing slashes trimmed). */
export interface Registry extends Endpoint {
  prefix: string;
  mirrors: Endpoint[];
  blocked: boolean;
  mirrorByDigestOnly: boolean;
}

/** What one file sets; `undefined` fields were absent and leave earlier files' values alone when merged. */
export interface RegistriesFile {
  path: string;
  registries: Registry[];
  unqualifiedSearchRegistries?: string[];
  credentialHelpers?: string[];
  shortNameMode?: ShortNameMode;
  additionalLayerStoreAuthHelper?: string;
  aliases: Map<string, AliasEntry>;
  /** Keys berth (like upstream) ignores. */
  unknownKeys: string[];
}

type Table = Record<string, unknown>;

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

export function parseShortNameMode(mode: string): ShortNameMode {
  if (mode === 'disabled' || mode === 'enforcing' || mode === 'permissive') return mode;
  throw new BerthError('USAGE', `invalid short-name mode: ${JSON.stringify(mode)}`);
}

/** containers/image `parseLocation`: trailing slashes trimmed, URI schemes rejected. */
export function parseLocation(input: string): string {
  const trimmed = input.replace(/\/+$/, '');
  if (trimmed.startsWith('http://') || trimmed.startsWith('https://')) {
    throw new BerthError('USAGE', `invalid location '${input}': URI schemes are not supported`);
  }
  return trimmed;
}

/** Typed field access; a wrong type is an error naming the key, as a Go TOML decode would fail. */
class Fields {
  constructor(
    private readonly path: string,
    private readonly t: Table,
    private readonly where: string,
    private readonly known: readonly string[],
    private readonly unknown: string[],
  ) {
    for (const k of Object.keys(t)) if (!known.includes(k)) unknown.push(where + k);
  }
  private fail(key: string, type: string): never {
    throw new BerthError('USAGE', `${this.path}: ${this.where}${key} must be ${type}`);
  }
  str(key: string): string | undefined {
    const v = this.t[key];
    if (v !== undefined && typeof v !== 'string') this.fail(key, 'a string');
    return v as string | undefined;
  }
  bool(key: string): boolean {
    const v = this.t[key];
    if (v !== undefined && typeof v !== 'boolean') this.fail(key, 'a boolean');
    return v === true;
  }
  strings(key: string): string[] | undefined {
    const v = this.t[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(key, 'an array of strings');
    return [...(v as string[])];
  }
  tables(key: string): Table[] {
    const v = this.t[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every(isTable)) this.fail(key, 'an array of tables ([[...]])');
    return v as Table[];
  }
  table(key: string): Table | undefined {
    const v = this.t[key];
    if (v !== undefined && !isTable(v)) this.fail(key, 'a table');
    return v as Table | undefined;
  }
  sub(key: string, known: readonly string[], index?: number): Fields | undefined {
    const t = index === undefined ? this.table(key) : this.tables(key)[index];
    return t && new Fields(this.path, t, `${this.where}${key}${index === undefined ? '' : `[${index}]`}.`, known, this.unknown);
  }
}

const V2_KEYS = [
  'registry',
  'unqualified-search-registries',
  'credential-helpers',
  'short-name-mode',
  'additional-layer-store-auth-helper',
  'aliases',
  'registries',
];
const REGISTRY_KEYS = ['prefix', 'location', 'insecure', 'blocked', 'mirror-by-digest-only', 'mirror', 'pull-from-mirror'];
const MIRROR_KEYS = ['location', 'insecure', 'pull-from-mirror'];

interface RawRegistry extends Registry {
  rawPullFromMirror?: string | undefined;
}

/** v1 `[registries.search|insecure|block]`; undefined when no list is set (an empty list counts as set). */
function readV1(f: Fields): { search?: string[] | undefined; insecure?: string[] | undefined; block?: string[] | undefined } | undefined {
  const reg = f.sub('registries', ['search', 'insecure', 'block']);
  if (!reg) return undefined;
  const list = (k: string): string[] | undefined => reg.sub(k, ['registries'])?.strings('registries');
  const v1 = { search: list('search'), insecure: list('insecure'), block: list('block') };
  return v1.search || v1.insecure || v1.block ? v1 : undefined;
}

/** containers/image `ConvertToV2`: one registry per location, in first-seen order (blocked, then insecure). */
function convertV1(v1: { search?: string[] | undefined; insecure?: string[] | undefined; block?: string[] | undefined }): RawRegistry[] {
  const byLocation = new Map<string, RawRegistry>();
  const get = (raw: string): RawRegistry => {
    const location = parseLocation(raw);
    let r = byLocation.get(location);
    if (!r) {
      r = { prefix: location, location, insecure: false, blocked: false, mirrorByDigestOnly: false, mirrors: [] };
      byLocation.set(location, r);
    }
    return r;
  };
  for (const b of v1.block ?? []) get(b).blocked = true;
  for (const i of v1.insecure ?? []) get(i).insecure = true;
  return [...byLocation.values()];
}

/** containers/image `postProcessRegistries`, plus the wildcard-prefix format check of `loadConfigFile`. */
function postProcess(raw: RawRegistry[]): Registry[] {
  const byKey = new Map<string, Registry[]>();
  for (const reg of raw) {
    reg.location = parseLocation(reg.location);
    if (reg.prefix === '') {
      if (reg.location === '') throw new BerthError('USAGE', 'invalid condition: both location and prefix are unset');
      reg.prefix = reg.location;
    } else {
      reg.prefix = parseLocation(reg.prefix);
      if (!reg.prefix.startsWith('*.') && reg.location === '') {
        throw new BerthError('USAGE', 'invalid condition: location is unset and prefix is not in the format: *.example.com');
      }
    }
    if (reg.rawPullFromMirror !== undefined && reg.rawPullFromMirror !== '') {
      throw new BerthError('USAGE', `pull-from-mirror must not be set for a non-mirror registry ${JSON.stringify(reg.prefix)}`);
    }
    for (const mirror of reg.mirrors) {
      mirror.location = parseLocation(mirror.location);
      if (mirror.location === '') throw new BerthError('USAGE', 'invalid condition: mirror location is unset');
      const pfm = mirror.pullFromMirror as string | undefined;
      if (reg.mirrorByDigestOnly && pfm !== undefined && pfm !== '') {
        throw new BerthError(
          'USAGE',
          `cannot set mirror usage mirror-by-digest-only for the registry (${JSON.stringify(reg.prefix)}) and pull-from-mirror for per-mirror (${JSON.stringify(mirror.location)}) at the same time`,
        );
      }
      if (pfm === '') delete mirror.pullFromMirror;
      else if (pfm !== undefined && pfm !== 'all' && pfm !== 'digest-only' && pfm !== 'tag-only') {
        throw new BerthError('USAGE', `unsupported pull-from-mirror value ${JSON.stringify(pfm)} for mirror ${JSON.stringify(mirror.location)}`);
      }
    }
    const key = reg.location === '' ? reg.prefix : reg.location;
    byKey.set(key, [...(byKey.get(key) ?? []), reg]);
  }
  for (const reg of raw) {
    for (const other of byKey.get(reg.location === '' ? reg.prefix : reg.location)!) {
      if (reg.insecure !== other.insecure)
        throw new BerthError('USAGE', `registry '${reg.location}' is defined multiple times with conflicting 'insecure' setting`);
      if (reg.blocked !== other.blocked)
        throw new BerthError('USAGE', `registry '${reg.location}' is defined multiple times with conflicting 'blocked' setting`);
    }
  }
  // The first of several registries with one prefix wins (later ones could never match); sorted by prefix.
  const unique = new Map<string, Registry>();
  for (const { rawPullFromMirror: _, ...reg } of raw) {
    if (!unique.has(reg.prefix)) unique.set(reg.prefix, reg);
    if (reg.prefix.startsWith('*.') && /[/@:]/.test(reg.prefix)) {
      throw new BerthError(
        'USAGE',
        `Wildcarded prefix should be in the format: *.example.com. Current prefix ${JSON.stringify(reg.prefix)} is incorrectly formatted`,
      );
    }
  }
  return sortByPrefix([...unique.values()]);
}

export function sortByPrefix(registries: Registry[]): Registry[] {
  return registries.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

function readRegistries(f: Fields): RawRegistry[] {
  return f.tables('registry').map((_, i) => {
    const r = f.sub('registry', REGISTRY_KEYS, i)!;
    const mirrors: Endpoint[] = r.tables('mirror').map((__, j) => {
      const m = r.sub('mirror', MIRROR_KEYS, j)!;
      const pfm = m.str('pull-from-mirror');
      return { location: m.str('location') ?? '', insecure: m.bool('insecure'), ...(pfm === undefined ? {} : { pullFromMirror: pfm as PullFromMirror }) };
    });
    return {
      prefix: r.str('prefix') ?? '',
      location: r.str('location') ?? '',
      insecure: r.bool('insecure'),
      blocked: r.bool('blocked'),
      mirrorByDigestOnly: r.bool('mirror-by-digest-only'),
      mirrors,
      rawPullFromMirror: r.str('pull-from-mirror'),
    };
  });
}

function readAliases(path: string, f: Fields): Map<string, AliasEntry> {
  const table = f.table('aliases') ?? {};
  const aliases = new Map<string, AliasEntry>();
  const problems: string[] = [];
  for (const [name, value] of Object.entries(table)) {
    if (typeof value !== 'string') throw new BerthError('USAGE', `${path}: aliases.${name} must be a string`);
    const problem = shortNameProblem(name);
    if (problem) problems.push(problem);
    if (value === '') {
      aliases.set(name, { value: undefined, origin: path });
      continue;
    }
    const parsed = parseAliasValue(value);
    if (typeof parsed === 'string') problems.push(parsed);
    else aliases.set(name, { value: parsed, origin: path });
  }
  if (problems.length > 0) throw new BerthError('USAGE', `${path}: validating short-name aliases: ${problems.join('; ')}`);
  return aliases;
}

/** Parses the text of one registries.conf (or drop-in, with `forceV2`). Errors read '<path>: <problem>'. */
export function parseRegistriesFile(path: string, text: string, opts: { forceV2?: boolean } = {}): RegistriesFile {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (e) {
    const first = String((e as Error).message).split('\n')[0];
    throw new BerthError('USAGE', `${path}: invalid TOML: ${first}`, { cause: e });
  }
  try {
    return interpret(path, doc, opts.forceV2 ?? false);
  } catch (e) {
    if (e instanceof BerthError && !e.message.startsWith(`${path}: `)) throw new BerthError('USAGE', `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

function interpret(path: string, doc: Table, forceV2: boolean): RegistriesFile {
  const unknownKeys: string[] = [];
  const f = new Fields(path, doc, '', V2_KEYS, unknownKeys);
  const v1 = readV1(f);
  let raw = readRegistries(f);
  let unqualifiedSearchRegistries = f.strings('unqualified-search-registries');
  const credentialHelpers = f.strings('credential-helpers');
  const modeText = f.str('short-name-mode');
  const additionalLayerStoreAuthHelper = f.str('additional-layer-store-auth-helper');
  if (v1) {
    if (forceV2) throw new BerthError('USAGE', 'registry must be in v2 format but is in v1');
    const v2Set =
      'registry' in doc ||
      unqualifiedSearchRegistries !== undefined ||
      credentialHelpers !== undefined ||
      (modeText ?? '') !== '' ||
      (additionalLayerStoreAuthHelper ?? '') !== '' ||
      'aliases' in doc;
    if (v2Set) throw new BerthError('USAGE', 'mixing sysregistry v1/v2 is not supported');
    raw = convertV1(v1);
    unqualifiedSearchRegistries = v1.search;
  }
  const registries = postProcess(raw);
  if (unqualifiedSearchRegistries) {
    unqualifiedSearchRegistries = unqualifiedSearchRegistries.map((entry) => {
      const registry = parseLocation(entry);
      if (!ANCHORED_DOMAIN.test(registry)) throw new BerthError('USAGE', `Invalid unqualified-search-registries entry ${JSON.stringify(registry)}`);
      return registry;
    });
  }
  const out: RegistriesFile = { path, registries, aliases: readAliases(path, f), unknownKeys };
  if (unqualifiedSearchRegistries) out.unqualifiedSearchRegistries = unqualifiedSearchRegistries;
  if (credentialHelpers) out.credentialHelpers = credentialHelpers;
  if (modeText !== undefined && modeText !== '') out.shortNameMode = parseShortNameMode(modeText);
  if (additionalLayerStoreAuthHelper) out.additionalLayerStoreAuthHelper = additionalLayerStoreAuthHelper;
  return out;
}
