import { BerthError } from '../util/errors.js';

/**
 * The path of a layer entry relative to the layer root, cleaned ("./a//b/" is "a/b", the root is
 * ""). Absolute names and names whose ".." climbs above the root are refused with PATH_ESCAPE.
 */
export function entryPath(name: string): string {
  if (name.includes('\0')) throw new BerthError('LAYER_INVALID', `layer entry "${printable(name)}" has a NUL byte in its name`);
  if (name.startsWith('/')) throw new BerthError('PATH_ESCAPE', `layer entry "${printable(name)}" is an absolute path`);
  const parts: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (parts.length === 0) throw new BerthError('PATH_ESCAPE', `layer entry "${printable(name)}" escapes the layer root`);
      parts.pop();
    } else {
      parts.push(c);
    }
  }
  return parts.join('/');
}

/** Whether a relative symlink target climbs above the root when resolved from the link's directory. */
export function symlinkClimbsOut(linkPath: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  let depth = linkPath.split('/').length - 1;
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (depth === 0) return true;
      depth--;
    } else {
      depth++;
    }
  }
  return false;
}

/** The directory part of a relative path ("" for a top-level name). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

/** The last component of a relative path. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** `a/b/c` gives `a`, `a/b`: every proper ancestor below the root, top first. */
export function ancestors(rel: string): string[] {
  const out: string[] = [];
  for (let i = rel.indexOf('/'); i !== -1; i = rel.indexOf('/', i + 1)) out.push(rel.slice(0, i));
  return out;
}

/** A name safe to show on one line. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * A path or xattr name as getfattr writes it and setfattr --restore reads it: every byte outside
 * printable ASCII, and the space, backslash and "=" characters, as a backslash and three octal digits.
 */
export function quoteAttrText(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b <= 0x20 || b >= 0x7f || b === 0x5c || b === 0x3d ? `\\${b.toString(8).padStart(3, '0')}` : String.fromCharCode(b);
  }
  return out;
}

/** The reverse of quoteAttrText (and of getfattr's quoting). */
export function unquoteAttrText(s: string): string {
  if (!s.includes('\\')) return s;
  const input = Buffer.from(s, 'utf8');
  const out: number[] = [];
  const isOctal = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x37;
  for (let i = 0; i < input.length; i++) {
    if (input[i] === 0x5c && isOctal(input[i + 1]) && isOctal(input[i + 2]) && isOctal(input[i + 3])) {
      out.push((((input[i + 1]! - 0x30) << 6) | ((input[i + 2]! - 0x30) << 3) | (input[i + 3]! - 0x30)) & 0xff);
      i += 3;
    } else {
      out.push(input[i]!);
    }
  }
  return Buffer.from(out).toString('utf8');
}

/** A word for `sh`: single-quoted, so nothing in it is special. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
