import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { isBerthError } from '../util/errors.js';
import { dump } from './dump.js';
import { parseDockerfile, type Instruction } from './parser.js';

const root = fixture('dockerfile');

function read(...parts: string[]): string {
  return readFileSync(join(root, ...parts), 'utf8');
}

/** The shape of BuildKit's node tree in generated/*.ast.json, rebuilt from our AST. */
function asGenerated(i: Instruction, nested = false): Record<string, unknown> {
  const node: Record<string, unknown> = { value: i.value };
  const next: unknown[] = i.args.map((value) => ({ value }));
  if (i.subInstruction) next.push({ value: '', children: [asGenerated(i.subInstruction, true)] });
  if (next.length > 0) node.next = next;
  if (i.json) node.attributes = { json: true };
  if (i.heredocs.length > 0) {
    node.heredocs = i.heredocs.map((h) => ({
      name: h.name,
      fileDescriptor: h.fileDescriptor,
      expand: h.expand,
      chomp: h.chomp,
      content: h.content,
    }));
  }
  node.original = i.original;
  if (i.flags.length > 0) node.flags = i.flags;
  if (i.comments.length > 0) node.prevComment = i.comments;
  if (!nested) {
    node.startLine = i.startLine;
    node.endLine = i.endLine;
  }
  return node;
}

interface Generated {
  dump?: string;
  escapeToken?: string;
  warnings?: string[];
  error?: string;
  ast?: { startLine: number; endLine: number; children: Record<string, unknown>[] };
}

function generated(...parts: string[]): Generated {
  return JSON.parse(read('generated', ...parts)) as Generated;
}

/** Compares our AST with BuildKit's: line numbers, flags, heredocs, comments, JSON form, arguments. */
function assertMatchesGenerated(text: string, expected: Generated): void {
  const ast = parseDockerfile(text);
  assert.ok(expected.ast);
  assert.equal(ast.escapeToken, expected.escapeToken);
  assert.equal(dump(ast), expected.dump + '\n');
  assert.equal(ast.startLine, expected.ast.startLine);
  assert.equal(ast.endLine, expected.ast.endLine);
  assert.deepEqual(
    ast.instructions.map((i) => asGenerated(i)),
    expected.ast.children,
  );
}

const positives = readdirSync(join(root, 'testfiles')).sort();

test('there are 33 positive parser fixtures', () => {
  assert.equal(positives.length, 33);
});

for (const name of positives) {
  test(`testfiles/${name}: dump equals result, AST equals generated`, () => {
    const text = read('testfiles', name, 'Dockerfile');
    assert.equal(dump(parseDockerfile(text)), read('testfiles', name, 'result'));
    assertMatchesGenerated(text, generated('testfiles', `${name}.ast.json`));
  });
}

const negatives = readdirSync(join(root, 'testfiles-negative')).sort();

test('there are 4 negative parser fixtures', () => {
  assert.equal(negatives.length, 4);
});

for (const name of negatives) {
  test(`testfiles-negative/${name}: rejected with BuildKit's message and a line`, () => {
    const expected = generated('testfiles-negative', `${name}.ast.json`);
    assert.ok(expected.error);
    const text = read('testfiles-negative', name, 'Dockerfile');
    assert.throws(
      () => parseDockerfile(text),
      (e: unknown) => {
        assert.ok(isBerthError(e, 'DOCKERFILE_INVALID'));
        assert.ok(e.message.includes(expected.error!), e.message);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      },
    );
  });
}

test('env_no_value names its line', () => {
  assert.throws(() => parseDockerfile(read('testfiles-negative', 'env_no_value', 'Dockerfile')), /line \d+: ENV must have two arguments/);
});

test('testfile-line: instruction line ranges include comments and blanks in continuations', () => {
  const expected = JSON.parse(read('extra', 'testfile-line-expected.json')) as {
    rootStartLine: number;
    rootEndLine: number;
    childCount: number;
    childLines: [number, number][];
  };
  const ast = parseDockerfile(read('testfile-line', 'Dockerfile'));
  assert.equal(ast.startLine, expected.rootStartLine);
  assert.equal(ast.endLine, expected.rootEndLine);
  assert.equal(ast.instructions.length, expected.childCount);
  assert.deepEqual(
    ast.instructions.map((i) => [i.startLine, i.endLine]),
    expected.childLines,
  );
  assertMatchesGenerated(read('testfile-line', 'Dockerfile'), generated('testfile-line.ast.json'));
});

interface ExpectedHeredoc {
  Name: string;
  FileDescriptor: number;
  Expand: boolean;
  Chomp: boolean;
  Content: string;
}

test('extra/heredoc: heredoc names, descriptors, expansion, chomping and bodies', () => {
  const text = read('extra', 'heredoc', 'Dockerfile');
  const ast = parseDockerfile(text);
  assert.equal(dump(ast), read('extra', 'heredoc', 'result'));
  const table = JSON.parse(read('extra', 'heredoc', 'expected-heredocs.json')) as {
    childOffset: number;
    expected: (ExpectedHeredoc[] | null)[];
  };
  assert.equal(ast.instructions.length, table.expected.length + table.childOffset);
  table.expected.forEach((heredocs, i) => {
    const got = ast.instructions[i + table.childOffset]!.heredocs.map((h) => ({
      Name: h.name,
      FileDescriptor: h.fileDescriptor,
      Expand: h.expand,
      Chomp: h.chomp,
      Content: h.content,
    }));
    assert.deepEqual(got, heredocs ?? [], `instruction ${i + table.childOffset}: ${ast.instructions[i + table.childOffset]!.original}`);
  });
  assertMatchesGenerated(text, generated('extra', 'heredoc.ast.json'));
});

test('extra/json-heredoc: exec form never opens heredocs', () => {
  const text = read('extra', 'json-heredoc', 'Dockerfile');
  const ast = parseDockerfile(text);
  assert.equal(dump(ast), read('extra', 'json-heredoc', 'result'));
  const { childrenWithoutHeredocs } = JSON.parse(read('extra', 'json-heredoc', 'expected.json')) as { childrenWithoutHeredocs: number[] };
  assert.equal(childrenWithoutHeredocs.length, 3);
  for (const i of childrenWithoutHeredocs) assert.deepEqual(ast.instructions[i]!.heredocs, []);
  assertMatchesGenerated(text, generated('extra', 'json-heredoc.ast.json'));
});

test('extra/empty-continuation: two warnings, none for comment lines', () => {
  const text = read('extra', 'empty-continuation', 'Dockerfile');
  const ast = parseDockerfile(text);
  assert.equal(dump(ast), read('extra', 'empty-continuation', 'result'));
  const expected = JSON.parse(read('extra', 'empty-continuation', 'expected.json')) as {
    warningCount: number;
    warningShortContains: string[][];
    warning0DetailContains: string;
  };
  assert.equal(ast.warnings.length, expected.warningCount);
  expected.warningShortContains.forEach((parts, i) => {
    for (const part of parts) assert.ok(ast.warnings[i]!.message.includes(part), ast.warnings[i]!.message);
  });
  assert.ok(ast.warnings[0]!.detail.includes(expected.warning0DetailContains));
  assert.deepEqual(
    ast.warnings.map((w) => w.message),
    generated('extra', 'empty-continuation.ast.json').warnings,
  );
  assertMatchesGenerated(text, generated('extra', 'empty-continuation.ast.json'));
});

test('every generated AST file is covered by a test above', () => {
  const covered = [
    ...positives.map((n) => `testfiles/${n}.ast.json`),
    ...negatives.map((n) => `testfiles-negative/${n}.ast.json`),
    'extra/heredoc.ast.json',
    'extra/json-heredoc.ast.json',
    'extra/empty-continuation.ast.json',
  ];
  for (const f of covered) assert.ok(existsSync(join(root, 'generated', f)), f);
  const all = ['testfiles', 'testfiles-negative', 'extra'].flatMap((d) => readdirSync(join(root, 'generated', d)).map((f) => `${d}/${f}`));
  assert.deepEqual(all.sort(), covered.sort());
});

test('directives are reported with their lines; a repeated one is an error', () => {
  const ast = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN x `\n  y\n');
  assert.deepEqual(ast.directives, [
    { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
    { name: 'escape', value: '`', line: 2 },
  ]);
  assert.equal(ast.escapeToken, '`');
  assert.equal(dump(ast), '(from "a")\n(run "x   y")\n');
  assert.throws(() => parseDockerfile('# escape=`\n# escape=\\\nFROM a\n'), /line 2: only one escape parser directive can be used/);
  assert.throws(() => parseDockerfile('FROM a\nRUN <<EOF\nno end\n'), /lines 2-3: unterminated heredoc/);
});
