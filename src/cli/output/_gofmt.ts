/**
 * Go's `fmt` as far as podman's output needs it: exact float formatting (%e, %f, %g with Go's
 * round-half-even on the binary value), `%v` printing of JS values the way Go prints the
 * equivalent Go values, and `Sprintf` for the template `printf` function.
 */

/** A decimal digit string `d` (no leading or trailing zeros) with value 0.d × 10^dp. */
interface Decimal {
  d: string;
  dp: number;
}

/** The exact decimal value of a finite non-negative double. */
function exactDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const expField = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = expField === 0 ? frac : frac | (1n << 52n);
  const e2 = expField === 0 ? -1074 : expField - 1075;
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    dp = digits.length + e2;
  }
  return { d: digits.replace(/0+$/, ''), dp };
}

/** The shortest digits that read back as `v` (what Go uses for precision -1). */
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const [mant, exp] = v.toExponential().split('e') as [string, string];
  return { d: mant.replace('.', '').replace(/0+$/, ''), dp: Number(exp) + 1 };
}

/** Keeps `n` significant digits, rounding half to even on the exact value. */
function roundTo(x: Decimal, n: number): Decimal {
  if (x.d.length <= n) return x;
  if (n < 0) return { d: '', dp: x.dp };
  const next = x.d.charCodeAt(n) - 48;
  let up: boolean;
  if (next !== 5) up = next > 5;
  else if (x.d.length > n + 1) up = true;
  else up = n > 0 && (x.d.charCodeAt(n - 1) - 48) % 2 === 1;
  let head = x.d.slice(0, n);
  if (!up) return { d: head.replace(/0+$/, ''), dp: x.dp };
  let i = head.length - 1;
  while (i >= 0 && head[i] === '9') i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  head = head.slice(0, i) + String.fromCharCode(head.charCodeAt(i) + 1);
  return { d: head, dp: x.dp };
}

function fmtE(x: Decimal, prec: number, e: string): string {
  let s = x.d.length === 0 ? '0' : x.d[0]!;
  if (prec > 0) s += '.' + x.d.slice(1, prec + 1).padEnd(prec, '0');
  const exp = x.d.length === 0 ? 0 : x.dp - 1;
  const abs = Math.abs(exp);
  return `${s}${e}${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(x: Decimal, prec: number): string {
  let s = x.dp > 0 ? x.d.slice(0, x.dp).padEnd(x.dp, '0') : '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) {
      const j = x.dp + i - 1;
      s += j >= 0 && j < x.d.length ? x.d[j] : '0';
    }
  }
  return s;
}

/**
 * strconv.FormatFloat(v, verb, prec, 64): verb is e, E, f, g or G; prec -1 means the shortest
 * representation that reads back exactly.
 */
export function formatFloat(v: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  const abs = Math.abs(v);
  const shortest = prec < 0;
  let x: Decimal;
  if (shortest) {
    x = shortestDecimal(abs);
  } else {
    const exact = exactDecimal(abs);
    if (verb === 'f') x = roundTo(exact, exact.dp + prec);
    else if (verb === 'e' || verb === 'E') x = roundTo(exact, prec + 1);
    else x = roundTo(exact, prec === 0 ? 1 : prec);
  }
  switch (verb) {
    case 'e':
    case 'E':
      return sign + fmtE(x, shortest ? Math.max(x.d.length - 1, 0) : prec, verb);
    case 'f':
      return sign + fmtF(x, shortest ? Math.max(x.d.length - x.dp, 0) : prec);
    default: {
      let p = shortest ? x.d.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
      if (shortest) eprec = 6;
      const exp = x.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (p > x.d.length) p = x.d.length;
        return sign + fmtE(x, p - 1, verb === 'G' ? 'E' : 'e');
      }
      if (p > x.dp) p = x.d.length;
      return sign + fmtF(x, Math.max(p - x.dp, 0));
    }
  }
}

/** Go's time.Time.String() for a UTC instant: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTimeString(date: Date): string {
  const iso = date.toISOString(); // 2006-01-02T15:04:05.123Z
  const frac = iso.slice(19, 23).replace(/\.?0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac} +0000 UTC`;
}

/** Go prints JS integers as ints and other numbers as float64 (%v is %g, shortest). */
function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return Object.is(n, -0) ? '0' : BigInt(n).toString();
  return formatFloat(n, 'g', -1);
}

/** fmt.Sprint of one value, as Go prints the equivalent Go value with %v. */
export function goString(v: unknown, nested = false): string {
  if (v === undefined || v === null) return nested ? '<nil>' : '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return goTimeString(v);
  if (Array.isArray(v)) return `[${v.map((e) => goString(e, true)).join(' ')}]`;
  if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    return `map[${keys.map((k) => `${goString(k, true)}:${goString(v.get(k), true)}`).join(' ')}]`;
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k], true)}`).join(' ')}]`;
  }
  return String(v);
}

/** The Go type name used in fmt's error annotations such as `%!d(string=x)`. */
export function goTypeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Date) return 'time.Time';
  return 'map[string]interface {}';
}

/** strconv.Quote for the printable-ASCII-and-Unicode case. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width?: number | undefined;
  prec?: number | undefined;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  const w = spec.width ?? 0;
  const len = [...s].length;
  if (len >= w) return s;
  if (spec.minus) return s + ' '.repeat(w - len);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(w - len) + s.slice(sign.length);
  }
  return ' '.repeat(w - len) + s;
}

function signed(s: string, spec: Spec): string {
  if (s.startsWith('-')) return s;
  return spec.plus ? '+' + s : spec.space ? ' ' + s : s;
}

function bad(verb: string, arg: unknown): string {
  return `%!${verb}(${goTypeName(arg)}=${goString(arg, true)})`;
}

function formatInt(n: number, verb: string, spec: Spec): string {
  const big = BigInt(n);
  const abs = big < 0n ? -big : big;
  let digits: string;
  switch (verb) {
    case 'd':
    case 'v':
      digits = abs.toString();
      break;
    case 'x':
      digits = abs.toString(16);
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      break;
    case 'o':
      digits = abs.toString(8);
      break;
    case 'b':
      digits = abs.toString(2);
      break;
    case 'c':
      return pad(String.fromCodePoint(n), spec, false);
    case 'q':
      return pad(`'${String.fromCodePoint(n)}'`, spec, false);
    default:
      return formatFloatVerb(n, verb, spec);
  }
  if (spec.prec !== undefined) digits = digits.padStart(spec.prec, '0');
  if (spec.sharp && verb === 'x') digits = '0x' + digits;
  if (spec.sharp && verb === 'X') digits = '0X' + digits;
  if (spec.sharp && verb === 'o') digits = '0' + digits;
  return pad(signed((big < 0n ? '-' : '') + digits, spec), spec, spec.prec === undefined);
}

function formatFloatVerb(n: number, verb: string, spec: Spec): string {
  let s: string;
  switch (verb) {
    case 'e':
    case 'E':
      s = formatFloat(n, verb, spec.prec ?? 6);
      break;
    case 'f':
    case 'F':
      s = formatFloat(n, 'f', spec.prec ?? 6);
      break;
    case 'g':
    case 'G':
    case 'v':
      s = formatFloat(n, verb === 'G' ? 'G' : 'g', spec.prec ?? -1);
      break;
    default:
      return bad(verb, n);
  }
  return pad(signed(s, spec), spec, true);
}

function formatString(s: string, verb: string, spec: Spec): string {
  if (spec.prec !== undefined) s = [...s].slice(0, spec.prec).join('');
  switch (verb) {
    case 's':
    case 'v':
      return pad(s, spec, false);
    case 'q':
      return pad(goQuote(s), spec, false);
    case 'x':
    case 'X': {
      const hex = Buffer.from(s, 'utf8').toString('hex');
      return pad(verb === 'X' ? hex.toUpperCase() : hex, spec, false);
    }
    default:
      return bad(verb, s);
  }
}

function formatArg(arg: unknown, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(arg), spec, false);
  if (typeof arg === 'string') return formatString(arg, verb, spec);
  if (typeof arg === 'number') {
    if (Number.isInteger(arg) && verb !== 'e' && verb !== 'E' && verb !== 'f' && verb !== 'F' && verb !== 'g' && verb !== 'G') {
      return verb === 's' || verb === 't' ? bad(verb, arg) : formatInt(arg, verb, spec);
    }
    return formatFloatVerb(arg, verb, spec);
  }
  if (typeof arg === 'boolean') return verb === 't' || verb === 'v' ? pad(String(arg), spec, false) : bad(verb, arg);
  if (Array.isArray(arg) && verb !== 'v' && verb !== 's') {
    return `[${arg.map((e) => formatArg(e, verb, { ...spec, width: undefined })).join(' ')}]`;
  }
  if (arg === undefined || arg === null) return verb === 'v' || verb === 's' ? pad('<nil>', spec, false) : `%!${verb}(<nil>)`;
  return pad(goString(arg, true), spec, false);
}

/** fmt.Sprintf with Go's verbs, flags, width and precision (argument indexes are not supported). */
export function goSprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  const nextInt = (): number | undefined => {
    if (format[i] === '*') {
      i++;
      const a = args[argi++];
      return typeof a === 'number' ? Math.trunc(a) : undefined;
    }
    const m = /^\d+/.exec(format.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec: Spec = { minus: false, plus: false, sharp: false, space: false, zero: false };
    for (; i < format.length; i++) {
      const c = format[i];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = !spec.minus;
      else break;
    }
    spec.width = nextInt();
    if (spec.width !== undefined && spec.width < 0) {
      spec.minus = true;
      spec.width = -spec.width;
    }
    if (format[i] === '.') {
      i++;
      spec.prec = nextInt() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatArg(args[argi++], verb, spec);
  }
  if (argi < args.length) {
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${goTypeName(a)}=${goString(a, true)}`)
      .join(', ')})`;
  }
  return out;
}

/** fmt.Sprint: spaces only between operands when neither side is a string. */
export function goSprint(args: readonly unknown[]): string {
  let out = '';
  args.forEach((a, idx) => {
    if (idx > 0 && typeof a !== 'string' && typeof args[idx - 1] !== 'string') out += ' ';
    out += goString(a, true);
  });
  return out;
}

/** fmt.Sprintln: always spaces, and a newline. */
export function goSprintln(args: readonly unknown[]): string {
  return args.map((a) => goString(a, true)).join(' ') + '\n';
}
