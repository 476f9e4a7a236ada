// Value checks shared by the schema validator (schema.ts) and the manifest parser (manifest.ts).
// Plain functions over parsed JSON: nothing here compiles a schema, so importing it costs nothing.

/** One problem found in a document; `path` is a JSON pointer ("" for the whole document). */
export interface SchemaIssue {
  path: string;
  message: string;
}

/** Collects issues while walking a document. */
export class Checker {
  readonly issues: SchemaIssue[] = [];

  fail(path: string, message: string): false {
    this.issues.push({ path, message });
    return false;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a JSON value is, for messages. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

/** `type/subtype` as RFC 6838 restricts it (defs-descriptor.json#/definitions/mediaType). */
export const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** `algorithm:encoded` (defs-descriptor.json#/definitions/digest). */
export const DIGEST_GRAMMAR_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Algorithms registered by the image spec (and go-digest): their encoded part is lower-case hex of a fixed length. */
const REGISTERED_DIGESTS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * Why `s` is not a valid descriptor digest, or undefined if it is. The grammar, and for registered algorithms
 * the exact hex length, as go-digest's Validate does; unknown algorithms only need the grammar.
 */
export function digestProblem(s: string): string | undefined {
  if (!DIGEST_GRAMMAR_RE.test(s)) return `"${short(s)}" is not a digest (algorithm:encoded)`;
  const i = s.indexOf(':');
  const length = REGISTERED_DIGESTS[s.slice(0, i)];
  if (length !== undefined) {
    const hex = s.slice(i + 1);
    if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) return `"${short(s)}" is not a valid ${s.slice(0, i)} digest (${length} lower-case hex characters)`;
  }
  return undefined;
}

/** Standard base64 with padding, as Go decodes a `[]byte` field. */
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64(s: string): boolean {
  return BASE64_RE.test(s);
}

const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time (JSON schema format "date-time"). */
export function isDateTime(s: string): boolean {
  const m = DATE_TIME_RE.exec(s);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (days === undefined || day < 1 || day > days) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (m[7] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return false;
  return true;
}

/** An absolute URI per RFC 3986 (JSON schema format "uri"): a scheme, then only URI characters and valid %-escapes. */
const URI_RE = /^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/;

export function isUri(s: string): boolean {
  return URI_RE.test(s);
}

/** Image config `Env` entries are `NAME=value` (image-spec's validator checks `^[^=]+=.*$`). */
export function isEnvEntry(s: string): boolean {
  return /^[^=]+=/.test(s);
}

export function short(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

/** A pointer segment, escaped as RFC 6901 says. */
export function ptr(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 JSON without ever throwing: `{ value }` or `{ error }` with a one-line reason. */
export function decodeJSON(data: string | Uint8Array): { value: unknown } | { error: string } {
  let text: string;
  try {
    text = typeof data === 'string' ? data : UTF8.decode(data);
  } catch {
    return { error: 'not valid UTF-8' };
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message})` };
  }
}

/** Issues as one line for an error message: the first few, and how many more. */
export function formatIssues(issues: readonly SchemaIssue[], max = 3): string {
  const shown = issues.slice(0, max).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  const more = issues.length > max ? ` (and ${issues.length - max} more)` : '';
  return shown.join('; ') + more;
}
