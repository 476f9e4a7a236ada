import { isGoSpace } from './shell.js';

export interface SplitCommand {
  /** The keyword as written. */
  keyword: string;
  /** Leading `--name=value` words, quotes removed; a bare `--` ends them and is dropped. */
  flags: string[];
  /** The rest after the flags, trimmed. */
  rest: string;
}

/** Keyword, flags and the rest of a logical line (splitCommand + extractBuilderFlags). */
export function splitCommand(line: string): SplitCommand {
  const trimmed = trimGoSpace(line);
  const match = /[\t\v\f\r ]+/.exec(trimmed);
  if (!match) return { keyword: trimmed, flags: [], rest: '' };
  const keyword = trimmed.slice(0, match.index);
  const { flags, rest } = extractFlags(trimmed.slice(match.index + match[0].length));
  return { keyword, flags, rest: trimGoSpace(rest) };
}

export function trimGoSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, '');
}

/** Reads `--flag` words from the start of `line` until a word that does not start with `--`. */
function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos < line.length; pos++) {
    let ch = line[pos]!;
    if (!inWord) {
      if (isGoSpace(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return { flags, rest: line.slice(pos) };
      inWord = true;
    }
    if (quote !== '') {
      if (ch === quote) {
        quote = '';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) {
          quote = '';
          continue;
        }
        ch = line[++pos]!;
      }
      word += ch;
      continue;
    }
    if (isGoSpace(ch)) {
      if (word === '--') return { flags, rest: line.slice(pos) };
      if (blankOK || word.length > 0) flags.push(word);
      word = '';
      blankOK = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOK = true;
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) continue;
      ch = line[++pos]!;
    }
    word += ch;
  }
  if (inWord && word !== '--' && (blankOK || word.length > 0)) flags.push(word);
  return { flags, rest: '' };
}
