import { isGoSpace } from './shell.js';

/**
 * How each instruction's text after the keyword (and flags) becomes arguments, following the
 * dispatch table of BuildKit's parser. Variables are not expanded here: that happens at build time.
 */

export interface ParsedArgs {
  args: string[];
  /** The arguments came from a JSON array (exec form). */
  json: boolean;
  /** ONBUILD's nested instruction text. */
  subInstruction?: string;
}

export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/** Go's regexp `[\t\v\f\r ]+`, BuildKit's idea of whitespace between words. */
const WHITESPACE = /[\t\v\f\r ]+/;

const NONE: ParsedArgs = { args: [], json: false };

type LineParser = (rest: string, escapeToken: string) => ParsedArgs;

const LINE_PARSERS: Record<string, LineParser> = {
  add: maybeJSONToList,
  arg: nameOrNameValue,
  cmd: maybeJSON,
  copy: maybeJSONToList,
  entrypoint: maybeJSON,
  env: (rest, esc) => nameValue(rest, 'ENV', esc),
  expose: whitespaceDelimited,
  from: whitespaceDelimited,
  healthcheck: healthcheck,
  label: (rest, esc) => nameValue(rest, 'LABEL', esc),
  maintainer: wholeRest,
  onbuild: (rest) => (rest === '' ? NONE : { args: [], json: false, subInstruction: rest }),
  run: maybeJSON,
  shell: maybeJSON,
  stopsignal: wholeRest,
  user: wholeRest,
  volume: maybeJSONToList,
  workdir: wholeRest,
};

/** Unknown instructions keep one empty argument, as BuildKit's parseIgnore does. */
export function parseArgs(keyword: string, rest: string, escapeToken: string): ParsedArgs {
  const parser = LINE_PARSERS[keyword];
  return parser ? parser(rest, escapeToken) : { args: [''], json: false };
}

function wholeRest(rest: string): ParsedArgs {
  return rest === '' ? NONE : { args: [rest], json: false };
}

function whitespaceDelimited(rest: string): ParsedArgs {
  return rest === '' ? NONE : { args: rest.split(WHITESPACE), json: false };
}

/** A JSON array of strings, or undefined when `rest` is not JSON at all (then it is shell form). */
export function parseJSONArray(rest: string): string[] | undefined {
  const trimmed = rest.replace(/^[\t\n\v\f\r \u0085\u00a0]+/, '');
  if (!trimmed.startsWith('[')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  if (!parsed.every((v): v is string => typeof v === 'string')) throw new Error(NOT_STRING_ARRAY);
  return parsed;
}

function maybeJSON(rest: string): ParsedArgs {
  if (rest === '') return NONE;
  const array = parseJSONArray(rest);
  return array ? { args: array, json: true } : { args: [rest], json: false };
}

function maybeJSONToList(rest: string): ParsedArgs {
  const array = parseJSONArray(rest);
  return array ? { args: array, json: true } : whitespaceDelimited(rest);
}

/** `HEALTHCHECK TYPE rest`: the type word, then the rest like CMD. */
function healthcheck(rest: string): ParsedArgs {
  let sep = 0;
  while (sep < rest.length && !isGoSpace(rest[sep]!)) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isGoSpace(rest[next]!)) next++;
  const command = maybeJSON(rest.slice(next));
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
}

/** `ARG a b=c`: each word verbatim (quotes kept). */
function nameOrNameValue(rest: string, escapeToken: string): ParsedArgs {
  return { args: parseWords(rest, escapeToken), json: false };
}

/**
 * ENV and LABEL as (key, value, separator) triples: `k=v k2=v2` gives separator `=`; the legacy
 * `KEY value words…` form gives the whole rest as the value and an empty separator.
 */
function nameValue(rest: string, keyword: string, escapeToken: string): ParsedArgs {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return NONE;
  if (!words[0]!.includes('=')) {
    const match = WHITESPACE.exec(rest);
    if (!match) throw new Error(`${keyword} must have two arguments`);
    return { args: [rest.slice(0, match.index), rest.slice(match.index + match[0].length), ''], json: false };
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Error(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return { args, json: false };
}

/**
 * Splits on whitespace outside quotes, keeping quotes and escapes in the words (parseWords).
 * An escape token at the very end is dropped.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOK = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]!;
    if (!inWord && quote === '') {
      if (isGoSpace(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (isGoSpace(ch)) {
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      }
      if (ch === escapeToken) {
        if (i + 1 === chars.length) continue;
        word += ch;
        ch = chars[++i]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    // Inside single quotes the escape token escapes nothing.
    if (ch === escapeToken && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch;
      ch = chars[++i]!;
    }
    word += ch;
  }
  if ((inWord || quote !== '') && (blankOK || word.length > 0)) words.push(word);
  return words;
}
