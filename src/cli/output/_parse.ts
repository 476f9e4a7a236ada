/**
 * Parser for the Go text/template language as podman's --format uses it: text, actions with
 * pipelines, `{{- -}}` trimming, comments, if/else if/range/with/else/end, break/continue and
 * variables. Positions are offsets into the source, which errors report as Go does.
 */
import { goQuote } from './_gofmt.js';

export type Arg =
  | { kind: 'field'; chain: string[]; pos: number }
  | { kind: 'dot'; pos: number }
  | { kind: 'var'; name: string; chain: string[]; pos: number }
  | { kind: 'pipe'; pipe: Pipe; chain: string[]; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'literal'; value: unknown; pos: number };

export interface Cmd {
  args: Arg[];
  pos: number;
}

export interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
  pos: number;
}

export interface ControlNode {
  kind: 'if' | 'with' | 'range';
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | null;
  pos: number;
}

export type Node = { kind: 'text'; text: string } | { kind: 'action'; pipe: Pipe; pos: number } | ControlNode | { kind: 'break' | 'continue'; pos: number };

export class TemplateSyntaxError extends Error {}

/** A token inside an action; `sp` tells whether space came before it, `raw` is its source text. */
type Tok = ({ t: 'field' | 'var' | 'ident'; v: string } | { t: 'str' | 'num' | 'char'; v: unknown } | { t: 'dot' | '|' | '(' | ')' | ',' | ':=' | '=' }) & {
  pos: number;
  sp: boolean;
  raw?: string;
};

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block', 'nil', 'true', 'false', '.']);

interface Action {
  toks: Tok[];
  pos: number;
  comment: boolean;
}

const SPACE = /[ \t\r\n]/;
const ALNUM = /[\p{L}\p{Nd}_]/u;
const NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Go's strconv.Unquote for "..." and '...' bodies. */
function unescape(body: string, fail: (m: string) => never): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_, e: string) => {
    if (e.length > 1 && 'xuU'.includes(e[0]!)) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (e.length === 3) return String.fromCodePoint(parseInt(e, 8));
    const r = ESCAPES[e];
    return r ?? fail('invalid syntax');
  });
}

export class Parser {
  private i = 0;
  /** Set by a `-}}`: trim the whitespace that starts the next text. */
  private trimNext = false;
  private vars: string[] = ['$'];

  constructor(
    private readonly src: string,
    private readonly name: string,
    private readonly isFunc: (name: string) => boolean,
  ) {}

  private fail(msg: string, pos = this.i): never {
    const line = 1 + (this.src.slice(0, pos).match(/\n/g)?.length ?? 0);
    throw new TemplateSyntaxError(`template: ${this.name}:${line}: ${msg}`);
  }

  /** Reads one action body after `{{` (and any `- `), up to and including `}}`. */
  private lexAction(start: number): Action {
    const toks: Tok[] = [];
    let sp = true;
    const s = this.src;
    if (s.startsWith('/*', this.i)) {
      const end = s.indexOf('*/', this.i + 2);
      if (end < 0) this.fail('unclosed comment', start);
      this.i = end + 2;
      if (s.startsWith(' -}}', this.i)) {
        this.i += 4;
        this.trimNext = true;
      } else if (s.startsWith('}}', this.i)) this.i += 2;
      else this.fail('comment ends before closing delimiter', start);
      return { toks, pos: start, comment: true };
    }
    for (;;) {
      if (this.i >= s.length) this.fail('unclosed action', start);
      const c = s[this.i]!;
      if (s.startsWith('}}', this.i)) {
        this.i += 2;
        return { toks, pos: start, comment: false };
      }
      if (SPACE.test(c)) {
        this.i++;
        sp = true;
        continue;
      }
      if (c === '-' && s.startsWith('-}}', this.i) && sp) {
        this.i += 3;
        this.trimNext = true;
        return { toks, pos: start, comment: false };
      }
      const pos = this.i;
      const push = (t: Tok): void => {
        toks.push(t);
        sp = false;
      };
      if (c === '"' || c === "'") {
        let j = this.i + 1;
        while (j < s.length && s[j] !== c && s[j] !== '\n') j += s[j] === '\\' ? 2 : 1;
        if (s[j] !== c) this.fail(c === '"' ? 'unterminated quoted string' : 'unterminated character constant', pos);
        const text = unescape(s.slice(this.i + 1, j), (m) => this.fail(m, pos));
        this.i = j + 1;
        if (c === "'") {
          if ([...text].length !== 1) this.fail(`malformed character constant: ${s.slice(pos, j + 1)}`, pos);
          push({ t: 'char', v: text.codePointAt(0)!, pos, sp });
        } else push({ t: 'str', v: text, pos, sp });
      } else if (c === '`') {
        const j = s.indexOf('`', this.i + 1);
        if (j < 0) this.fail('unterminated raw quoted string', pos);
        push({ t: 'str', v: s.slice(this.i + 1, j).replace(/\r/g, ''), pos, sp });
        this.i = j + 1;
      } else if (c === '.' && !/[0-9]/.test(s[this.i + 1] ?? '')) {
        let j = this.i + 1;
        while (j < s.length && ALNUM.test(s[j]!)) j++;
        push(j === this.i + 1 ? { t: 'dot', pos, sp } : { t: 'field', v: s.slice(this.i + 1, j), pos, sp });
        this.i = j;
      } else if (c === '$') {
        let j = this.i + 1;
        while (j < s.length && ALNUM.test(s[j]!)) j++;
        push({ t: 'var', v: s.slice(this.i, j), pos, sp });
        this.i = j;
      } else if (/[\p{L}_]/u.test(c)) {
        let j = this.i;
        while (j < s.length && ALNUM.test(s[j]!)) j++;
        push({ t: 'ident', v: s.slice(this.i, j), pos, sp });
        this.i = j;
      } else if (/[0-9+\-.]/.test(c)) {
        const m = NUMBER.exec(s.slice(this.i));
        if (!m || ALNUM.test(s[this.i + m[0].length] ?? '')) this.fail(`bad number syntax: ${s.slice(this.i).split(/[\s}]/)[0]}`, pos);
        const text = m[0].replace(/_/g, '');
        const sign = text.startsWith('-') ? -1 : 1;
        const body = text.replace(/^[+-]/, '');
        const value = /^0[xob]/i.test(body) ? sign * Number(body) : Number(text);
        push({ t: 'num', v: value, pos, sp });
        this.i += m[0].length;
      } else if (s.startsWith(':=', this.i)) {
        push({ t: ':=', pos, sp });
        this.i += 2;
      } else if ('|(),='.includes(c)) {
        push({ t: c as '|', pos, sp });
        this.i++;
      } else {
        const cp = c.codePointAt(0)!;
        this.fail(`unrecognized character in action: U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`, pos);
      }
      toks[toks.length - 1]!.raw = s.slice(pos, this.i);
    }
  }

  /** Splits the source into text and actions, applying `{{-` and `-}}` trimming. */
  private *segments(): Generator<{ text: string } | Action> {
    const s = this.src;
    while (this.i < s.length) {
      let open = s.indexOf('{{', this.i);
      if (open < 0) open = s.length;
      let text = s.slice(this.i, open);
      if (this.trimNext) text = text.replace(/^[ \t\r\n]+/, '');
      this.trimNext = false;
      if (open === s.length) {
        this.i = open;
        if (text) yield { text };
        break;
      }
      let start = open + 2;
      if (s[start] === '-' && SPACE.test(s[start + 1] ?? '')) {
        text = text.replace(/[ \t\r\n]+$/, '');
        start += 2;
      }
      if (text) yield { text };
      this.i = start;
      while (this.i < s.length && SPACE.test(s[this.i]!) && !s.startsWith('/*', this.i)) this.i++;
      yield this.lexAction(open);
    }
  }

  parse(): Node[] {
    const segs = this.segments();
    const [list, end] = this.parseList(segs);
    if (end) this.fail(`unexpected ${end.word}`, end.pos);
    return list;
  }

  /** Parses nodes until {{end}} or {{else ...}}, which it returns for the caller to handle. */
  private parseList(segs: Generator<{ text: string } | Action>, inRange = false): [Node[], { word: string; rest: Tok[]; pos: number } | null] {
    const list: Node[] = [];
    for (;;) {
      const next = segs.next();
      if (next.done) return [list, null];
      const seg = next.value;
      if ('text' in seg) {
        list.push({ kind: 'text', text: seg.text });
        continue;
      }
      if (seg.comment) continue;
      const [first, ...rest] = seg.toks;
      if (!first) this.fail('missing value for command', seg.pos);
      const word = first.t === 'ident' ? first.v : '';
      switch (word) {
        case 'end':
        case 'else':
          if (word === 'end' && rest.length > 0) this.fail(`unexpected ${this.describe(rest[0]!)} in end`, seg.pos);
          return [list, { word: `{{${word}}}`, rest, pos: seg.pos }];
        case 'if':
        case 'with':
        case 'range':
          list.push(this.parseControl(word, rest, seg.pos, segs, inRange));
          break;
        case 'break':
        case 'continue':
          if (!inRange) this.fail(`{{${word}}} outside {{range}}`, seg.pos);
          list.push({ kind: word, pos: seg.pos });
          break;
        case 'define':
        case 'template':
        case 'block':
          return this.fail(`{{${word}}} is not supported in --format`, seg.pos);
        default:
          list.push({ kind: 'action', pipe: this.parsePipe(seg.toks, seg.pos, 'command'), pos: seg.pos });
      }
    }
  }

  private parseControl(word: 'if' | 'with' | 'range', toks: Tok[], pos: number, segs: Generator<{ text: string } | Action>, inRange: boolean): Node {
    const mark = this.vars.length;
    const pipe = this.parsePipe(toks, pos, word);
    const afterPipe = this.vars.length;
    const [list, end] = this.parseList(segs, inRange || word === 'range');
    if (!end) this.fail('unexpected EOF', this.src.length);
    let elseList: Node[] | null = null;
    if (end.word === '{{else}}') {
      const chained = end.rest[0];
      if (chained && chained.t === 'ident' && chained.v === word && word !== 'range') {
        // {{else if ...}} is an {{if}} nested in the else branch that shares the outer {{end}}.
        this.vars.length = afterPipe;
        elseList = [this.parseControl(chained.v, end.rest.slice(1), end.pos, segs, inRange)];
      } else {
        if (end.rest.length > 0) this.fail(`unexpected ${this.describe(end.rest[0]!)} in else`, end.pos);
        this.vars.length = afterPipe;
        const [list2, end2] = this.parseList(segs, inRange);
        if (!end2) this.fail('unexpected EOF', this.src.length);
        if (end2.word !== '{{end}}') this.fail(`expected end; found ${end2.word}`, end2.pos);
        elseList = list2;
      }
    }
    this.vars.length = mark;
    return { kind: word, pipe, list, elseList, pos };
  }

  /** A token as Go's parser names it in errors: `<keyword>`, else its quoted text. */
  private describe(t: Tok): string {
    const raw = t.raw ?? '';
    if (KEYWORDS.has(raw)) return `<${raw}>`;
    return raw.length > 10 ? `${goQuote(raw.slice(0, 10))}...` : goQuote(raw);
  }

  private parsePipe(toks: Tok[], pos: number, context: string): Pipe {
    let k = 0;
    const decl: string[] = [];
    let assign = false;
    // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
    const look = (n: number) => toks[k + n];
    if (look(0)?.t === 'var') {
      const v0 = look(0) as { v: string };
      if (look(1)?.t === ':=' || look(1)?.t === '=') {
        decl.push(v0.v);
        assign = look(1)!.t === '=';
        k += 2;
      } else if (look(1)?.t === ',' && context === 'range' && look(2)?.t === 'var' && look(3)?.t === ':=') {
        decl.push(v0.v, (look(2) as { v: string }).v);
        k += 4;
      }
    }
    if (assign && !this.vars.includes(decl[0]!)) this.fail(`undefined variable "${decl[0]}"`, pos);
    const cmds: Cmd[] = [];
    const rest = toks.slice(k);
    if (rest.length === 0) this.fail(`missing value for ${context}`, pos);
    let cur: Arg[] = [];
    let cmdPos = rest[0]!.pos;
    let j = 0;
    while (j < rest.length) {
      const t = rest[j]!;
      if (t.t === '|') {
        if (cur.length === 0) this.fail('missing command', t.pos);
        cmds.push({ args: cur, pos: cmdPos });
        cur = [];
        j++;
        cmdPos = rest[j]?.pos ?? t.pos;
        continue;
      }
      const [arg, used] = this.parseOperand(rest, j);
      if (cur.length === 0 && arg.kind === 'literal' && arg.value === null) this.fail('nil is not a command', t.pos);
      cur.push(arg);
      j = used;
    }
    if (cur.length === 0) this.fail('missing command', pos);
    cmds.push({ args: cur, pos: cmdPos });
    if (!assign) for (const d of decl) this.vars.push(d);
    return { decl, assign, cmds, pos };
  }

  /** An operand and any field chain written directly after it; returns the next token index. */
  private parseOperand(toks: Tok[], j: number): [Arg, number] {
    const t = toks[j]!;
    let arg: Arg;
    j++;
    switch (t.t) {
      case 'field': {
        arg = { kind: 'field', chain: [t.v], pos: t.pos };
        break;
      }
      case 'dot':
        arg = { kind: 'dot', pos: t.pos };
        break;
      case 'var':
        if (!this.vars.includes(t.v)) this.fail(`undefined variable "${t.v}"`, t.pos);
        arg = { kind: 'var', name: t.v, chain: [], pos: t.pos };
        break;
      case 'str':
      case 'num':
      case 'char':
        arg = { kind: 'literal', value: t.v, pos: t.pos };
        break;
      case 'ident':
        if (t.v === 'true' || t.v === 'false') arg = { kind: 'literal', value: t.v === 'true', pos: t.pos };
        else if (t.v === 'nil') arg = { kind: 'literal', value: null, pos: t.pos };
        else if (!this.isFunc(t.v)) this.fail(`function "${t.v}" not defined`, t.pos);
        else arg = { kind: 'ident', name: t.v, pos: t.pos };
        break;
      case '(': {
        let depth = 1;
        let k = j;
        while (k < toks.length && depth > 0) {
          if (toks[k]!.t === '(') depth++;
          else if (toks[k]!.t === ')') depth--;
          k++;
        }
        if (depth > 0) this.fail('unclosed left paren', t.pos);
        arg = { kind: 'pipe', pipe: this.parsePipe(toks.slice(j, k - 1), t.pos, 'parenthesized pipeline'), chain: [], pos: t.pos };
        j = k;
        break;
      }
      default:
        this.fail(`unexpected ${this.describe(t)} in operand`, t.pos);
    }
    while (j < toks.length && toks[j]!.t === 'field' && !toks[j]!.sp) {
      const f = (toks[j] as { v: string }).v;
      if (arg.kind === 'field' || arg.kind === 'var' || arg.kind === 'pipe') arg.chain.push(f);
      else this.fail(`unexpected . after term ${this.describe(t)}`, toks[j]!.pos);
      j++;
    }
    return [arg, j];
  }
}
