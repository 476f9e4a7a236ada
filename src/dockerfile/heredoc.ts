import { processWords } from './shell.js';

/** A here-document attached to RUN, COPY or ADD. */
export interface Heredoc {
  /** The delimiter with quotes removed. */
  name: string;
  /** `3<<EOF` → 3; 0 when none was written. */
  fileDescriptor: number;
  /** False when any part of the delimiter was quoted: then the body is used verbatim. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body when it is used (not in the AST). */
  chomp: boolean;
  /** The body, every line with its newline, tabs not stripped. */
  content: string;
}

const NO_ENV = { get: (): undefined => undefined };
const HEREDOC_WORD = /^(\d*)<<(-?)([^<]*)$/s;
const BARE_OPERATOR = /^\d*<<-?$/;

/**
 * One word as a heredoc (ParseHeredoc): undefined when it is not one, an Error when its delimiter
 * is malformed (an unterminated quote).
 */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const match = HEREDOC_WORD.exec(word);
  if (!match) return undefined;
  const rest = match[3]!;
  if (rest === '') return undefined;
  // Lexing the delimiter with and without quote removal tells whether any part of it was quoted.
  const words = processWords(rest, NO_ENV, { skipUnsetEnv: true });
  if (words.length !== 1) return undefined;
  const rawWords = processWords(rest, NO_ENV, { skipUnsetEnv: true, rawQuotes: true });
  if (rawWords.length !== 1) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const name = words[0]!;
  return {
    name,
    fileDescriptor: match[1] === '' ? 0 : Number(match[1]),
    expand: countQuotes(name) === countQuotes(rawWords[0]!),
    chomp: match[2] === '-',
  };
}

function countQuotes(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '"' || ch === "'") n++;
  return n;
}

/** The heredocs an instruction line opens, in order. Throws on a malformed delimiter. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = processWords(line, NO_ENV, { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  } catch {
    // Lines that do not lex (an unbalanced quote in a shell command) open no heredoc.
    return [];
  }
  const found: Omit<Heredoc, 'content'>[] = [];
  for (let i = 0; i < words.length; i++) {
    let word = words[i]!;
    // `<< EOF` and `<<- EOF`: the delimiter may stand apart from the operator.
    if (BARE_OPERATOR.test(word) && i + 1 < words.length) word += ' ' + words[++i]!;
    const heredoc = parseHeredoc(word);
    if (heredoc) found.push(heredoc);
  }
  return found;
}

/** What `<<-` does to a body when it is used: leading tabs go from every line. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
