/**
 * Go text/template for `--format`, plus what containers/common's pkg/report does around it:
 * `table` formats with a header row through a tabwriter, `\t` and `\n` escapes, a newline after
 * each row, and an implied `{{range .}}` over the rows.
 */
import { BerthError } from '../../util/errors.js';
import { Executor, HEADER_ROW, TemplateExecError } from './_exec.js';
import { BUILTINS, type Func } from './_funcs.js';
import { Parser, TemplateSyntaxError, type Node } from './_parse.js';
import { tabwrite } from './table.js';

export interface TemplateOptions {
  /** The template's name in error messages; podman uses the command's name. */
  name?: string;
  /** Functions besides Go's builtins and podman's (join, json, lower, pad, split, title, truncate, upper). */
  funcs?: Record<string, (...args: never[]) => unknown>;
}

function templateError(e: unknown): never {
  if (e instanceof TemplateSyntaxError || e instanceof TemplateExecError) throw new BerthError('USAGE', e.message, { cause: e });
  throw e;
}

/** A parsed template. Errors, in parsing or executing, are BerthErrors (code USAGE) worded as Go words them. */
export class Template {
  private constructor(
    readonly source: string,
    private readonly nodes: Node[],
    private readonly name: string,
    private readonly funcs: Record<string, Func>,
  ) {}

  static parse(source: string, options: TemplateOptions = {}): Template {
    const name = options.name ?? 'format';
    const funcs: Record<string, Func> = {};
    for (const [k, fn] of Object.entries(options.funcs ?? {})) {
      funcs[k] = { min: 0, max: Infinity, fn: (args) => (fn as (...a: unknown[]) => unknown)(...args) };
    }
    try {
      const nodes = new Parser(source, name, (f) => f in funcs || f in BUILTINS).parse();
      return new Template(source, nodes, name, funcs);
    } catch (e) {
      return templateError(e);
    }
  }

  /** Applies the template to `data`. Objects inside a top-level array (the rows) are structs. */
  execute(data: unknown): string {
    const structs = new WeakSet<object>();
    const mark = (v: unknown) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map)) structs.add(v);
    };
    if (Array.isArray(data)) data.forEach(mark);
    else mark(data);
    return this.run(data, structs);
  }

  /**
   * Renders the header row of a table: the template runs over one row whose every field is its
   * column header, as podman runs it over `report.Headers(...)`.
   */
  executeHeader(header: (field: string) => string): string {
    return this.run([HEADER_ROW], new WeakSet(), header);
  }

  private run(data: unknown, structs: WeakSet<object>, header?: (field: string) => string): string {
    const exec = new Executor({ name: this.name, source: this.source, funcs: this.funcs, structs, ...(header ? { header } : {}) });
    try {
      return exec.run(this.nodes, data);
    } catch (e) {
      return templateError(e);
    }
  }
}

/** Parses a Go template (see Template). */
export function parseTemplate(source: string, options?: TemplateOptions): Template {
  return Template.parse(source, options);
}

/** Parses and applies a Go template in one step. */
export function renderTemplate(source: string, data: unknown, options?: TemplateOptions): string {
  return Template.parse(source, options).execute(data);
}

/** `table ` at the very start marks a table format (report.HasTable). */
export function hasTable(format: string): boolean {
  return format.startsWith('table ');
}

/** `json`, `{{json}}` and `{{ json. }}` ask for JSON output; `{{json .}}` is an ordinary template (report.IsJSON). */
export function isJsonFormat(format: string): boolean {
  return /^\s*(json|\{\{\s*json\.?\s*\}\})\s*$/.test(format);
}

/**
 * report.NormalizeFormat: for tables, drops every `table `, turns `\t` and spaces into tabs and
 * `\n` into newlines; otherwise only turns the `\t` and `\n` escapes into tabs and newlines.
 * Either way the result ends in a newline.
 */
export function normalizeFormat(format: string): string {
  const table = hasTable(format);
  const pattern = table ? /table |\\t| |\\n/g : /\\t|\\n/g;
  const f = format.replace(pattern, (m) => (m === 'table ' ? '' : m === '\\n' ? '\n' : '\t'));
  return f.endsWith('\n') ? f : `${f}\n`;
}

/** report.EnforceRange: wraps the format in `{{range .}}...{{end -}}` unless it ranges over `.` itself. */
export function enforceRange(format: string): string {
  return /\{\{\s*range\s*\.\s*\}\}[\s\S]*\{\{\s*end\s*-?\s*\}\}/.test(format) ? format : `{{range .}}${format}{{end -}}`;
}

/** fatih/camelcase.Split as vendored by containers/common: `CreatedAt` → `Created`, `At`; `PDFLoader` → `PDF`, `Loader`. */
export function camelSplit(s: string): string[] {
  const classOf = (ch: string) => (/\p{Ll}/u.test(ch) ? 1 : /\p{Lu}/u.test(ch) ? 2 : /\p{Nd}/u.test(ch) ? 3 : 4);
  const runs: string[][] = [];
  let last = 0;
  for (const ch of s) {
    const c = classOf(ch);
    if (c === last && runs.length > 0) runs[runs.length - 1]!.push(ch);
    else runs.push([ch]);
    last = c;
  }
  for (let i = 0; i < runs.length - 1; i++) {
    if (/\p{Lu}/u.test(runs[i]![0]!) && /\p{Ll}/u.test(runs[i + 1]![0]!)) runs[i + 1]!.unshift(runs[i]!.pop()!);
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(''));
}

/** The column header podman derives from a field name: `RepoTags` → `REPO TAGS`. */
export function defaultHeader(field: string): string {
  return camelSplit(field).join(' ').toUpperCase();
}

export interface ReportOptions extends TemplateOptions {
  /** Column headers by field name, overriding the derived ones (upper-cased, as podman does). */
  headers?: Record<string, string>;
  /** Leave out the header row of a table. */
  noHeading?: boolean;
  /**
   * `user` (the default) for a --format given on the command line; `podman` for a command's own
   * built-in format, which is always a table with headers.
   */
  origin?: 'user' | 'podman';
}

/**
 * podman's report.Formatter end to end: a `table ...` format (or a built-in one) prints a header
 * row and the rows through podman's tabwriter; any other format is applied to each row in turn
 * (or, if it has its own `{{range .}}`, to the list) with no header and no alignment.
 */
export function renderReport(format: string, rows: readonly unknown[], options: ReportOptions = {}): string {
  const table = hasTable(format) || options.origin === 'podman';
  // As podman does: parse the normalized format and, if that fails (a `\n` inside a quoted
  // string such as `{{printf "\n"}}` became a real newline), parse the format as given.
  let normalized: string;
  let raw: string;
  if (hasTable(format)) {
    normalized = `{{range .}}${normalizeFormat(format)}{{end -}}`;
    raw = `{{range .}}${format.slice('table '.length)}{{end -}}`;
  } else if (options.origin === 'podman') {
    normalized = normalizeFormat(format);
    raw = format;
  } else {
    normalized = enforceRange(normalizeFormat(format));
    raw = enforceRange(format);
  }
  let tmpl: Template;
  try {
    tmpl = Template.parse(normalized, options);
  } catch {
    tmpl = Template.parse(raw, options);
  }
  if (!table) return tmpl.execute(rows);
  const headers = options.headers ?? {};
  const header = (field: string) => (Object.hasOwn(headers, field) ? headers[field]!.toUpperCase() : defaultHeader(field));
  const head = options.noHeading ? '' : tmpl.executeHeader(header);
  return tabwrite(head + tmpl.execute(rows));
}
