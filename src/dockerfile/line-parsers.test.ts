import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { chompHeredocContent, heredocsFromLine, parseHeredoc } from './heredoc.js';
import { NOT_STRING_ARRAY, parseJSONArray, parseWords } from './line-parsers.js';
import { splitCommand } from './split-command.js';

const tables = JSON.parse(readFileSync(fixture('dockerfile', 'extra', 'parser-unit-tables.json'), 'utf8')) as {
  parseHeredoc: { invalid_error: string[]; not_heredoc_nil: string[]; valid_name_EOF: string[] };
  heredocsFromLine: { cases: { line: string; heredocNames: string[] | null }[] };
  parseWords: { cases: { input: string; expect: string[] }[] };
  jsonArraysOfStrings: { valid: { input: string; expect: string[] }[]; invalid: string[] };
  heredocChomp: { input: string; expect: string };
};

test('parseHeredoc: valid, invalid and non-heredoc words', () => {
  const t = tables.parseHeredoc;
  assert.equal(t.valid_name_EOF.length + t.invalid_error.length + t.not_heredoc_nil.length, 20);
  for (const word of t.valid_name_EOF) assert.equal(parseHeredoc(word)?.name, 'EOF', word);
  for (const word of t.invalid_error) assert.throws(() => parseHeredoc(word), Error, word);
  for (const word of t.not_heredoc_nil) assert.equal(parseHeredoc(word), undefined, word);
});

test('heredocsFromLine: the heredocs an instruction line opens', () => {
  assert.equal(tables.heredocsFromLine.cases.length, 10);
  for (const c of tables.heredocsFromLine.cases) {
    assert.deepEqual(
      heredocsFromLine(c.line).map((h) => h.name),
      c.heredocNames ?? [],
      c.line,
    );
  }
});

test('parseWords keeps quotes and escapes in the words', () => {
  assert.equal(tables.parseWords.cases.length, 8);
  for (const c of tables.parseWords.cases) assert.deepEqual(parseWords(c.input, '\\'), c.expect, c.input);
});

test('JSON arrays must hold strings only', () => {
  const t = tables.jsonArraysOfStrings;
  assert.equal(t.valid.length, 8);
  for (const c of t.valid) assert.deepEqual(parseJSONArray(c.input), c.expect, c.input);
  assert.equal(t.invalid.length, 8);
  for (const input of t.invalid) assert.throws(() => parseJSONArray(input), { message: NOT_STRING_ARRAY }, input);
});

test('chomping strips leading tabs from every line', () => {
  assert.equal(chompHeredocContent(tables.heredocChomp.input), tables.heredocChomp.expect);
});

test('splitCommand: flags end at the first non-flag word or at a bare --', () => {
  assert.deepEqual(splitCommand('COPY --doit=true -- foo /tmp/'), { keyword: 'COPY', flags: ['--doit=true'], rest: 'foo /tmp/' });
  assert.deepEqual(splitCommand('  RUN --mount="type=cache" echo  '), { keyword: 'RUN', flags: ['--mount=type=cache'], rest: 'echo' });
  assert.deepEqual(splitCommand('CMD --doit'), { keyword: 'CMD', flags: ['--doit'], rest: '' });
  assert.deepEqual(splitCommand('INVALID'), { keyword: 'INVALID', flags: [], rest: '' });
});
