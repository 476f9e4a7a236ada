/**
 * JSON read the way containers/image reads policy.json: a duplicated key is an error, not "the
 * last one wins" as JSON.parse has it, because a policy that silently drops one of two entries
 * for a scope is a security hole. Values come out as JSON.parse makes them.
 */

export class StrictJsonError extends Error {
  /** Where in the document: `transports.docker["example.com"]`, '' for the top level. */
  readonly where: string;
  constructor(where: string, message: string) {
    super(message);
    this.where = where;
  }
}

const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** The path of a member, as a reader of the file would write it. */
export function memberPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

export function parseStrictJson(text: string): unknown {
  let i = 0;
  const skip = () => {
    WHITESPACE.lastIndex = i;
    WHITESPACE.exec(text);
    i = WHITESPACE.lastIndex;
  };
  const fail = (where: string, what: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new StrictJsonError(where, `${what} (line ${line})`);
  };
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) return undefined;
    i = re.lastIndex;
    return m[0];
  };
  const value = (where: string): unknown => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      skip();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skip();
        const raw = token(STRING);
        if (raw === undefined) fail(where, 'a key string expected');
        const key = JSON.parse(raw!) as string;
        if (seen.has(key)) fail(memberPath(where, key), `duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        skip();
        if (text[i++] !== ':') fail(where, "':' expected");
        Object.defineProperty(obj, key, { value: value(memberPath(where, key)), enumerable: true, writable: true, configurable: true });
        skip();
        const sep = text[i++];
        if (sep === '}') return obj;
        if (sep !== ',') fail(where, "',' or '}' expected");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      skip();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(memberPath(where, arr.length)));
        skip();
        const sep = text[i++];
        if (sep === ']') return arr;
        if (sep !== ',') fail(where, "',' or ']' expected");
      }
    }
    if (c === '"') {
      const raw = token(STRING);
      if (raw === undefined) fail(where, 'invalid string');
      return JSON.parse(raw!);
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const num = token(NUMBER);
    if (num !== undefined) return Number(num);
    return fail(where, c === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(c)}`);
  };
  const result = value('');
  skip();
  if (i < text.length) fail('', 'unexpected data after the JSON value');
  return result;
}
