import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { type BerthError, isBerthError } from '../util/errors.js';
import {
  ANCHORED_DOMAIN,
  ANCHORED_IDENTIFIER,
  ANCHORED_NAME,
  ANCHORED_REFERENCE,
  familiarMatch,
  familiarName,
  familiarString,
  formatReference,
  isFullyQualified,
  isImageIdLike,
  isNamed,
  parseAnyReference,
  parseDockerRef,
  parseNamed,
  parseNormalizedNamed,
  parseReference,
  referenceName,
  trimNamed,
  withDefaultTag,
  withDigest,
  withName,
  withTag,
  type ImageReference,
} from './reference.js';

// The upstream Go test tables, read at run time from ../shared/fixtures (see its README):
// the containers/image fork (what podman uses; berth follows it) and github.com/distribution/reference.

/** A fixture row: plain JSON whose fields differ by suite. */
type Row = any;
interface Suite {
  semantics: string;
  tables?: Record<string, Row[]>;
  cases?: Row[];
}
interface FixtureFile {
  label: string;
  suites: Record<string, Suite>;
  /** rows handed to a driver, per "suite/table" */
  driven: Map<string, number>;
  skipped: number;
}

function load(label: string, file: string): FixtureFile {
  const data = JSON.parse(readFileSync(fixture('containers-image', 'reference', file), 'utf8')) as { suites: Record<string, Suite> };
  return { label, suites: data.suites, driven: new Map(), skipped: 0 };
}

const fork = load('fork', 'containers-image-docker-reference-tests.json');
const dist = load('distribution', 'distribution-reference-tests.json');

/**
 * Cases where distribution/reference (newer) and the containers/image fork disagree. berth follows the fork,
 * so these distribution rows are skipped; `count` is checked so that a changed fixture cannot hide a skip.
 */
const DIVERGENCES: { suite: string; table?: string; count: number; why: string; applies(row: Row): boolean }[] = [
  {
    suite: 'TestDomainRegexp',
    count: 4,
    why: 'IPv6 literal registry "[…]": accepted by distribution, not by the fork',
    applies: (r) => r.match && r.input.startsWith('['),
  },
  {
    suite: 'TestReferenceParse',
    count: 8,
    why: 'IPv6 literal registry "[…]": accepted by distribution, not by the fork',
    applies: (r) => r.err === null && r.input.startsWith('['),
  },
  {
    suite: 'TestReferenceParse',
    count: 1,
    why: "sha512: go-digest accepts only algorithms linked into the binary; distribution's test links none, the fork (and podman) do",
    applies: (r) => r.input.includes('@sha512:'),
  },
  {
    suite: 'TestReferenceParse',
    count: 1,
    why: 'name length: distribution limits the path to 255 characters, the fork the whole name (267 here)',
    applies: (r) => r.err === null && r.input.length > 255 && r.domain === 'example.com',
  },
  {
    suite: 'TestValidateReferenceName',
    table: 'validRepoNames',
    count: 3,
    why: 'IPv6 literal registry "[…]": accepted by distribution, not by the fork',
    applies: (r) => r.startsWith('['),
  },
  {
    suite: 'TestValidateReferenceName',
    table: 'validRepoNames',
    count: 4,
    why: 'distribution takes an upper-case first component as a registry; the fork puts it under docker.io, where upper case is invalid',
    applies: (r) => /^[^/]*[A-Z][^/]*\//.test(r),
  },
  {
    suite: 'TestParseRepositoryInfo',
    count: 4,
    why: 'distribution takes an upper-case first component as a registry; the fork puts it under docker.io, where upper case is invalid',
    applies: (r) => /[A-Z]/.test(r.Domain),
  },
];
const divergenceHits = new Map<(typeof DIVERGENCES)[number], number>();

function divergence(f: FixtureFile, suite: string, table: string | undefined, row: Row): string | undefined {
  if (f !== dist) return undefined;
  const d = DIVERGENCES.find((x) => x.suite === suite && (x.table === undefined || x.table === table) && x.applies(row));
  if (d) divergenceHits.set(d, (divergenceHits.get(d) ?? 0) + 1);
  return d?.why;
}

function rows(f: FixtureFile, suite: string, table?: string): Row[] {
  const s = f.suites[suite];
  assert.ok(s, `${f.label}: suite ${suite} missing`);
  let list: Row[] | undefined;
  if (table !== undefined) list = s.tables?.[table];
  else if (s.cases) list = s.cases;
  else {
    const tables = Object.values(s.tables ?? {});
    assert.equal(tables.length, 1, `${f.label}: ${suite} has ${tables.length} tables; name one`);
    list = tables[0];
  }
  assert.ok(Array.isArray(list) && list.length > 0, `${f.label}: ${suite} ${table ?? ''} is missing or empty`);
  f.driven.set(`${suite}/${table ?? '*'}`, list.length);
  return list;
}

/** Runs `check` on every row of a table, reports all failing rows at once, and fails on an empty table. */
function drive(f: FixtureFile, suite: string, check: (row: Row) => void, table?: string): void {
  test(`${f.label} ${suite}${table ? ` ${table}` : ''}`, () => {
    const list = rows(f, suite, table);
    const failures: string[] = [];
    let ran = 0;
    for (const row of list) {
      if (divergence(f, suite, table, row) !== undefined) {
        f.skipped++;
        continue;
      }
      try {
        check(row);
        ran++;
      } catch (e) {
        failures.push(`${JSON.stringify(row).slice(0, 160)}\n    ${(e as Error).message.split('\n')[0]}`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${list.length} rows failed`);
    assert.ok(ran > 0, 'no row ran');
  });
}

function errorOf(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    assert.ok(isBerthError(e), `expected a BerthError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error, got none');
}

/** Fails unless fn throws INVALID_REFERENCE, with a message ending in the upstream text when given. */
function rejects(fn: () => unknown, upstream?: string): void {
  const e = errorOf(fn);
  assert.equal(e.code, 'INVALID_REFERENCE');
  assert.ok(!e.message.includes('\n'), 'message must be one line');
  if (upstream !== undefined)
    assert.ok(e.message.endsWith(`: ${upstream}`), `message ${JSON.stringify(e.message)} does not end in ${JSON.stringify(upstream)}`);
}

const opt = (s: string): string | undefined => (s === '' ? undefined : s);
const subs = (m: RegExpExecArray | null): string[] | null => (m ? m.slice(1).map((x) => x ?? '') : null);

for (const f of [fork, dist]) {
  // Grammar regexps.
  drive(f, 'TestDomainRegexp', (r) => assert.equal(ANCHORED_DOMAIN.test(r.input), r.match));
  drive(f, 'TestFullNameRegexp', (r) => {
    const m = ANCHORED_NAME.exec(r.input);
    assert.equal(m !== null, r.match);
    if (r.subs) assert.deepEqual(subs(m), r.subs);
  });
  drive(f, 'TestReferenceRegexp', (r) => {
    const m = ANCHORED_REFERENCE.exec(r.input);
    assert.equal(m !== null, r.match);
    if (r.subs) assert.deepEqual(subs(m), r.subs);
  });
  drive(f, 'TestIdentifierRegexp', (r) => {
    assert.equal(isImageIdLike(r.input), r.match);
    assert.equal(ANCHORED_IDENTIFIER.test(r.input), r.match);
  });

  // Parse (not normalised), also the Field JSON round trip, which is Parse and String.
  drive(f, 'TestReferenceParse', (r) => {
    if (r.err !== null) return rejects(() => parseReference(r.input), r.err);
    const ref = parseReference(r.input);
    assert.equal(formatReference(ref), r.input);
    assert.equal(referenceName(ref), r.repository);
    assert.equal(ref.domain, r.domain);
    assert.equal(ref.tag, opt(r.tag));
    assert.equal(ref.digest, opt(r.digest));
  });
  drive(f, 'TestSerialization', (r) => {
    if (r.err !== null) return rejects(() => parseReference(r.input), r.err);
    const ref = parseReference(r.input);
    assert.equal(referenceName(ref), r.name);
    assert.equal(ref.tag, opt(r.tag));
    assert.equal(ref.digest, opt(r.digest));
    assert.equal(formatReference(ref), r.input);
  });

  // Normalised parsing.
  drive(f, 'TestNormalizedSplitHostname', (r) => {
    const ref = parseNormalizedNamed(r.input);
    assert.equal(ref.domain, r.domain);
    assert.equal(ref.path, r.path ?? r.name); // the fork calls the field "name", distribution "path"
  });
  drive(f, 'TestParseNamed', (r) => {
    if (r.err !== null) return rejects(() => parseNamed(r.input), r.err);
    const ref = parseNamed(r.input);
    assert.equal(ref.domain, r.domain);
    assert.equal(ref.path, r.path ?? r.name);
  });
  drive(f, 'TestParseDockerRef', (r) => {
    const out = formatReference(parseDockerRef(r.input));
    assert.equal(out, r.expected);
    assert.equal(formatReference(parseReference(out)), out);
  });
  drive(f, 'TestParseRepositoryInfo', (r) => {
    for (const input of [r.FamiliarName, r.FullName, r.AmbiguousName].filter((s: string) => s !== '')) {
      const ref = parseNormalizedNamed(input);
      assert.equal(familiarName(ref), r.FamiliarName, input);
      assert.equal(formatReference(ref), r.FullName, input);
      assert.equal(ref.domain, r.Domain, input);
      assert.equal(ref.path, r.RemoteName, input);
    }
  });
  drive(f, 'TestParseAnyReference', (r) => {
    const ref = parseAnyReference(r.Reference);
    assert.equal(formatReference(ref), r.Equivalent);
    assert.deepEqual(ref, r.Expected === null ? parseReference(r.Equivalent) : { digest: r.Expected });
  });
  drive(f, 'TestParseReferenceWithTagAndDigest', (r) => {
    const ref = parseNormalizedNamed(r.input);
    assert.equal(formatReference(ref), r.full);
    assert.ok(ref.tag !== undefined && ref.digest !== undefined, 'both tag and digest kept');
    assert.equal(familiarString(ref), r.familiar);
  });
  for (const [suite, valid, invalid] of [
    ['TestValidateReferenceName', 'validRepoNames', 'invalidRepoNames'],
    ['TestValidateRemoteName', 'validRepositoryNames', 'invalidRepositoryNames'],
  ] as const) {
    drive(f, suite, (name: string) => void parseNormalizedNamed(name), valid);
    drive(f, suite, (name: string) => rejects(() => parseNormalizedNamed(name)), invalid);
  }

  // WithName / WithTag / WithDigest.
  drive(f, f === fork ? 'TestSplitHostname' : 'TestDomainAndPath', (r) => {
    const ref = withName(r.input);
    assert.equal(ref.domain, r.domain);
    assert.equal(ref.path, r.path ?? r.name);
  });
  // The fork's test checks only that WithName fails (its table says ErrNameEmpty for "", its code returns
  // ErrReferenceInvalidFormat, as distribution's table says); distribution's test checks the error itself.
  drive(f, 'TestWithNameFailure', (r) => rejects(() => withName(r.input), f === fork ? undefined : r.err));
  drive(f, 'TestWithTag', (r) => {
    let ref = withName(r.name);
    if (r.digest !== '') ref = withDigest(ref, r.digest);
    assert.equal(formatReference(withTag(ref, r.tag)), r.combined);
  });
  drive(f, 'TestWithDigest', (r) => {
    let ref = withName(r.name);
    if (r.tag !== '') ref = withTag(ref, r.tag);
    assert.equal(formatReference(withDigest(ref, r.digest)), r.combined);
  });
  drive(f, 'TestInvalidReferenceComponents', (r) => {
    assert.equal(r.error, true);
    if (r.op === 'ParseNormalizedNamed') rejects(() => parseNormalizedNamed(r.input));
    else if (r.op === 'WithTag') rejects(() => withTag(withName(r.name), r.tag), 'invalid tag format');
    else if (r.op === 'WithDigest') rejects(() => withDigest(withName(r.name), r.digest), 'invalid digest format');
    else assert.fail(`unknown op ${r.op}`);
  });

  // FamiliarMatch (Go path.Match).
  drive(f, 'TestMatch', (r) => assert.equal(familiarMatch(r.pattern, parseAnyReference(r.reference)), r.expected));
  drive(f, 'TestMatchError', (r) => {
    assert.equal(r.error, true);
    assert.equal(errorOf(() => familiarMatch(r.pattern, parseAnyReference(r.reference))).code, 'USAGE');
  });
}

test('every fixture table is driven, and every skip is accounted for', (t) => {
  for (const f of [fork, dist]) {
    for (const [suite, s] of Object.entries(f.suites)) {
      const tables: [string, Row[]][] = s.cases ? [['*', s.cases]] : Object.entries(s.tables ?? {});
      for (const [name, list] of tables) {
        const driven = f.driven.get(`${suite}/${name}`) ?? f.driven.get(`${suite}/*`);
        assert.equal(driven, list.length, `${f.label}: ${suite}/${name} (${list.length} rows) is not driven`);
      }
    }
  }
  for (const d of DIVERGENCES) assert.equal(divergenceHits.get(d) ?? 0, d.count, `divergence "${d.why}" in ${d.suite}`);
  const total = (f: FixtureFile): number => [...f.driven.values()].reduce((a, b) => a + b, 0);
  assert.equal(fork.skipped, 0, 'no fork case is skipped');
  t.diagnostic(`fork: ${total(fork)} rows run; distribution: ${total(dist) - dist.skipped} run, ${dist.skipped} skipped (diverge from the fork)`);
});

// berth's own expectations, beyond the upstream tables.
test('short names normalise to docker.io/library and get :latest only from parseDockerRef', () => {
  const r = parseNormalizedNamed('busybox');
  assert.deepEqual(r, { domain: 'docker.io', path: 'library/busybox' });
  assert.equal(formatReference(withDefaultTag(r)), 'docker.io/library/busybox:latest');
  assert.equal(formatReference(parseDockerRef('busybox')), 'docker.io/library/busybox:latest');
  assert.equal(familiarName(r), 'busybox');
  assert.equal(familiarString(withDefaultTag(r)), 'busybox:latest');
  assert.deepEqual(parseNormalizedNamed('docker.io/busybox'), r);
  assert.deepEqual(parseNormalizedNamed('index.docker.io/library/busybox'), r);
});

test('registry with port, nested path and digest', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const r = parseNormalizedNamed(`localhost:5000/a/b@${d}`);
  assert.deepEqual(r, { domain: 'localhost:5000', path: 'a/b', digest: d });
  assert.equal(referenceName(r), 'localhost:5000/a/b');
  assert.equal(familiarString(r), `localhost:5000/a/b@${d}`);
  assert.deepEqual(withDefaultTag(r), r, 'a digest needs no default tag');
  assert.deepEqual(parseNormalizedNamed('localhost/app'), { domain: 'localhost', path: 'app' });
  const both: ImageReference = parseNormalizedNamed(`quay.io/x/y:1.0@${d}`);
  assert.equal(formatReference(both), `quay.io/x/y:1.0@${d}`);
  assert.equal(formatReference(parseDockerRef(`quay.io/x/y:1.0@${d}`)), `quay.io/x/y@${d}`);
  assert.deepEqual(trimNamed(both), { domain: 'quay.io', path: 'x/y' });
});

test('errors are INVALID_REFERENCE, one line, naming the input', () => {
  const e = errorOf(() => parseNormalizedNamed('Foo'));
  assert.equal(e.code, 'INVALID_REFERENCE');
  assert.equal(e.message, 'invalid reference "Foo": repository name must be lowercase');
  assert.match(errorOf(() => parseNormalizedNamed('a\nb')).message, /^invalid reference "a\\nb": invalid reference format$/);
  assert.match(errorOf(() => parseNormalizedNamed('f'.repeat(64))).message, /64-byte hexadecimal/);
  rejects(() => parseNormalizedNamed(`${'a'.repeat(250)}/bbbbbb`), 'repository name must not be more than 255 characters');
  rejects(() => parseReference(`a@sha256:${'A'.repeat(64)}`), 'invalid checksum digest format');
});

test('isFullyQualified, isImageIdLike, parseAnyReference', () => {
  for (const s of ['docker.io/busybox', 'localhost/x', 'localhost:5000/x', 'quay.io/a/b:1']) assert.equal(isFullyQualified(s), true, s);
  for (const s of ['busybox', 'library/busybox', 'user/app:tag', 'localhost', 'quay.io']) assert.equal(isFullyQualified(s), false, s);
  const id = 'b'.repeat(64);
  assert.equal(isImageIdLike(id), true);
  assert.equal(isImageIdLike(`sha256:${id}`), false);
  const any = parseAnyReference(id);
  assert.equal(isNamed(any), false);
  assert.equal(formatReference(any), `sha256:${id}`);
  assert.equal(isNamed(parseAnyReference('redis')), true);
});

test('familiarMatch follows Go path.Match', () => {
  const ref = parseNormalizedNamed('example.com/foo/bar:v1');
  assert.equal(familiarMatch('example.com/*/bar', ref), true);
  assert.equal(familiarMatch('example.com/*', ref), false, '* does not cross /');
  assert.equal(familiarMatch('example.com/foo/ba?:v[0-9]', ref), true);
  assert.equal(familiarMatch('example.com/foo/ba[^r]', ref), false);
  assert.equal(familiarMatch('example.com/foo/ba\\r', ref), true);
  assert.equal(familiarMatch('example.com/foo/ba[z-a]', ref), false, 'an empty range is no error');
  for (const bad of ['[', '[]', '[a', 'x\\', '[a-]', '[^]']) assert.equal(errorOf(() => familiarMatch(bad, ref)).code, 'USAGE', bad);
});
