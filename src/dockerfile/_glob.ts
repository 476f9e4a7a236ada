/** Shell pattern (`*`, `?`, `[…]`, `\x`) to a RegExp source for the `u` and `s` flags, unanchored. */
export function globToRegExpSource(pattern: string): string {
  const chars = Array.from(pattern);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '\\') {
      i++;
      out += escapeRegExpChar(chars[i] ?? '\\');
    } else if (ch === '[') {
      const cls = readClass(chars, i);
      if (cls === undefined) out += '\\[';
      else {
        out += cls.source;
        i = cls.end;
      }
    } else out += escapeRegExpChar(ch);
  }
  return out;
}

/** A bracket expression starting at `start`, or undefined when it never closes (then `[` is literal). */
function readClass(chars: string[], start: number): { source: string; end: number } | undefined {
  let i = start + 1;
  let source = '[';
  if (chars[i] === '!' || chars[i] === '^') {
    source += '^';
    i++;
  }
  let first = true;
  for (; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === ']' && !first) return { source: source + ']', end: i };
    first = false;
    if (ch === '\\' && i + 1 < chars.length) {
      i++;
      source += escapeRegExpChar(chars[i]!, true);
    } else if (ch === '-') source += '-';
    else source += escapeRegExpChar(ch, true);
  }
  return undefined;
}

export function escapeRegExpChar(ch: string, inClass = false): string {
  if (/[\\^$.*+?()[\]{}|/]/.test(ch) || (inClass && ch === '-')) return '\\' + ch;
  return ch;
}
