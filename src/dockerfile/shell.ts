import { BerthError } from '../util/errors.js';
import { globToRegExpSource } from './_glob.js';

/**
 * BuildKit's shell-word lexer (frontend/dockerfile/shell): variable expansion, quote removal and
 * word splitting as Dockerfile instructions use them. It is not a shell: no command substitution,
 * no globbing of files, no positional or special parameters (they expand to nothing).
 */

/** Where variables come from. A Map fits; `envFromList` builds one from `KEY=value` strings. */
export interface EnvLookup {
  get(name: string): string | undefined;
}

export interface LexOptions {
  /** `\` unless a `# escape=` directive chose `` ` ``. */
  escapeToken?: string;
  /** Keep quote characters in the output (quotes still group). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output (they still escape). */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to nothing. */
  skipUnsetEnv?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
}

export interface WordExpansion {
  /** The expanded word, as one string. */
  result: string;
  /** The expansion split into words on unquoted whitespace. */
  words: string[];
  /** Names that were looked up and found. */
  matched: Set<string>;
  /** Names that were looked up and not set. */
  unmatched: Set<string>;
}

/** `KEY=value` strings to an environment; later entries win, a bare `KEY` is set and empty. */
export function envFromList(list: readonly string[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq < 0) env.set(entry, '');
    else env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Expands `word` to one string (ProcessWord). Throws a BerthError on a syntax error or `${V?msg}`. */
export function processWord(word: string, env: EnvLookup, opts: LexOptions = {}): string {
  return expand(word, env, opts).result;
}

/** Expands `word` and splits it into words (ProcessWords). */
export function processWords(word: string, env: EnvLookup, opts: LexOptions = {}): string[] {
  return expand(word, env, opts).words;
}

/** Expands `word` and reports which variables were found and which were referenced but unset. */
export function processWordWithMatches(word: string, env: EnvLookup, opts: LexOptions = {}): WordExpansion {
  return expand(word, env, opts);
}

function expand(word: string, env: EnvLookup, opts: LexOptions): WordExpansion {
  const lexer = new WordLexer(word, env, opts);
  try {
    const { text, words } = lexer.readUntil(undefined, lexer.rawEscapes);
    return { result: text, words, matched: lexer.matched, unmatched: lexer.unmatched };
  } catch (e) {
    if (e instanceof LexError) {
      throw new BerthError('DOCKERFILE_INVALID', `failed to process ${JSON.stringify(word)}: ${e.message}`);
    }
    throw e;
  }
}

class LexError extends Error {}

/** Go's unicode.IsSpace. */
export function isGoSpace(ch: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(ch);
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

/** Collects characters into words the way BuildKit does: expanded text splits, quoted text does not. */
class WordCollector {
  private word = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(ch: string): void {
    if (isGoSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }

  addRaw(text: string): void {
    this.word += text;
    this.inWord = true;
  }

  addSplitting(text: string): void {
    for (const ch of text) this.addChar(ch);
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class WordLexer {
  private readonly chars: string[];
  private pos = 0;
  private readonly escape: string;
  rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(
    word: string,
    private readonly env: EnvLookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(word);
    this.escape = opts.escapeToken ?? '\\';
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** Reads up to `stop` (consumed) or the end; `rawEscapes` applies for this stretch only. */
  readUntil(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.readUntilInner(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private readUntilInner(stop: string | undefined): { text: string; words: string[] } {
    let text = '';
    const words = new WordCollector();
    const quotes = !this.opts.skipProcessQuotes;
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (stop !== undefined && ch === stop) {
        this.next();
        return { text, words: words.finish() };
      }
      if (ch === '$') {
        const value = this.readDollar();
        text += value;
        words.addSplitting(value);
      } else if (quotes && ch === "'") {
        const value = this.readSingleQuoted();
        text += value;
        words.addRaw(value);
      } else if (quotes && ch === '"') {
        const value = this.readDoubleQuoted();
        text += value;
        words.addRaw(value);
      } else {
        this.next();
        if (ch === this.escape) {
          if (this.rawEscapes) {
            words.addRaw(ch);
            text += ch;
          }
          const escaped = this.next();
          if (escaped === undefined) break; // an escape at the very end is dropped
          words.addRaw(escaped);
          text += escaped;
        } else {
          words.addChar(ch);
          text += ch;
        }
      }
    }
    if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
    return { text, words: words.finish() };
  }

  /** Everything up to the next `'` is literal; a `'` cannot be escaped inside. */
  private readSingleQuoted(): string {
    const raw = this.opts.rawQuotes ?? false;
    let text = raw ? this.next()! : (this.next(), '');
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return raw ? text + ch : text;
      text += ch;
    }
  }

  /** `$` expands inside `"…"`; the escape character only escapes `"`, `$` and itself. */
  private readDoubleQuoted(): string {
    const raw = this.opts.rawQuotes ?? false;
    let text = raw ? this.next()! : (this.next(), '');
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        return raw ? text + ch : text;
      }
      if (ch === '$') {
        text += this.readDollar();
        continue;
      }
      this.next();
      if (ch === this.escape) {
        const following = this.peek();
        if (following === undefined) continue; // ignored at the end; the missing quote fails next round
        if (following === '"' || following === '$' || following === this.escape) {
          if (this.rawEscapes) text += ch;
          text += this.next()!;
          continue;
        }
      }
      text += ch;
    }
  }

  private lookup(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }

  /** A name: letters, digits and `_`; or a run of digits; or one special parameter character. */
  private readName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && /^\p{Nd}$/u.test(ch)) {
        while (this.peek() !== undefined && /^\p{Nd}$/u.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) return this.next()!;
      if (!/^[\p{L}\p{Nd}_]$/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  private readDollar(): string {
    this.next(); // the `$`
    if (this.peek() !== '{') {
      const name = this.readName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '$' + name;
      return value ?? '';
    }
    this.next(); // the `{`
    const first = this.peek();
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.readName();
    let op = this.next();
    if (op === undefined) throw new LexError("syntax error: missing '}'");
    if (op === '}') {
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '}';
      return value ?? '';
    }
    if (op === '/') return this.readReplacement(name);
    let modifier = op;
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      modifier += op ?? '';
    } else if (!'+-?#%'.includes(op)) {
      throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
    // Patterns keep their escapes so that `\*` still means a literal star when matched.
    const isPattern = op === '#' || op === '%';
    if (nullIsUnset && isPattern) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const word = this.readClosing(isPattern);
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + modifier + word + '}';
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const longest = word.startsWith(op);
        const pattern = longest ? word.slice(1) : word;
        return op === '#' ? trimPrefix(value ?? '', pattern, longest) : trimSuffix(value ?? '', pattern, longest);
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  }

  private readClosing(rawEscapes: boolean): string {
    try {
      return this.readUntil('}', rawEscapes).text;
    } catch (e) {
      if (e instanceof LexError && this.peek() === undefined) throw new LexError("syntax error: missing '}'");
      throw e;
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`. */
  private readReplacement(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.readUntil('/', true).text;
    } catch (e) {
      if (e instanceof LexError && this.peek() === undefined) throw new LexError("syntax error: missing '/' in ${}");
      throw e;
    }
    const replacement = this.readClosing(true);
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return '${' + name + '/' + pattern + '/' + replacement + '}';
    return replacePattern(value ?? '', pattern, replacement, all);
  }
}

function compile(pattern: string, flags = 'su'): RegExp {
  try {
    return new RegExp(globToRegExpSource(pattern), flags);
  } catch (e) {
    throw new LexError(`invalid pattern (${pattern}) in substitution: ${(e as Error).message}`);
  }
}

function fullMatcher(pattern: string): (s: string) => boolean {
  const re = new RegExp(`^(?:${compile(pattern).source})$`, 'su');
  return (s) => re.test(s);
}

/** `${v#p}` / `${v##p}`: drop the shortest (or longest) prefix matching the pattern. */
function trimPrefix(value: string, pattern: string, longest: boolean): string {
  const matches = fullMatcher(pattern);
  const chars = Array.from(value);
  for (let i = 0; i <= chars.length; i++) {
    const n = longest ? chars.length - i : i;
    if (matches(chars.slice(0, n).join(''))) return chars.slice(n).join('');
  }
  return value;
}

/** `${v%p}` / `${v%%p}`: drop the shortest (or longest) suffix matching the pattern. */
function trimSuffix(value: string, pattern: string, longest: boolean): string {
  const matches = fullMatcher(pattern);
  const chars = Array.from(value);
  for (let i = 0; i <= chars.length; i++) {
    const n = longest ? chars.length - i : i;
    if (matches(chars.slice(chars.length - n).join(''))) return chars.slice(0, chars.length - n).join('');
  }
  return value;
}

/** The leftmost, longest match is replaced, once or everywhere. */
function replacePattern(value: string, pattern: string, replacement: string, all: boolean): string {
  const re = compile(pattern, all ? 'sug' : 'su');
  return value.replace(re, () => replacement);
}
