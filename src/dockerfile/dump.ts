import type { Dockerfile, Instruction } from './parser.js';

/**
 * BuildKit's `Node.Dump()` format, one `(keyword [flags] "arg"…)` line per instruction, with the
 * final newline its parser tests append: the `result` files of BuildKit's testfiles.
 */
export function dump(ast: Dockerfile): string {
  return ast.instructions.map((i) => `(${dumpInstruction(i)})`).join('\n') + '\n';
}

export function dumpInstruction(instruction: Instruction): string {
  let out = instruction.keyword;
  if (instruction.flags.length > 0) out += ' [' + instruction.flags.map(goQuote).join(' ') + ']';
  for (const arg of instruction.args) out += ' ' + goQuote(arg);
  if (instruction.subInstruction) out += ' (' + dumpInstruction(instruction.subInstruction) + ')';
  return out;
}

const NAMED_ESCAPES: Record<number, string> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  34: '\\"',
  92: '\\\\',
};

/** Go's strconv.Quote: printable characters stay as they are, the rest become Go escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const named = NAMED_ESCAPES[c];
    if (named !== undefined) out += named;
    else if (c < 0x20 || c === 0x7f) out += '\\x' + hex(c, 2);
    else if (c < 0x7f || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch) || c === 0x20) out += ch;
    else if (c <= 0xffff) out += '\\u' + hex(c, 4);
    else out += '\\U' + hex(c, 8);
  }
  return out + '"';
}

function hex(c: number, width: number): string {
  return c.toString(16).padStart(width, '0');
}
