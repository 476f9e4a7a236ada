import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { isBerthError } from '../util/errors.js';
import { envFromList, processWord, processWordWithMatches, processWords } from './shell.js';

function shellFixture(name: string): string {
  return readFileSync(fixture('dockerfile', 'shell', name), 'utf8');
}

/** Runs `fn` and describes the outcome, so a table's failures can be listed together. */
function outcome<T>(fn: () => T): { value: T } | { error: string } {
  try {
    return { value: fn() };
  } catch (e) {
    assert.ok(isBerthError(e, 'DOCKERFILE_INVALID'), `unexpected error type: ${String(e)}`);
    return { error: (e as Error).message };
  }
}

test('envVarTest: ProcessWord on every all-platform and Unix case', () => {
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  const failures: string[] = [];
  let checked = 0;
  let windowsOnly = 0;
  for (const line of shellFixture('envVarTest').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const fields = line.split('|').map((f) => f.trim());
    assert.equal(fields.length, 3, `malformed line: ${line}`);
    const [platform, input, expected] = fields as [string, string, string];
    // Windows-only lines expect case-insensitive names ($pwd == $PWD); berth builds on Linux.
    if (platform === 'W') {
      windowsOnly++;
      continue;
    }
    checked++;
    const got = outcome(() => processWord(input, env));
    if (expected === 'error') {
      if (!('error' in got)) failures.push(`${input}: expected an error, got ${JSON.stringify(got.value)}`);
    } else if (!('value' in got) || got.value !== expected) {
      failures.push(`${input}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    }
  }
  assert.equal(checked, 228);
  assert.equal(windowsOnly, 2);
  assert.deepEqual(failures, []);
});

test('wordsTest: ProcessWords splits expansions on unquoted whitespace', () => {
  const envList: string[] = [];
  const failures: string[] = [];
  let checked = 0;
  for (const line of shellFixture('wordsTest').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (line.startsWith('ENV ')) {
      envList.push(line.slice(3).trimStart());
      continue;
    }
    const bar = line.indexOf('|');
    assert.ok(bar > 0, `malformed line: ${line}`);
    const input = line.slice(0, bar).trim();
    const expected = line.slice(bar + 1).trimStart();
    checked++;
    const got = outcome(() => processWords(input, envFromList(envList)));
    if (expected === 'error') {
      if (!('error' in got)) failures.push(`${input}: expected an error, got ${JSON.stringify(got.value)}`);
    } else if (!('value' in got)) {
      failures.push(`${input}: unexpected error ${got.error}`);
    } else {
      try {
        assert.deepEqual(got.value, expected.split(','));
      } catch {
        failures.push(`${input}: expected ${JSON.stringify(expected.split(','))}, got ${JSON.stringify(got.value)}`);
      }
    }
  }
  assert.equal(checked, 24);
  assert.deepEqual(failures, []);
});

interface MatchCase {
  input: string;
  envs: Record<string, string>;
  expected: string;
  expectedErr: boolean;
  matched: string[];
  unmatched: string[];
}

test('process-with-matches.json: result and the matched/unmatched variable names', () => {
  const cases = JSON.parse(shellFixture('process-with-matches.json')) as MatchCase[];
  assert.equal(cases.length, 47);
  const failures: string[] = [];
  for (const c of cases) {
    const got = outcome(() => processWordWithMatches(c.input, new Map(Object.entries(c.envs))));
    if (c.expectedErr) {
      if (!('error' in got)) failures.push(`${c.input}: expected an error, got ${JSON.stringify(got.value.result)}`);
      continue;
    }
    if (!('value' in got)) {
      failures.push(`${c.input}: unexpected error ${got.error}`);
      continue;
    }
    const actual = { result: got.value.result, matched: [...got.value.matched].sort(), unmatched: [...got.value.unmatched].sort() };
    const wanted = { result: c.expected, matched: [...c.matched].sort(), unmatched: [...c.unmatched].sort() };
    if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
      failures.push(`${c.input} ${JSON.stringify(c.envs)}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(actual)}`);
    }
  }
  assert.deepEqual(failures, []);
});

interface MandatoryCase {
  input: string;
  envs: string[];
  expect?: string;
  errorContains?: string;
}

test('mandatory-env.json: ${VAR?msg} and ${VAR:?msg}, and the TARGETVARIANT template', () => {
  const table = JSON.parse(shellFixture('mandatory-env.json')) as {
    cases: MandatoryCase[];
    platformMatches: { template: string; cases: { envs: Record<string, string>; expect: string }[] };
  };
  assert.equal(table.cases.length, 6);
  for (const c of table.cases) {
    const got = outcome(() => processWord(c.input, envFromList(c.envs)));
    if (c.errorContains !== undefined) {
      assert.ok('error' in got, `${c.input} ${c.envs}: expected an error`);
      assert.ok(got.error.includes(c.errorContains), `${got.error} should contain ${c.errorContains}`);
    } else {
      assert.deepEqual(got, { value: c.expect }, `${c.input} ${c.envs}`);
    }
  }
  assert.equal(table.platformMatches.cases.length, 3);
  for (const c of table.platformMatches.cases) {
    const got = processWordWithMatches(table.platformMatches.template, new Map(Object.entries(c.envs)));
    assert.equal(got.result, c.expect);
  }
});

test('the escape token is a parameter', () => {
  const env = envFromList(['A=x']);
  assert.equal(processWord('a`$A`b', env, { escapeToken: '`' }), 'a$Ab');
  assert.equal(processWord('a\\b$A', env, { escapeToken: '`' }), 'a\\bx');
  assert.deepEqual(processWords('a` b c', env, { escapeToken: '`' }), ['a b', 'c']);
});

test('skipUnsetEnv keeps references to unset variables as written', () => {
  const env = envFromList(['A=x']);
  assert.equal(processWord('$A $B ${C} ${D:-d}', env, { skipUnsetEnv: true }), 'x $B ${C} ${D:-d}');
});
