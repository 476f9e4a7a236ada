/**
 * Executes a parsed template over JS values with Go text/template's semantics. Field names are
 * looked up with their exact case. Objects stand for Go values this way: the data's rows (and
 * objects whose keys all start with a capital, as Go's exported fields do, or class instances)
 * are structs, where an unknown field is an error; other objects and `Map`s are maps, where a
 * missing key is `<no value>`. A function-valued field is called, like a Go method.
 */
import { BUILTINS, type Func, type FuncContext, truth } from './_funcs.js';
import { goQuote, goString, goTypeName } from './_gofmt.js';
import type { Arg, Cmd, ControlNode, Node, Pipe } from './_parse.js';

const MISSING = Symbol('missing');
type Final = unknown | typeof MISSING;

class Break {}
class Continue {}

export class TemplateExecError extends Error {}

/** The root of a header row: fields on it resolve to column headers. */
export const HEADER_ROW: object = Object.freeze(Object.create(null) as object);

export interface ExecOptions {
  name: string;
  source: string;
  funcs: Record<string, Func>;
  /** Set when rendering a header row; maps a field name to its column header. */
  header?: (field: string) => string;
  /** Objects to treat as Go structs (unknown fields are errors). */
  structs: WeakSet<object>;
}

/** How an error names a struct-like value's type: its class, or plain `struct`. */
function structName(o: object): string {
  if (o instanceof Date) return 'time.Time';
  const ctor = (Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor && ctor !== 'Object' ? ctor : 'struct';
}

function argString(a: Arg): string {
  switch (a.kind) {
    case 'field':
      return `.${a.chain.join('.')}`;
    case 'dot':
      return '.';
    case 'var':
      return a.name + a.chain.map((f) => `.${f}`).join('');
    case 'pipe':
      return `(${pipeString(a.pipe)})` + a.chain.map((f) => `.${f}`).join('');
    case 'ident':
      return a.name;
    case 'literal':
      return typeof a.value === 'string' ? goQuote(a.value) : a.value === null ? 'nil' : String(a.value);
  }
}

function cmdString(c: Cmd): string {
  return c.args.map(argString).join(' ');
}

function pipeString(p: Pipe): string {
  const decl = p.decl.length ? `${p.decl.join(', ')} ${p.assign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(cmdString).join(' | ');
}

export class Executor {
  private out = '';
  private vars: { name: string; value: unknown }[] = [];
  private readonly ctx: FuncContext;

  constructor(private readonly o: ExecOptions) {
    this.ctx = { header: o.header !== undefined, truth: (v) => truth(v, (x) => this.isStruct(x)) };
  }

  run(nodes: Node[], data: unknown): string {
    this.out = '';
    this.vars = [{ name: '$', value: data }];
    this.walk(data, nodes);
    return this.out;
  }

  private isStruct(o: object): boolean {
    if (this.o.structs.has(o) || o === HEADER_ROW) return true;
    if (o instanceof Map || o instanceof Set || Array.isArray(o)) return false;
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) return true;
    const keys = Object.keys(o);
    return keys.length > 0 && keys.every((k) => /^\p{Lu}/u.test(k));
  }

  private fail(pos: number, node: string, msg: string): never {
    const before = this.o.source.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1), 'utf8');
    throw new TemplateExecError(`template: ${this.o.name}:${line}:${col}: executing "${this.o.name}" at <${node}>: ${msg}`);
  }

  private walk(dot: unknown, nodes: Node[]): void {
    for (const n of nodes) {
      switch (n.kind) {
        case 'text':
          this.out += n.text;
          break;
        case 'action': {
          const v = this.pipe(dot, n.pipe);
          if (n.pipe.decl.length === 0) this.out += goString(v);
          break;
        }
        case 'if':
        case 'with': {
          const mark = this.vars.length;
          const v = this.pipe(dot, n.pipe);
          if (this.ctx.truth(v)) this.walk(n.kind === 'with' ? v : dot, n.list);
          else if (n.elseList) this.walk(dot, n.elseList);
          this.vars.length = mark;
          break;
        }
        case 'range':
          this.range(dot, n);
          break;
        case 'break':
          throw new Break();
        case 'continue':
          throw new Continue();
      }
    }
  }

  private range(dot: unknown, n: ControlNode): void {
    const mark = this.vars.length;
    const v = this.pipe(dot, { ...n.pipe, decl: [] });
    let items: Iterable<[unknown, unknown]>;
    let count: number;
    if (Array.isArray(v)) {
      items = v.map((e, i) => [i, e]);
      count = v.length;
    } else if (v instanceof Map) {
      items = [...v.keys()].sort().map((k) => [k, v.get(k)]);
      count = v.size;
    } else if (v === undefined || v === null) {
      items = [];
      count = 0;
    } else if (typeof v === 'string' && this.ctx.header) {
      items = [[0, v]];
      count = 1;
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      if (n.pipe.decl.length > 1) this.fail(n.pos, pipeString(n.pipe), `can't use ${v} to iterate over more than one variable`);
      count = Math.max(0, v);
      items = (function* () {
        for (let i = 0; i < count; i++) yield [i, i] as [number, number];
      })();
    } else if (typeof v === 'object' && !(v instanceof Date)) {
      const keys = Object.keys(v).sort();
      items = keys.map((k) => [k, (v as Record<string, unknown>)[k]]);
      count = keys.length;
    } else {
      return this.fail(n.pos, pipeString(n.pipe), `range can't iterate over ${goString(v)}`);
    }
    if (count === 0) {
      if (n.elseList) this.walk(dot, n.elseList);
      return;
    }
    const [first, second] = n.pipe.decl;
    for (const [key, elem] of items) {
      if (second !== undefined) this.vars.push({ name: first!, value: key }, { name: second, value: elem });
      else if (first !== undefined) this.vars.push({ name: first, value: elem });
      try {
        this.walk(elem, n.list);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.vars.length = mark;
      }
    }
    this.vars.length = mark;
  }

  private pipe(dot: unknown, p: Pipe): unknown {
    let value: Final = MISSING;
    for (const c of p.cmds) value = this.cmd(dot, c, value);
    for (const name of p.decl) {
      if (p.assign) {
        const v = this.lookup(name);
        if (!v) this.fail(p.pos, name, `undefined variable: ${name}`);
        v.value = value;
      } else {
        this.vars.push({ name, value });
      }
    }
    return value;
  }

  private notAFunction(c: Cmd, final: Final): void {
    if (c.args.length > 1 || final !== MISSING) this.fail(c.pos, cmdString(c), `can't give argument to non-function ${argString(c.args[0]!)}`);
  }

  private cmd(dot: unknown, c: Cmd, final: Final): unknown {
    const first = c.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.chain(dot, first.chain, first, c.args.slice(1), final, dot);
      case 'ident':
        return this.call(dot, first.name, c, final);
      case 'var':
        if (first.chain.length) return this.chain(this.variable(first), first.chain, first, c.args.slice(1), final, dot);
        this.notAFunction(c, final);
        return this.variable(first);
      case 'pipe': {
        const v = this.pipe(dot, first.pipe);
        if (first.chain.length) return this.chain(v, first.chain, first, c.args.slice(1), final, dot);
        this.notAFunction(c, final);
        return v;
      }
      default:
        this.notAFunction(c, final);
        return this.arg(dot, first);
    }
  }

  private variable(a: Extract<Arg, { kind: 'var' }>): unknown {
    const v = this.lookup(a.name);
    if (!v) this.fail(a.pos, a.name, `undefined variable: ${a.name}`);
    return v.value;
  }

  /** The innermost variable of that name. */
  private lookup(name: string): { name: string; value: unknown } | undefined {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i];
    return undefined;
  }

  private arg(dot: unknown, a: Arg): unknown {
    switch (a.kind) {
      case 'field':
        return this.chain(dot, a.chain, a, [], MISSING, dot);
      case 'dot':
        return dot;
      case 'var':
        return this.chain(this.variable(a), a.chain, a, [], MISSING, dot);
      case 'pipe':
        return this.chain(this.pipe(dot, a.pipe), a.chain, a, [], MISSING, dot);
      case 'ident':
        return this.call(dot, a.name, { args: [a], pos: a.pos }, MISSING);
      case 'literal':
        return a.value;
    }
  }

  private chain(recv: unknown, names: string[], node: Arg, args: Arg[], final: Final, dot: unknown): unknown {
    let v = recv;
    names.forEach((name, i) => {
      const last = i === names.length - 1;
      v = this.field(v, name, node, last ? args : [], last ? final : MISSING, dot);
    });
    return v;
  }

  private field(recv: unknown, name: string, node: Arg, args: Arg[], final: Final, dot: unknown): unknown {
    const at = argString(node);
    const hasArgs = args.length > 0 || final !== MISSING;
    if (this.o.header) {
      if (recv === HEADER_ROW) return this.o.header(name);
      if (typeof recv === 'string') return recv;
    }
    if (recv === undefined || recv === null) return undefined;
    if (recv instanceof Map) {
      if (hasArgs) this.fail(node.pos, at, `${name} is not a method but has arguments`);
      return recv.get(name);
    }
    if (typeof recv === 'object' && !Array.isArray(recv)) {
      const obj = recv as Record<string, unknown>;
      if (Object.hasOwn(obj, name) || (name in obj && !(name in Object.prototype))) {
        const v = obj[name];
        if (typeof v === 'function') {
          const callArgs = args.map((a) => this.arg(dot, a));
          if (final !== MISSING) callArgs.push(final);
          try {
            return (v as (...a: unknown[]) => unknown).apply(obj, callArgs);
          } catch (e) {
            this.fail(node.pos, at, `error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        if (hasArgs) this.fail(node.pos, at, `${name} has arguments but cannot be invoked as function`);
        return v;
      }
      if (this.isStruct(obj)) this.fail(node.pos, at, `can't evaluate field ${name} in type ${structName(obj)}`);
      if (hasArgs) this.fail(node.pos, at, `${name} is not a method but has arguments`);
      return undefined;
    }
    return this.fail(node.pos, at, `can't evaluate field ${name} in type ${goTypeName(recv)}`);
  }

  private call(dot: unknown, name: string, c: Cmd, final: Final): unknown {
    const f = this.o.funcs[name] ?? BUILTINS[name];
    const at = cmdString(c);
    if (!f) return this.fail(c.pos, at, `"${name}" is not a defined function`);
    const argNodes = c.args.slice(1);
    const count = argNodes.length + (final !== MISSING ? 1 : 0);
    if (count < f.min || count > f.max) {
      const want = f.min === f.max ? `${f.min}` : `at least ${f.min}`;
      this.fail(c.pos, at, `wrong number of args for ${name}: want ${want} got ${count}`);
    }
    if (name === 'and' || name === 'or') {
      let v: unknown;
      for (let i = 0; i < count; i++) {
        v = i < argNodes.length ? this.arg(dot, argNodes[i]!) : final;
        if (this.ctx.truth(v) !== (name === 'and')) return v;
      }
      return v;
    }
    const args = argNodes.map((a) => this.arg(dot, a));
    if (final !== MISSING) args.push(final);
    try {
      return f.fn(args, this.ctx);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      return this.fail(c.pos, at, `error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
