import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { isBerthError } from '../util/errors.js';
import { PatternMatcher, readDockerignore } from './dockerignore.js';

interface Tables {
  matches: { cases: { pattern: string; text: string; pass: boolean }[] };
  multiPatternMatches: { cases: { patterns: string[]; text: string; pass: boolean }[] };
  filepathMatch: { cases: { pattern: string; text: string; match: boolean; err: string | null }[] };
  compile: { cases: { pattern: string; matchType: string }[] };
  simple: { cases: { text: string; patterns: string[]; match: boolean; error?: boolean }[] };
  cleanPatterns: {
    cases: {
      patterns: string[];
      patternCount?: number;
      exclusions?: boolean;
      error?: boolean;
      newOk?: boolean;
      matchesOrParentMatches?: { text: string; error: string };
    }[];
  };
  ignorefileReadAll: { input: string; expect: string[] };
}

const tables = JSON.parse(readFileSync(fixture('dockerfile', 'dockerignore', 'patternmatcher-tests.json'), 'utf8')) as Tables;

function isBadPattern(e: unknown): boolean {
  return isBerthError(e, 'DOCKERFILE_INVALID') && e.message.includes('syntax error in pattern');
}

test('matches: one pattern, the path or a parent directory', () => {
  assert.equal(tables.matches.cases.length, 68);
  const failures: string[] = [];
  for (const c of tables.matches.cases) {
    // The last case (a\*b) is Unix-only upstream; berth matches Unix semantics everywhere.
    const got = new PatternMatcher([c.pattern]).matchesOrParentMatches(c.text);
    if (got !== c.pass) failures.push(`${c.pattern} vs ${c.text}: expected ${c.pass}`);
  }
  assert.deepEqual(failures, []);
});

test('multiPatternMatches: later patterns win and ! re-includes', () => {
  assert.equal(tables.multiPatternMatches.cases.length, 4);
  for (const c of tables.multiPatternMatches.cases) {
    assert.equal(new PatternMatcher(c.patterns).matchesOrParentMatches(c.text), c.pass, `${c.patterns} vs ${c.text}`);
  }
});

test('filepathMatch: Go filepath.Match cases, bad patterns rejected', () => {
  assert.equal(tables.filepathMatch.cases.length, 54);
  const failures: string[] = [];
  for (const c of tables.filepathMatch.cases) {
    let got: boolean | 'error';
    try {
      got = new PatternMatcher([c.pattern]).matches(c.text);
    } catch (e) {
      assert.ok(isBadPattern(e), String(e));
      got = 'error';
    }
    const want = c.err === null ? c.match : 'error';
    if (got !== want) failures.push(`${c.pattern} vs ${c.text}: expected ${want}, got ${got}`);
  }
  assert.deepEqual(failures, []);
});

test('compile: every classified pattern compiles and matches itself when exact', () => {
  assert.equal(tables.compile.cases.length, 21);
  for (const c of tables.compile.cases) {
    const m = new PatternMatcher([c.pattern]);
    if (c.matchType === 'exact') assert.equal(m.matchesOrParentMatches(c.pattern), true, c.pattern);
    else assert.doesNotThrow(() => m.matchesOrParentMatches('x'), c.pattern);
  }
});

test('simple: exclusion ordering, "!" alone and "[" are errors', () => {
  assert.equal(tables.simple.cases.length, 11);
  for (const c of tables.simple.cases) {
    if (c.error) {
      assert.throws(
        () => new PatternMatcher(c.patterns).matches(c.text),
        (e: unknown) => isBerthError(e, 'DOCKERFILE_INVALID'),
        JSON.stringify(c),
      );
    } else {
      assert.equal(new PatternMatcher(c.patterns).matches(c.text), c.match, JSON.stringify(c));
    }
  }
});

test('cleanPatterns: empty patterns dropped, exclusions detected, bad regexps fail on every match', () => {
  assert.equal(tables.cleanPatterns.cases.length, 7);
  for (const c of tables.cleanPatterns.cases) {
    if (c.error) {
      assert.throws(
        () => new PatternMatcher(c.patterns),
        (e: unknown) => isBerthError(e, 'DOCKERFILE_INVALID'),
      );
      continue;
    }
    const m = new PatternMatcher(c.patterns);
    if (c.patternCount !== undefined) assert.equal(m.patternCount, c.patternCount);
    if (c.exclusions !== undefined) assert.equal(m.hasExclusions, c.exclusions);
    if (c.matchesOrParentMatches) {
      const { text, error } = c.matchesOrParentMatches;
      for (let i = 0; i < 2; i++) {
        assert.throws(
          () => m.matchesOrParentMatches(text),
          (e: unknown) => isBerthError(e) && e.message.includes(error),
        );
      }
    }
  }
});

test('ignorefileReadAll: comments, blanks, leading / and "! " cleaned', () => {
  assert.deepEqual(readDockerignore(tables.ignorefileReadAll.input), tables.ignorefileReadAll.expect);
  assert.deepEqual(readDockerignore(''), []);
  assert.deepEqual(readDockerignore('\ufeff./a/../b\r\n# c\n'), ['b']);
});
