/**
 * Image references (`docker.io/library/busybox:latest@sha256:…`), parsed and normalised exactly as
 * containers/image's fork of docker/reference does (the one podman, skopeo and buildah use):
 * `Parse`, `ParseNormalizedNamed`, `ParseNamed`, `ParseDockerRef`, `ParseAnyReference`, `WithName/Tag/Digest`,
 * `Familiar*`. Where github.com/distribution/reference has since moved on (IPv6 literal registries, an
 * upper-case first component taken as a registry, a length limit on the path alone), berth follows the fork.
 * Every failure is a BerthError('INVALID_REFERENCE') whose message ends with the upstream error text.
 */
import { BerthError } from '../util/errors.js';

export interface ImageReference {
  /** Registry host[:port]: 'docker.io', 'localhost:5000', 'localhost'; '' only from parseReference/withName. */
  readonly domain: string;
  /** Repository path inside the registry: 'library/busybox'. */
  readonly path: string;
  readonly tag?: string;
  /** 'sha256:…' */
  readonly digest?: string;
}

/** What parseAnyReference returns for an image ID or a bare digest: no name at all. */
export interface DigestReference {
  readonly digest: string;
}

export type AnyReference = ImageReference | DigestReference;

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_NAME = 'library';
export const DEFAULT_TAG = 'latest';
/** Longest accepted name (domain + '/' + path), in characters. */
export const NAME_TOTAL_LENGTH_MAX = 255;

/** Upstream error texts; each message berth throws ends with one of them. */
export const REFERENCE_ERRORS = {
  format: 'invalid reference format',
  tagFormat: 'invalid tag format',
  digestFormat: 'invalid digest format',
  uppercase: 'repository name must be lowercase',
  nameEmpty: 'repository name must have at least one component',
  nameTooLong: `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`,
  notCanonical: 'repository name must be canonical',
  // From go-digest, which checks the digest of a parsed reference.
  checksumFormat: 'invalid checksum digest format',
  checksumLength: 'invalid checksum digest length',
  digestUnsupported: 'unsupported digest algorithm',
  imageId: 'cannot specify 64-byte hexadecimal strings',
} as const;

// The grammar of docker/reference/regexp.go, built the same way. Upstream's separator is `(?:[._]|__|[-]*)`;
// `-+` accepts the same names and keeps JavaScript's backtracking engine linear on names that fail.
const ALPHA_NUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const NAME_COMPONENT = `${ALPHA_NUMERIC}(?:${SEPARATOR}${ALPHA_NUMERIC})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const PATH = `${NAME_COMPONENT}(?:/${NAME_COMPONENT})*`;
const NAME = `(?:${DOMAIN}/)?${PATH}`;

/** A registry host with optional port. */
export const ANCHORED_DOMAIN = new RegExp(`^${DOMAIN}$`);
/** A repository name; groups: 1 domain (may be absent), 2 path. */
export const ANCHORED_NAME = new RegExp(`^(?:(${DOMAIN})/)?(${PATH})$`);
/** A whole reference; groups: 1 name, 2 tag, 3 digest (each may be absent). */
export const ANCHORED_REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
export const ANCHORED_TAG = new RegExp(`^${TAG}$`);
export const ANCHORED_DIGEST = new RegExp(`^${DIGEST}$`);
/** 64 lower-case hex characters: an image ID, never a repository name. */
export const ANCHORED_IDENTIFIER = /^[a-f0-9]{64}$/;

/** go-digest's registered algorithms and the hex length each needs. */
const DIGEST_HEX_LENGTH = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);
const GO_DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

function invalid(input: string, problem: string, what = 'reference'): BerthError {
  return new BerthError('INVALID_REFERENCE', `invalid ${what} ${quote(input)}: ${problem}`);
}

function make(domain: string, path: string, tag?: string, digest?: string): ImageReference {
  const r: { domain: string; path: string; tag?: string; digest?: string } = { domain, path };
  if (tag) r.tag = tag;
  if (digest) r.digest = digest;
  return r;
}

/** go-digest's `Digest.Validate`: undefined when valid, else its error text. */
function digestProblem(d: string): string | undefined {
  const i = d.indexOf(':');
  if (i <= 0 || i + 1 === d.length) return REFERENCE_ERRORS.checksumFormat;
  const size = DIGEST_HEX_LENGTH.get(d.slice(0, i));
  if (size === undefined) return GO_DIGEST_GRAMMAR.test(d) ? REFERENCE_ERRORS.digestUnsupported : REFERENCE_ERRORS.checksumFormat;
  const encoded = d.slice(i + 1);
  if (encoded.length !== size) return REFERENCE_ERRORS.checksumLength;
  return /^[a-f0-9]+$/.test(encoded) ? undefined : REFERENCE_ERRORS.checksumFormat;
}

/** `Parse` of `s`, with errors naming `input` (what the user typed). */
function parseAs(s: string, input: string): ImageReference {
  const m = ANCHORED_REFERENCE.exec(s);
  if (!m) {
    if (s === '') throw invalid(input, REFERENCE_ERRORS.nameEmpty);
    throw invalid(input, ANCHORED_REFERENCE.test(s.toLowerCase()) ? REFERENCE_ERRORS.uppercase : REFERENCE_ERRORS.format);
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(input, REFERENCE_ERRORS.nameTooLong);
  const digest = m[3];
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) throw invalid(input, problem);
  }
  const n = ANCHORED_NAME.exec(name)!; // same language as the name group, so it always matches
  return make(n[1] ?? '', n[2]!, m[2], digest);
}

/** `Parse`: the reference exactly as written, not normalised; `domain` is '' when the name has none. */
export function parseReference(s: string): ImageReference {
  return parseAs(s, s);
}

/**
 * `SplitDockerDomain`: the first component is a registry when it contains '.' or ':' or is 'localhost';
 * otherwise the registry is docker.io. `index.docker.io` becomes docker.io, and a one-component
 * docker.io name gains 'library/'. Does not validate.
 */
export function splitDockerDomain(name: string): [domain: string, remainder: string] {
  const i = name.indexOf('/');
  let domain = DEFAULT_DOMAIN;
  let remainder = name;
  if (i !== -1 && (/[.:]/.test(name.slice(0, i)) || name.slice(0, i) === 'localhost')) {
    domain = name.slice(0, i);
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = `${OFFICIAL_REPO_NAME}/${remainder}`;
  return [domain, remainder];
}

/** `ParseNormalizedNamed`: 'busybox' → docker.io/library/busybox (no default tag added). */
export function parseNormalizedNamed(s: string): ImageReference {
  if (ANCHORED_IDENTIFIER.test(s)) throw invalid(s, `${REFERENCE_ERRORS.imageId} as a repository name`);
  const [domain, remainder] = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remoteName = colon === -1 ? remainder : remainder.slice(0, colon);
  if (remoteName.toLowerCase() !== remoteName) throw invalid(s, REFERENCE_ERRORS.uppercase);
  return parseAs(`${domain}/${remainder}`, s);
}

/** `ParseNamed`: like parseNormalizedNamed, but `s` must already be in canonical (fully normalised) form. */
export function parseNamed(s: string): ImageReference {
  const r = parseNormalizedNamed(s);
  if (formatReference(r) !== s) throw invalid(s, REFERENCE_ERRORS.notCanonical);
  return r;
}

/** `ParseDockerRef`: normalised, ':latest' added when there is neither tag nor digest, tag dropped when a digest is present. */
export function parseDockerRef(s: string): ImageReference {
  const r = parseNormalizedNamed(s);
  return r.digest !== undefined ? make(r.domain, r.path, undefined, r.digest) : withDefaultTag(r);
}

/** `ParseAnyReference`: a 64-hex image ID or a valid digest gives a DigestReference, anything else parseNormalizedNamed. */
export function parseAnyReference(s: string): AnyReference {
  if (ANCHORED_IDENTIFIER.test(s)) return { digest: `sha256:${s}` };
  if (digestProblem(s) === undefined) return { digest: s };
  return parseNormalizedNamed(s);
}

export function isNamed(r: AnyReference): r is ImageReference {
  return 'path' in r;
}

/** A string that alone is an image ID (64 lower-case hex), so it must not be taken as a name. */
export function isImageIdLike(s: string): boolean {
  return ANCHORED_IDENTIFIER.test(s);
}

/**
 * True when the first '/'-separated component looks like a registry ('.' or ':' in it, or 'localhost'),
 * i.e. the name is not a short name that needs search registries. Does not validate.
 */
export function isFullyQualified(s: string): boolean {
  const i = s.indexOf('/');
  if (i === -1) return false;
  const first = s.slice(0, i);
  return /[.:]/.test(first) || first === 'localhost';
}

/** `WithName`: a repository name with no normalisation; domain is '' when the name has none. */
export function withName(name: string): ImageReference {
  if (name.length > NAME_TOTAL_LENGTH_MAX) throw invalid(name, REFERENCE_ERRORS.nameTooLong, 'repository name');
  const m = ANCHORED_NAME.exec(name);
  if (!m) throw invalid(name, REFERENCE_ERRORS.format, 'repository name');
  return make(m[1] ?? '', m[2]!);
}

/** `WithTag`: sets the tag, keeping any digest. */
export function withTag(r: ImageReference, tag: string): ImageReference {
  if (!ANCHORED_TAG.test(tag)) {
    throw new BerthError('INVALID_REFERENCE', `invalid tag ${quote(tag)} for ${referenceName(r)}: ${REFERENCE_ERRORS.tagFormat}`);
  }
  return make(r.domain, r.path, tag, r.digest);
}

/** `WithDigest`: sets the digest, keeping any tag. Checks the grammar only, as upstream does. */
export function withDigest(r: ImageReference, digest: string): ImageReference {
  if (!ANCHORED_DIGEST.test(digest)) {
    throw new BerthError('INVALID_REFERENCE', `invalid digest ${quote(digest)} for ${referenceName(r)}: ${REFERENCE_ERRORS.digestFormat}`);
  }
  return make(r.domain, r.path, r.tag, digest);
}

/** `TagNameOnly`: adds ':latest' when the reference has neither tag nor digest. */
export function withDefaultTag(r: ImageReference): ImageReference {
  return r.tag === undefined && r.digest === undefined ? make(r.domain, r.path, DEFAULT_TAG) : r;
}

/** `TrimNamed`: the repository alone, without tag or digest. */
export function trimNamed(r: ImageReference): ImageReference {
  return make(r.domain, r.path);
}

/** `Name()`: 'docker.io/library/busybox'. */
export function referenceName(r: ImageReference): string {
  return r.domain === '' ? r.path : `${r.domain}/${r.path}`;
}

/** `String()`: name[:tag][@digest], or the digest alone for a DigestReference. */
export function formatReference(r: AnyReference): string {
  if (!isNamed(r)) return r.digest;
  return referenceName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

function familiarize(r: ImageReference): ImageReference {
  if (r.domain !== DEFAULT_DOMAIN) return r;
  const parts = r.path.split('/');
  const path = parts.length === 2 && parts[0] === OFFICIAL_REPO_NAME ? parts[1]! : r.path;
  return make('', path, r.tag, r.digest);
}

/** `FamiliarName`: the name as docker shows it: 'busybox', 'user/app', 'quay.io/x/y'. */
export function familiarName(r: ImageReference): string {
  return referenceName(familiarize(r));
}

/** `FamiliarString`: familiarName plus [:tag][@digest]. */
export function familiarString(r: AnyReference): string {
  return formatReference(isNamed(r) ? familiarize(r) : r);
}

/**
 * `FamiliarMatch`: Go `path.Match(pattern, …)` against familiarString(r), then against familiarName(r).
 * A malformed pattern throws BerthError('USAGE') whatever the name.
 */
export function familiarMatch(pattern: string, r: AnyReference): boolean {
  const re = compileGoPathPattern(pattern);
  return re.test(familiarString(r)) || (isNamed(r) && re.test(familiarName(r)));
}

/** Go's path.Match syntax as an anchored RegExp: '*' and '?' stop at '/', '[^a-z]' classes, '\\' escapes. */
function compileGoPathPattern(pattern: string): RegExp {
  const cs = Array.from(pattern);
  const bad = (): BerthError => new BerthError('USAGE', `invalid pattern ${quote(pattern)}: syntax error in pattern`);
  const lit = (c: string, inClass: boolean): string => c.replace(inClass ? /[\\\][^-]/ : /[\\^$.*+?()[\]{}|/]/, '\\$&');
  let i = 0;
  const classChar = (): string => {
    let c = cs[i];
    if (c === undefined || c === '-' || c === ']') throw bad();
    if (c === '\\' && (c = cs[++i]) === undefined) throw bad();
    if (++i >= cs.length) throw bad();
    return c;
  };
  let re = '';
  while (i < cs.length) {
    const c = cs[i++]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const negated = cs[i] === '^';
      if (negated) i++;
      let cls = '';
      for (let n = 0; cs[i] !== ']' || n === 0; n++) {
        const lo = classChar();
        let hi = lo;
        if (cs[i] === '-') {
          i++;
          hi = classChar();
        }
        if (lo.codePointAt(0)! <= hi.codePointAt(0)!) cls += `${lit(lo, true)}-${lit(hi, true)}`; // Go: an empty range is no error
      }
      i++;
      re += `[${negated ? '^' : ''}${cls}]`;
    } else if (c === '\\') {
      const d = cs[i++];
      if (d === undefined) throw bad();
      re += lit(d, false);
    } else re += lit(c, false);
  }
  return new RegExp(`^${re}$`, 'u');
}
