import { BerthError } from '../util/errors.js';
import { DirectiveReader, type Directive } from './directives.js';
import { heredocsFromLine, type Heredoc } from './heredoc.js';
import { parseArgs } from './line-parsers.js';
import { splitCommand } from './split-command.js';

/**
 * The Dockerfile parser: physical lines to instructions, as BuildKit's `parser.Parse` does it
 * (directives, escape-character continuations, comments, heredoc bodies). Arguments are split per
 * instruction but nothing is expanded or validated beyond what that parser rejects.
 */

export interface Instruction {
  /** Lowercased keyword: `from`, `run`, … (unknown keywords are kept). */
  keyword: string;
  /** The keyword as written. */
  value: string;
  /** The logical line: continuations joined, comment lines inside them dropped. */
  original: string;
  /** 1-based lines the instruction spans, heredoc bodies included (0 for ONBUILD's nested one). */
  startLine: number;
  endLine: number;
  /** `--name=value` words before the arguments. */
  flags: string[];
  /** Arguments per the instruction's rule; ENV and LABEL give (key, value, separator) triples. */
  args: string[];
  /** The arguments came from a JSON array (exec form). */
  json: boolean;
  /** ONBUILD's instruction. */
  subInstruction?: Instruction;
  heredocs: Heredoc[];
  /** Comment lines directly above, without their `#`. */
  comments: string[];
}

export interface ParseWarning {
  message: string;
  detail: string;
  line: number;
}

export interface Dockerfile {
  directives: Directive[];
  /** `\` unless an `escape` directive chose `` ` ``. */
  escapeToken: string;
  instructions: Instruction[];
  /** Lines of the first and last instruction. */
  startLine: number;
  endLine: number;
  warnings: ParseWarning[];
}

const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** Throws a BerthError (DOCKERFILE_INVALID) naming the line, as BuildKit rejects the file. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = physicalLines(text);
  const directives = new DirectiveReader();
  let escapeToken = '\\';
  let continuation = continuationPattern(escapeToken);
  const instructions: Instruction[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let lineNo = 0;

  /** processLine: reads directives from every line; returns '' for comment lines. */
  let lastWasDirective = false;
  const processLine = (raw: string, stripLeft: boolean): string => {
    let line = trimNewline(raw);
    if (stripLeft) line = line.replace(LEADING_SPACE, '');
    try {
      const directive = directives.read(line);
      lastWasDirective = directive !== undefined;
      if (directive?.name === 'escape') {
        if (directive.value !== '`' && directive.value !== '\\') {
          throw new Error(`invalid escape token '${directive.value}' does not match \` or \\`);
        }
        escapeToken = directive.value;
        continuation = continuationPattern(escapeToken);
      }
    } catch (e) {
      throw parseError((e as Error).message, lineNo + 1); // the line being read, not yet counted
    }
    return isComment(line) ? '' : line;
  };

  let index = 0;
  while (index < lines.length) {
    const raw = lines[index++]!;
    const first = processLine(raw, true);
    // Directives are not comments for the instruction below them.
    if (isComment(raw) && !lastWasDirective) {
      const comment = trimNewline(raw).replace(LEADING_SPACE, '').slice(1).trim();
      comments = comment === '' ? [] : [...comments, comment];
    }
    lineNo++;
    const startLine = lineNo;
    let [line, ended] = trimContinuation(first, continuation);
    if (ended && line === '') continue;

    let emptyContinuation = false;
    while (!ended && index < lines.length) {
      const next = lines[index++]!;
      const processed = processLine(next, false);
      lineNo++;
      if (isComment(next)) continue;
      if (processed.replace(LEADING_SPACE, '') === '') {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, ended] = trimContinuation(processed, continuation);
      line += part;
    }
    if (emptyContinuation) {
      warnings.push({
        message: `Empty continuation line found in: ${line}`,
        detail: 'Empty continuation lines will become errors in a future release',
        line: lineNo,
      });
    }

    let instruction: Instruction;
    try {
      instruction = instructionFromLine(line, escapeToken, comments);
    } catch (e) {
      throw parseError((e as Error).message, startLine, lineNo);
    }
    if (canContainHeredoc(instruction) && line.includes('<<')) {
      let opened;
      try {
        opened = heredocsFromLine(line);
      } catch (e) {
        throw parseError((e as Error).message, startLine, lineNo);
      }
      for (const heredoc of opened) {
        let content = '';
        let terminated = false;
        while (index < lines.length) {
          const bodyLine = lines[index++]!;
          lineNo++;
          let candidate = trimNewline(bodyLine);
          if (heredoc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === heredoc.name) {
            terminated = true;
            break;
          }
          content += bodyLine;
        }
        if (!terminated) throw parseError('unterminated heredoc', startLine, lineNo);
        instruction.heredocs.push({ ...heredoc, content });
      }
    }
    instruction.startLine = startLine;
    instruction.endLine = lineNo;
    instructions.push(instruction);
    comments = [];
  }

  if (instructions.length === 0) throw parseError('file with no instructions', lineNo);
  return {
    directives: directives.found,
    escapeToken,
    instructions,
    startLine: instructions[0]!.startLine,
    endLine: instructions[instructions.length - 1]!.endLine,
    warnings,
  };
}

/** newNodeFromLine: one logical line (or ONBUILD's rest) to an instruction. */
function instructionFromLine(line: string, escapeToken: string, comments: string[]): Instruction {
  const { keyword: value, flags, rest } = splitCommand(line);
  const keyword = value.toLowerCase();
  const parsed = parseArgs(keyword, rest, escapeToken);
  return {
    keyword,
    value,
    original: line,
    startLine: 0,
    endLine: 0,
    flags,
    args: parsed.args,
    json: parsed.json,
    ...(parsed.subInstruction === undefined ? {} : { subInstruction: instructionFromLine(parsed.subInstruction, escapeToken, []) }),
    heredocs: [],
    comments,
  };
}

/** RUN, COPY and ADD in shell form (also under ONBUILD) may open heredocs; exec form never does. */
function canContainHeredoc(instruction: Instruction): boolean {
  const target = instruction.keyword === 'onbuild' && instruction.subInstruction ? instruction.subInstruction : instruction;
  return HEREDOC_KEYWORDS.has(target.keyword) && !target.json;
}

/** Lines with their line endings, as BuildKit's scanner hands them over; a leading BOM dropped. */
function physicalLines(text: string): string[] {
  if (text.startsWith('\ufeff')) text = text.slice(1);
  if (text === '') return [];
  return text.split(/(?<=\n)/);
}

function trimNewline(line: string): string {
  return line.replace(/[\r\n]+$/, '');
}

function isComment(line: string): boolean {
  return trimNewline(line).replace(LEADING_SPACE, '').startsWith('#');
}

/**
 * An odd run of escape tokens, then only spaces or tabs, at the end of a line continues it: an
 * even run is escaped escapes (a line ending in `\\` does not continue).
 */
function continuationPattern(escapeToken: string): RegExp {
  const e = '\\' + escapeToken;
  return new RegExp(`(^|[^${e}])((?:${e}${e})*)${e}[ \\t]*$`);
}

function trimContinuation(line: string, pattern: RegExp): [string, boolean] {
  return pattern.test(line) ? [line.replace(pattern, '$1$2'), false] : [line, true];
}

function parseError(message: string, startLine: number, endLine = startLine): BerthError {
  const where = startLine <= 0 ? '' : endLine > startLine ? ` on lines ${startLine}-${endLine}` : ` on line ${startLine}`;
  return new BerthError('DOCKERFILE_INVALID', `dockerfile parse error${where}: ${message}`);
}
