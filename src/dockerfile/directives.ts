/**
 * Parser directives (`# syntax=…`, `# escape=…`, `# check=…`): only read from the leading comment
 * lines. The first line that is not a `# key=value` comment naming a known directive ends them,
 * as BuildKit's DirectiveParser does, so a directive after any ordinary comment is just a comment.
 */

export type DirectiveName = 'syntax' | 'escape' | 'check';

export interface Directive {
  name: DirectiveName;
  value: string;
  /** 1-based line number. */
  line: number;
}

const KNOWN = new Set<string>(['syntax', 'escape', 'check']);
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/s;

export class DirectiveReader {
  private lineNumber = 0;
  private done = false;
  private readonly seen = new Set<string>();
  readonly found: Directive[] = [];

  /**
   * Feeds one physical line (newline and leading whitespace already removed). Returns the
   * directive it holds, if any; throws a plain Error for a repeated directive.
   */
  read(line: string): Directive | undefined {
    this.lineNumber++;
    if (this.done) return undefined;
    if (!line.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const match = DIRECTIVE.exec(line.slice(1).replace(/^[\t\n\v\f\r \u0085\u00a0]+/, ''));
    const name = match?.[1]?.toLowerCase();
    if (!match || name === undefined || !KNOWN.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new Error(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    const directive: Directive = { name: name as DirectiveName, value: match[2]!, line: this.lineNumber };
    this.found.push(directive);
    return directive;
  }
}
