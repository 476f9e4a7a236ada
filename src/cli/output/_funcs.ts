/**
 * The functions a podman --format template can call: Go text/template's builtins and the ones
 * containers/common pkg/report adds (join, json, lower, pad, split, title, truncate, upper).
 */
import { goSprint, goSprintf, goSprintln, goString, goTypeName } from './_gofmt.js';
import { goJson } from './_json.js';

export interface FuncContext {
  /** True while rendering a table's header row, where every field is a header string. */
  header: boolean;
  /** Go's truth for a value, which needs to know structs (always true) from maps. */
  truth: (v: unknown) => boolean;
}

export interface Func {
  min: number;
  max: number;
  fn: (args: unknown[], ctx: FuncContext) => unknown;
}

/** Go's truth: false, 0, nil and empty strings, slices and maps are false; structs are true. */
export function truth(v: unknown, isStruct: (o: object) => boolean): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (typeof v === 'object') return isStruct(v) || Object.keys(v).length > 0;
  return true;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : goString(v, true);
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`wrong type for value; expected int; got ${goTypeName(v)} (${what})`);
  return v;
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function index(args: unknown[], ctx: FuncContext): unknown {
  let item = args[0];
  if (ctx.header && typeof item === 'string') return item;
  for (const idx of args.slice(1)) {
    if (item === undefined || item === null) throw new Error('index of untyped nil');
    if (Array.isArray(item) || typeof item === 'string') {
      const i = int(idx, 'index');
      const len = typeof item === 'string' ? byteLength(item) : item.length;
      if (i < 0 || i >= len) throw new Error(`index out of range: ${i}`);
      item = typeof item === 'string' ? Buffer.from(item, 'utf8')[i] : item[i];
    } else if (item instanceof Map) {
      item = item.get(idx);
    } else if (typeof item === 'object') {
      const obj = item as Record<string, unknown>;
      const key = String(idx);
      // A missing key yields the map's zero value: "" for a map of strings such as Labels.
      if (Object.hasOwn(obj, key)) item = obj[key];
      else item = Object.values(obj).every((x) => typeof x === 'string') ? '' : undefined;
    } else {
      throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
  }
  return item;
}

function slice(args: unknown[], ctx: FuncContext): unknown {
  const item = args[0];
  if (ctx.header && typeof item === 'string') return item;
  if (typeof item !== 'string' && !Array.isArray(item)) throw new Error(`can't slice item of type ${goTypeName(item)}`);
  const len = typeof item === 'string' ? byteLength(item) : item.length;
  const from = args.length > 1 ? int(args[1], 'slice') : 0;
  const to = args.length > 2 ? int(args[2], 'slice') : len;
  if (from < 0 || to > len || from > to) throw new Error(`index out of range: ${Math.max(from, to)}`);
  return typeof item === 'string' ? Buffer.from(item, 'utf8').subarray(from, to).toString('utf8') : item.slice(from, to);
}

type Kind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function kind(v: unknown): Kind {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

function eq(args: unknown[]): boolean {
  const [a, ...rest] = args;
  if (rest.length === 0) throw new Error('missing argument for comparison');
  const ka = kind(a);
  if (ka === 'other') throw new Error('invalid type for comparison');
  return rest.some((b) => {
    const kb = kind(b);
    if (ka === 'nil' || kb === 'nil') return ka === kb;
    if (kb === 'other') throw new Error('invalid type for comparison');
    if (ka !== kb) throw new Error('incompatible types for comparison');
    return a === b;
  });
}

function less(a: unknown, b: unknown): boolean {
  const ka = kind(a);
  const kb = kind(b);
  if ((ka !== 'number' && ka !== 'string') || (kb !== 'number' && kb !== 'string')) throw new Error('invalid type for comparison');
  if (ka !== kb) throw new Error('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

const HTML: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' };

/** Go's strings.Title: upper-cases the first letter of each word. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const c = prev.codePointAt(0)!;
    const sep = c < 0x80 ? !/[A-Za-z0-9_]/.test(prev) : /\s/u.test(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

const V = Infinity;

export const BUILTINS: Record<string, Func> = {
  // and/or are evaluated lazily by the executor; these entries only declare them.
  and: { min: 1, max: V, fn: () => undefined },
  or: { min: 1, max: V, fn: () => undefined },
  not: { min: 1, max: 1, fn: ([a], ctx) => !ctx.truth(a) },
  len: {
    min: 1,
    max: 1,
    fn: ([a]) => {
      if (typeof a === 'string') return byteLength(a);
      if (Array.isArray(a)) return a.length;
      if (a instanceof Map || a instanceof Set) return a.size;
      if (a !== null && typeof a === 'object') return Object.keys(a).length;
      throw new Error(`len of type ${goTypeName(a)}`);
    },
  },
  index: { min: 1, max: V, fn: index },
  slice: { min: 1, max: 3, fn: slice },
  print: { min: 0, max: V, fn: (args) => goSprint(args) },
  printf: { min: 1, max: V, fn: ([f, ...args]) => goSprintf(str(f), args) },
  println: { min: 0, max: V, fn: (args) => goSprintln(args) },
  eq: { min: 1, max: V, fn: (args) => eq(args) },
  ne: { min: 2, max: 2, fn: (args) => !eq(args) },
  lt: { min: 2, max: 2, fn: ([a, b]) => less(a, b) },
  le: { min: 2, max: 2, fn: ([a, b]) => less(a, b) || eq([a, b]) },
  gt: { min: 2, max: 2, fn: ([a, b]) => !less(a, b) && !eq([a, b]) },
  ge: { min: 2, max: 2, fn: ([a, b]) => !less(a, b) },
  html: { min: 0, max: V, fn: (args) => goSprint(args).replace(/[<>&'"\0]/g, (c) => HTML[c]!) },
  js: {
    min: 0,
    max: V,
    fn: (args) =>
      goSprint(args).replace(/[\\'"<>&=\n\r\t]|[\u0000-\u001f]/g, (c) =>
        c === '\\' || c === "'" || c === '"' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
      ),
  },
  urlquery: { min: 0, max: V, fn: (args) => new URLSearchParams({ q: goSprint(args) }).toString().slice(2) },
  call: {
    min: 1,
    max: V,
    fn: ([f, ...args]) => {
      if (typeof f !== 'function') throw new Error(`non-function of type ${goTypeName(f)}`);
      return (f as (...a: unknown[]) => unknown)(...args);
    },
  },
  // containers/common pkg/report DefaultFuncs.
  join: {
    min: 2,
    max: 2,
    fn: ([list, sep], ctx) => {
      if (ctx.header && typeof list === 'string') return list;
      if (!Array.isArray(list)) throw new Error(`wrong type for value; expected []string; got ${goTypeName(list)}`);
      return list.map(str).join(str(sep));
    },
  },
  json: { min: 1, max: 1, fn: ([v], ctx) => (ctx.header && typeof v === 'string' ? v : goJson(v).trim()) },
  lower: { min: 1, max: 1, fn: ([s]) => str(s).toLowerCase() },
  upper: { min: 1, max: 1, fn: ([s]) => str(s).toUpperCase() },
  title: { min: 1, max: 1, fn: ([s]) => title(str(s)) },
  pad: {
    min: 3,
    max: 3,
    fn: ([s, prefix, suffix]) => {
      const text = str(s);
      return text === '' ? text : ' '.repeat(int(prefix, 'pad')) + text + ' '.repeat(int(suffix, 'pad'));
    },
  },
  split: {
    min: 2,
    max: 2,
    fn: ([s, sep], ctx) => {
      if (ctx.header) return str(s);
      const text = str(s);
      return str(sep) === '' ? [...text] : text.split(str(sep));
    },
  },
  truncate: {
    min: 2,
    max: 2,
    fn: ([s, n]) => {
      const text = str(s);
      const len = int(n, 'truncate');
      if (len < 0) throw new Error('runtime error: slice bounds out of range');
      const bytes = Buffer.from(text, 'utf8');
      return bytes.length < len ? text : bytes.subarray(0, len).toString('utf8');
    },
  },
};
