/**
 * Short names ('fedora', 'library/busybox:1'): detection, `[aliases]`, and the candidates podman
 * tries, as containers/image pkg/shortnames `Resolve` (pull) and `ResolveLocally` (local storage).
 * Prompting is the CLI's business: a result that needs a choice says so (`needsPrompt`).
 */
import {
  formatReference,
  parseNormalizedNamed,
  parseReference,
  trimNamed,
  withDefaultTag,
  withDigest,
  withTag,
  type ImageReference,
} from '../oci/reference.js';
import { BerthError } from '../util/errors.js';
import { isRegistryDomain, parseAliasValue, shortNameProblem, type AliasEntry } from './_aliases.js';
import type { RegistriesConf, ShortNameMode } from './registries.js';

/** `parseUnnormalizedShortName`: throws on an unparsable name; `ref` is normalised only when not short. */
export function parseShortName(input: string): { short: boolean; ref: ImageReference } {
  let ref: ImageReference;
  try {
    ref = parseReference(input);
  } catch (e) {
    throw new BerthError('INVALID_REFERENCE', `cannot parse input: ${JSON.stringify(input)}: ${(e as Error).message}`, { cause: e });
  }
  if (isRegistryDomain(ref.domain)) return { short: false, ref: parseNormalizedNamed(input) };
  return { short: true, ref };
}

/** True for a name without a registry ('fedora', 'library/fedora:1', 'busybox@sha256:…'); false when unparsable. */
export function isShortName(input: string): boolean {
  try {
    return parseShortName(input).short;
  } catch {
    return false;
  }
}

/** `splitUserInput`: the repository alone, and the tag and digest to put back on every candidate. */
export function splitUserInput(ref: ImageReference): { repo: ImageReference; tag?: string; digest?: string } {
  return { repo: trimNamed(ref), ...(ref.tag !== undefined ? { tag: ref.tag } : {}), ...(ref.digest !== undefined ? { digest: ref.digest } : {}) };
}

/** User-recorded aliases (podman's ~/.cache/containers/short-name-aliases.conf), consulted before registries.conf. */
export type UserAliases = Map<string, AliasEntry> | Record<string, string>;

function userAlias(user: UserAliases | undefined, name: string): AliasEntry | undefined {
  if (!user) return undefined;
  if (user instanceof Map) return user.get(name);
  if (!Object.hasOwn(user, name)) return undefined;
  const value = user[name]!;
  if (value === '') return { value: undefined, origin: 'user aliases' };
  const parsed = parseAliasValue(value);
  if (typeof parsed === 'string') throw new BerthError('USAGE', `user short-name aliases: ${parsed}`);
  return { value: parsed, origin: 'user aliases' };
}

/** `ResolveShortNameAlias`: the alias for a short repository name (no tag/digest), user aliases first. */
export function resolveAlias(conf: RegistriesConf, name: string, user?: UserAliases): AliasEntry | undefined {
  const problem = shortNameProblem(name);
  if (problem) throw new BerthError('USAGE', problem);
  const entry = userAlias(user, name) ?? conf.aliases.get(name);
  return entry?.value ? entry : undefined;
}

export interface ResolveOptions {
  /** Recorded aliases, before registries.conf's. */
  userAliases?: UserAliases;
  /** podman's Docker-compatible API: short names mean docker.io, registries.conf is ignored. */
  forceDockerHub?: boolean;
  /** Overrides registries.conf's short-name-mode. */
  mode?: ShortNameMode;
  /** Whether stdin and stdout are a terminal (a prompt is possible). Default false. */
  tty?: boolean;
}

export interface Resolved {
  /** Fully qualified, tagged (':latest' added) or digested: try in order. */
  candidates: ImageReference[];
  rationale: 'none' | 'alias' | 'search' | 'docker-hub';
  /** Where the alias or search registries came from. */
  origin: string;
  /** The short name as typed, without tag or digest (for recording an alias after a prompt). */
  shortName?: string;
  /** More than one candidate in a mode that asks the user: the CLI should prompt, then record the choice. */
  needsPrompt: boolean;
}

function withInputTagDigest(alias: ImageReference, parts: { tag?: string; digest?: string }): ImageReference {
  let r = alias;
  if (parts.tag !== undefined) r = withTag(r, parts.tag);
  if (parts.digest !== undefined) r = withDigest(r, parts.digest);
  return withDefaultTag(r);
}

function complete(registries: string[], name: string): ImageReference[] {
  return registries.map((reg) => {
    try {
      return withDefaultTag(parseNormalizedNamed(`${reg}/${name}`));
    } catch (e) {
      throw new BerthError('INVALID_REFERENCE', `creating reference with unqualified-search registry ${JSON.stringify(reg)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  });
}

/**
 * `Resolve`: the references a pull of `name` should try. Not short: the name itself. Short: its alias
 * if any, else one candidate per unqualified-search registry (an error when there are none). In
 * enforcing mode, several candidates without a terminal are an error; with one, `needsPrompt`.
 */
export function resolveShortName(conf: RegistriesConf, name: string, opts: ResolveOptions = {}): Resolved {
  const mode = opts.mode ?? conf.shortNameMode;
  const { short, ref } = parseShortName(name);
  if (!short) return { candidates: [withDefaultTag(ref)], rationale: 'none', origin: '', needsPrompt: false };
  if (opts.forceDockerHub) {
    return { candidates: [withDefaultTag(parseNormalizedNamed(name))], rationale: 'docker-hub', origin: 'enforced by caller', needsPrompt: false };
  }
  const parts = splitUserInput(ref);
  const shortName = formatReference(parts.repo);
  const alias = resolveAlias(conf, shortName, opts.userAliases);
  if (alias) {
    return { candidates: [withInputTagDigest(alias.value!, parts)], rationale: 'alias', origin: alias.origin, shortName, needsPrompt: false };
  }
  const registries = conf.unqualifiedSearchRegistries;
  if (registries.length === 0) {
    const where = conf.unqualifiedSearchOrigin
      ? `defined in ${JSON.stringify(conf.unqualifiedSearchOrigin)}`
      : 'defined (no containers-registries.conf(5) set any)';
    throw new BerthError('USAGE', `short-name ${JSON.stringify(name)} did not resolve to an alias and no unqualified-search registries are ${where}`);
  }
  const resolved: Resolved = {
    candidates: complete(registries, name),
    rationale: 'search',
    origin: conf.unqualifiedSearchOrigin,
    shortName,
    needsPrompt: false,
  };
  if (mode === 'disabled' || resolved.candidates.length === 1) return resolved;
  if (opts.tty) return { ...resolved, needsPrompt: true };
  if (mode === 'enforcing') {
    throw new BerthError(
      'USAGE',
      `short-name resolution enforced but cannot prompt without a TTY: ${JSON.stringify(name)} could be ${resolved.candidates.map(formatReference).join(', ')}`,
    );
  }
  return resolved;
}

/** `Resolved.Description`: the line podman prints before pulling; '' when there is nothing to say. */
export function describeResolution(r: Resolved): string {
  if (r.rationale === 'alias') return `Resolved ${JSON.stringify(r.shortName)} as an alias (${r.origin})`;
  if (r.rationale === 'search') return `Resolving ${JSON.stringify(r.shortName)} using unqualified-search registries (${r.origin})`;
  if (r.rationale === 'docker-hub') return `Resolving to docker.io (${r.origin})`;
  return '';
}

/**
 * `ResolveLocally`: names to look up in local storage, in order: the alias (if any), 'localhost/<name>',
 * then '<registry>/<name>' for each unqualified-search registry. A name that is not short is returned alone.
 */
export function resolveLocally(conf: RegistriesConf, name: string, opts: Pick<ResolveOptions, 'userAliases' | 'forceDockerHub'> = {}): ImageReference[] {
  const { short, ref } = parseShortName(name);
  if (!short) return [withDefaultTag(ref)];
  if (opts.forceDockerHub) return complete(['docker.io'], name);
  const parts = splitUserInput(ref);
  const alias = resolveAlias(conf, formatReference(parts.repo), opts.userAliases);
  const candidates = alias ? [withInputTagDigest(alias.value!, parts)] : [];
  return [...candidates, ...complete(['localhost', ...conf.unqualifiedSearchRegistries], name)];
}
