import { BerthError } from '../util/errors.js';
import { cleanPath, dirPath } from './_gopath.js';

/**
 * .dockerignore files and their matcher, with moby/patternmatcher's semantics (what docker build
 * and BuildKit use): patterns are cleaned paths relative to the context, `*` and `?` stay within
 * one path segment, `**` crosses segments, `[…]` classes and `\` escapes work as in Go's
 * filepath.Match, a path is also excluded when one of its parent directories is, later patterns
 * override earlier ones and `!pattern` re-includes.
 */

/** ignorefile.ReadAll: the patterns of a .dockerignore, comments and blank lines dropped. */
export function readDockerignore(text: string): string[] {
  const patterns: string[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\ufeff')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let pattern = goTrimSpace(line);
    if (pattern === '') return;
    const invert = pattern.startsWith('!');
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern !== '') {
      pattern = cleanPath(pattern);
      // Absolute paths mean the same thing relative to the context.
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? '!' + pattern : pattern);
  });
  return patterns;
}

function goTrimSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, '');
}

const BAD_PATTERN = 'syntax error in pattern';

function badPattern(pattern: string): BerthError {
  return new BerthError('DOCKERFILE_INVALID', `${BAD_PATTERN}: ${JSON.stringify(pattern)}`);
}

type Compiled = { kind: 'exact' } | { kind: 'prefix'; prefix: string } | { kind: 'suffix'; suffix: string } | { kind: 'regexp'; regexp: RegExp };

class Pattern {
  readonly segments: number;
  private compiled: Compiled | undefined;

  constructor(
    readonly cleaned: string,
    readonly exclusion: boolean,
  ) {
    this.segments = cleaned.split('/').length;
  }

  /** Throws "syntax error in pattern" each time when the regexp does not compile. */
  matches(path: string): boolean {
    this.compiled ??= compilePattern(this.cleaned);
    const c = this.compiled;
    switch (c.kind) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(c.prefix);
      case 'suffix':
        // `**/foo` also matches `foo` itself.
        return path.endsWith(c.suffix) || (c.suffix.startsWith('/') && path === c.suffix.slice(1));
      case 'regexp':
        return c.regexp.test(path);
    }
  }
}

/**
 * The pattern as the cheapest test that decides it: an exact path, a prefix (`dir/**`), a suffix
 * (`**` then no more wildcards) or an anchored regexp.
 */
function compilePattern(pattern: string): Compiled {
  const chars = Array.from(pattern);
  let source = '^';
  let kind: Compiled['kind'] = 'exact';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        const atStart = i === 0;
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        if (i + 1 >= chars.length) {
          if (kind === 'exact') kind = 'prefix';
          else {
            source += '.*';
            kind = 'regexp';
          }
        } else {
          source += '(.*/)?';
          kind = 'regexp';
        }
        if (atStart) kind = 'suffix';
      } else {
        source += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      source += '[^/]';
      kind = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      source += '\\' + ch;
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        source += escapeLiteral(chars[++i]!);
        kind = 'regexp';
      } else source += '\\\\';
    } else if (ch === '[' || ch === ']') {
      source += ch;
      kind = 'regexp';
    } else {
      source += ch; // `^` and `-` keep their class meaning, as in Go's regexp
    }
  }
  if (kind === 'prefix') return { kind, prefix: pattern.slice(0, -2) };
  if (kind === 'suffix') return { kind, suffix: pattern.slice(2) };
  if (kind === 'exact') return { kind };
  try {
    return { kind, regexp: new RegExp(source + '$', 'u') };
  } catch {
    throw badPattern(pattern);
  }
}

/** `\x` in a pattern is the literal x. */
function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? '\\' + ch : ch;
}

/**
 * Go's filepath.Match syntax rules, which patternmatcher checks when it is built: every class
 * closes, has at least one range, and no range bound is an unescaped `-` or `]`; no trailing `\`.
 */
function isValidGlob(pattern: string): boolean {
  const chars = Array.from(pattern);
  let i = 0;
  /** One class bound (getEsc): returns false when malformed. */
  const bound = (): boolean => {
    const ch = chars[i];
    if (ch === undefined || ch === '-' || ch === ']') return false;
    if (ch === '\\') {
      i++;
      if (chars[i] === undefined) return false;
    }
    i++;
    return i < chars.length;
  };
  while (i < chars.length) {
    const ch = chars[i]!;
    if (ch === '\\') {
      if (i + 1 >= chars.length) return false;
      i += 2;
    } else if (ch === '[') {
      i++;
      if (chars[i] === '^') i++;
      let ranges = 0;
      for (;;) {
        if (chars[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        if (!bound()) return false;
        if (chars[i] === '-') {
          i++;
          if (!bound()) return false;
        }
        ranges++;
      }
    } else i++;
  }
  return true;
}

/** A compiled .dockerignore: which context paths it excludes. */
export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  /** Some pattern starts with `!`: walkers cannot skip excluded directories wholesale. */
  readonly hasExclusions: boolean = false;

  /** Empty patterns are dropped; `!` alone and malformed globs are errors. */
  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let p = goTrimSpace(raw);
      if (p === '') continue;
      p = cleanPath(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new BerthError('DOCKERFILE_INVALID', 'illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        this.hasExclusions = true;
      }
      if (!isValidGlob(p)) throw badPattern(p);
      this.patterns.push(new Pattern(p, exclusion));
    }
  }

  /**
   * May an exception pattern bring back something below the excluded directory `dir`? As moby's
   * and buildah's context walks decide it: only a `!` pattern written with that directory as its
   * prefix: `!subdir1/sub3*` reopens an excluded `subdir1`, while an exception that starts with a
   * wildcard (`!` then `*` `/sub1*`) does not reopen any directory by itself.
   */
  exceptionMayMatchBelow(dir: string): boolean {
    const prefix = `${dir}/`;
    return this.patterns.some((p) => p.exclusion && `${p.cleaned}/`.startsWith(prefix));
  }

  get patternCount(): number {
    return this.patterns.length;
  }

  /**
   * Is `path` (slash-separated, relative to the context) excluded, itself or through any parent
   * directory? This is what a context walk asks.
   */
  matchesOrParentMatches(path: string): boolean {
    const parent = dirPath(path);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      // Only a pattern that could change the verdict is evaluated.
      if (pattern.exclusion !== matched) continue;
      let match = pattern.matches(path);
      if (!match && parent !== '.') {
        for (let i = 1; i <= parentDirs.length && !match; i++) {
          match = matchesQuietly(pattern, parentDirs.slice(0, i).join('/'));
        }
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * patternmatcher's older `Matches`: a parent only counts at the pattern's own depth. Kept
   * because its test table (and older docker clients) use it.
   */
  matches(path: string): boolean {
    const parent = dirPath(path);
    const parentDirs = parent.split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.matches(path);
      if (!match && parent !== '.' && pattern.segments <= parentDirs.length) {
        match = matchesQuietly(pattern, parentDirs.slice(0, pattern.segments).join('/'));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}

/** Parent directories are tried with errors ignored, as upstream does (the path itself reported it). */
function matchesQuietly(pattern: Pattern, path: string): boolean {
  try {
    return pattern.matches(path);
  } catch {
    return false;
  }
}
