import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatReference, parseReference } from '../oci/reference.js';
import { fixture } from '../testing/fixtures.js';
import { loadRegistriesConf, type RegistriesConf } from './registries.js';
import { describeResolution, isShortName, parseShortName, resolveLocally, resolveShortName, splitUserInput } from './shortnames.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const expectations = JSON.parse(readFileSync(fixture('containers-image', 'shortnames-expectations.json'), 'utf8'));
const base = fixture('containers-image', 'pkg', 'shortnames');
const load = (conf: string, dropinDir?: string): Promise<RegistriesConf> =>
  loadRegistriesConf({ explicit: join(base, conf), dropInDirs: dropinDir ? [join(base, dropinDir)] : [] });
const cases = (section: string, min: number): any[] => {
  const list = expectations[section].cases as any[];
  assert.ok(list.length >= min, `${section}: expected at least ${min} cases, got ${list.length}`);
  return list;
};
const strings = (refs: { domain: string; path: string }[]): string[] => refs.map((r) => formatReference(r));

describe('short names (shortnames-expectations.json)', () => {
  it('isShortName / parseUnnormalizedShortName', () => {
    for (const c of cases('isShortName', 20)) {
      if (c.mustFail) assert.throws(() => parseShortName(c.input), { code: 'INVALID_REFERENCE' }, JSON.stringify(c.input));
      else assert.equal(parseShortName(c.input).short, c.parseUnnormalizedShortName, c.input);
      assert.equal(isShortName(c.input), c.parseUnnormalizedShortName, c.input);
    }
  });

  it('splitUserInput', () => {
    for (const c of cases('splitUserInput', 9)) {
      const parts = splitUserInput(parseReference(c.input));
      assert.equal(formatReference(parts.repo), c.repo, c.input);
      assert.equal(parts.tag !== undefined, c.isTagged, c.input);
      assert.equal(parts.digest !== undefined, c.isDigested, c.input);
      assert.equal(c.repo + (parts.tag !== undefined ? `:${parts.tag}` : '') + (parts.digest !== undefined ? `@${parts.digest}` : ''), c.input);
    }
  });

  it('Resolve with aliases.conf (and forced Docker Hub)', async () => {
    const conf = await load('testdata/aliases.conf');
    assert.equal(conf.shortNameMode, 'enforcing');
    for (const c of cases('resolve', 12)) {
      assert.deepEqual(strings(resolveShortName(conf, c.input).candidates), [c.value], c.input);
      assert.deepEqual(strings(resolveShortName(conf, c.input, { forceDockerHub: true }).candidates), [c.dockerHubValue], c.input);
    }
    assert.throws(() => resolveShortName(conf, 'doesnotexist'), /did not resolve to an alias and no unqualified-search registries/);
    assert.throws(() => resolveShortName(conf, 'empty'), /did not resolve to an alias/); // empty = "" is no alias
    assert.deepEqual(strings(resolveShortName(conf, 'doesnotexist', { forceDockerHub: true }).candidates), ['docker.io/library/doesnotexist:latest']);
    assert.throws(() => resolveShortName(conf, ''));
    assert.throws(() => resolveShortName(conf, 'Invalid#$'));
  });

  it('Resolve with drop-ins and recorded user aliases', async () => {
    const conf = await load('testdata/aliases.conf', 'testdata/registries.conf.d');
    const userAliases = { added1: 'aliases.conf/added1', added2: 'aliases.conf/added2', added3: 'aliases.conf/added3' };
    for (const c of cases('resolveWithDropIns', 21)) {
      const r = resolveShortName(conf, c.name, { userAliases });
      assert.deepEqual(strings(r.candidates), [c.value], c.name);
      assert.equal(r.rationale, 'alias');
    }
    assert.deepEqual(strings(resolveShortName(conf, 'doesnotexist').candidates), ['example-overwrite.com/doesnotexist:latest']);
    // config-2.conf resets the alias with example="": the search registry applies again.
    assert.deepEqual(strings(resolveShortName(conf, 'example').candidates), ['example-overwrite.com/example:latest']);
    assert.deepEqual(strings(resolveShortName(conf, 'quay.io/repo/fedora').candidates), ['quay.io/repo/fedora:latest']);
    assert.deepEqual(strings(resolveShortName(conf, 'localhost/repo/fedora:sometag').candidates), ['localhost/repo/fedora:sometag']);
    assert.throws(() => resolveShortName(conf, 'x', { userAliases: { x: 'image' } }), /must contain registry and repository/);
    assert.throws(() => resolveShortName(conf, 'x', { userAliases: { x: 'quay.io/image:1' } }), /must not contain tag/);
  });

  it('Resolve with two search registries: one candidate per registry unless aliased', async () => {
    const conf = await load('testdata/two-reg.conf');
    for (const c of cases('resolveAndRecord', 9)) {
      assert.deepEqual(strings(resolveShortName(conf, c.name).candidates), c.expected, c.name);
    }
    const r = resolveShortName(conf, 'foo');
    assert.equal(r.needsPrompt, false);
    assert.equal(describeResolution(r), `Resolving "foo" using unqualified-search registries (${join(base, 'testdata/two-reg.conf')})`);
    assert.equal(resolveShortName(conf, 'foo', { tty: true }).needsPrompt, true);
  });

  it('ResolveLocally: alias, localhost/, then each search registry', async () => {
    const conf = await load('testdata/two-reg.conf');
    for (const c of cases('resolveLocally', 8)) {
      assert.deepEqual(strings(resolveLocally(conf, c.input)), c.expectedSys, c.input);
      assert.deepEqual(strings(resolveLocally(conf, c.input, { forceDockerHub: true })), [c.expectedSysResolveToDockerHub], c.input);
    }
  });

  it('short-name modes (upstream TestResolveWithVaryingShortNameModes)', async () => {
    const table: [string, 'disabled' | 'permissive' | 'enforcing', string, number][] = [
      ['no-reg', 'permissive', 'repo/image', 1],
      ['one-reg', 'permissive', 'repo/image', 1],
      ['two-reg', 'permissive', 'repo/image', 1],
      ['no-reg', 'permissive', 'doesnotexist', -1],
      ['one-reg', 'permissive', 'doesnotexist', 1],
      ['two-reg', 'permissive', 'doesnotexist', 2],
      ['no-reg', 'disabled', 'repo/image', 1],
      ['one-reg', 'disabled', 'repo/image', 1],
      ['two-reg', 'disabled', 'repo/image', 1],
      ['no-reg', 'disabled', 'doesnotexist', -1],
      ['one-reg', 'disabled', 'doesnotexist', 1],
      ['two-reg', 'disabled', 'doesnotexist', 2],
      ['no-reg', 'enforcing', 'repo/image', 1],
      ['one-reg', 'enforcing', 'repo/image', 1],
      ['two-reg', 'enforcing', 'repo/image', 1],
      ['no-reg', 'enforcing', 'doesnotexist', -1],
      ['one-reg', 'enforcing', 'doesnotexist', 1],
      ['two-reg', 'enforcing', 'doesnotexist', -1],
    ];
    for (const [file, mode, name, count] of table) {
      const conf = await load(`testdata/${file}.conf`);
      if (count === -1) assert.throws(() => resolveShortName(conf, name, { mode }), { code: 'USAGE' }, `${file} ${mode} ${name}`);
      else assert.equal(resolveShortName(conf, name, { mode }).candidates.length, count, `${file} ${mode} ${name}`);
    }
  });
});
