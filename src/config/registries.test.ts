import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { formatReference, parseNamed, referenceName } from '../oci/reference.js';
import { tempDir } from '../testing/cli.js';
import { fixture } from '../testing/fixtures.js';
import { refMatchingPrefix, refMatchingSubdomainPrefix, rewriteReference } from './_prefix.js';
import {
  findRegistry,
  isBlocked,
  isInsecure,
  loadRegistriesConf,
  parseLocation,
  parseShortNameMode,
  pullSources,
  registryPullSources,
  searchRegistries,
  type RegistriesConf,
} from './registries.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const expectations = JSON.parse(readFileSync(fixture('containers-image', 'sysregistriesv2-expectations.json'), 'utf8'));
const base = fixture('containers-image', 'pkg', 'sysregistriesv2');
const at = (rel: string): string => join(base, rel);
const cases = (section: string, min: number): any[] => {
  const list = expectations[section].cases as any[];
  assert.ok(list.length >= min, `${section}: expected at least ${min} cases, got ${list.length}`);
  return list;
};
const load = (conf: string, dropinDir?: string): Promise<RegistriesConf> =>
  loadRegistriesConf({ explicit: at(conf), dropInDirs: dropinDir ? [at(dropinDir)] : [] });

describe('registries.conf prefix matching (sysregistriesv2-expectations.json)', () => {
  it('refMatchingPrefix', () => {
    for (const c of cases('refMatchingPrefix', 27)) assert.equal(refMatchingPrefix(c.ref, c.prefix), c.expected, JSON.stringify(c));
  });
  it('refMatchingSubdomainPrefix', () => {
    for (const c of cases('refMatchingSubdomainPrefix', 21)) {
      assert.equal(refMatchingSubdomainPrefix(c.ref, c.prefix), c.expected, JSON.stringify(c));
      assert.equal(refMatchingPrefix(c.ref, c.prefix), c.prefix.startsWith('*.') ? c.expected : refMatchingPrefix(c.ref, c.prefix));
    }
  });
  it('rewriteReference', () => {
    for (const c of cases('rewriteReference', 21)) {
      assert.equal(formatReference(rewriteReference(parseNamed(c.inputRef), c.prefix, c.location)), c.expected, JSON.stringify(c));
    }
  });
  it('rewriteReference failures', () => {
    for (const c of cases('rewriteReferenceFails', 14)) {
      assert.throws(() => rewriteReference(parseNamed(c.inputRef), c.prefix, c.location), { code: 'INVALID_REFERENCE' }, JSON.stringify(c));
    }
  });
  it('parseLocation', () => {
    for (const c of cases('parseLocation', 6)) {
      if (c.errorSubstring)
        assert.throws(
          () => parseLocation(c.input),
          (e: Error) => e.message.includes(c.errorSubstring),
        );
      else if (c.expect !== undefined) assert.equal(parseLocation(c.input), c.expect);
      else assert.doesNotThrow(() => parseLocation(c.input));
    }
  });
});

describe('registries.conf loading (sysregistriesv2-expectations.json)', () => {
  it('rejects invalid configurations with the upstream message', async () => {
    for (const c of cases('invalidConfigs', 16)) {
      // The `api` cases (UnqualifiedSearchRegistries, TryUpdatingCache, GetShortNameMode) fail while loading here.
      await assert.rejects(load(c.conf), (e: any) => e.code === 'USAGE' && e.message.includes(c.errorSubstring) && e.message.startsWith(at(c.conf)), c.conf);
    }
  });

  it('counts and orders registries after drop-ins', async () => {
    for (const c of cases('registryCounts', 10)) {
      const conf = await load(c.conf, c.dropinDir);
      assert.equal(conf.registries.length, c.count, c.conf);
      if (c.locationsInOrder)
        assert.deepEqual(
          conf.registries.map((r) => r.location),
          c.locationsInOrder,
          c.conf,
        );
      if (c.unqualifiedSearchRegistries) assert.deepEqual(searchRegistries(conf), c.unqualifiedSearchRegistries);
      if (c.unqualifiedSearchOrigin) assert.equal(conf.unqualifiedSearchOrigin, at(c.unqualifiedSearchOrigin));
      for (const [ref, want] of Object.entries<any>(c.findRegistry ?? {})) {
        const reg = findRegistry(conf, ref);
        assert.ok(reg, ref);
        if ('blocked' in want) assert.equal(reg.blocked, want.blocked);
        if ('mirrors' in want)
          assert.deepEqual(
            reg.mirrors.map((m) => ({ location: m.location, insecure: m.insecure })),
            want.mirrors,
          );
      }
    }
  });

  it('finds the registry with the longest matching prefix', async () => {
    const conf = await load('testdata/find-registry.conf', 'testdata/registries.conf.d');
    for (const c of cases('findRegistry', 15)) {
      const reg = findRegistry(conf, c.ref);
      if (c.found === false) {
        assert.equal(reg, undefined, c.ref);
        continue;
      }
      assert.ok(reg, c.ref);
      if (c.prefix !== undefined) assert.equal(reg.prefix, c.prefix, c.ref);
      if (c.location !== undefined) assert.equal(reg.location, c.location, c.ref);
    }
  });

  it('merges unqualified-search-registries', async () => {
    for (const c of cases('unqualifiedSearch', 4)) {
      const conf = await load(c.conf, c.dropinDir);
      assert.deepEqual(searchRegistries(conf), c.expect, c.conf);
      if (c.origin) assert.equal(conf.unqualifiedSearchOrigin, at(c.origin));
      for (const [ref, want] of Object.entries<any>(c.findRegistry ?? {})) {
        assert.equal(isInsecure(conf, ref), want.insecure, ref);
        assert.equal(isBlocked(conf, ref), want.blocked, ref);
      }
    }
  });

  it('short-name-mode', async () => {
    const { parse, fromConf } = expectations.shortNameMode as { parse: any[]; fromConf: any[] };
    assert.ok(parse.length >= 5 && fromConf.length >= 4);
    for (const c of parse) {
      if (c.error) assert.throws(() => parseShortNameMode(c.input), { code: 'USAGE' });
      else assert.equal(parseShortNameMode(c.input), c.result);
    }
    for (const c of fromConf) {
      if (c.error) await assert.rejects(load(c.conf), { code: 'USAGE' });
      else assert.equal((await load(c.conf)).shortNameMode, c.mode, c.conf);
    }
  });

  it('credential-helpers', async () => {
    for (const c of cases('credentialHelpers', 4)) {
      assert.deepEqual((await load(c.conf, c.dropinDir)).credentialHelpers, c.helpers, `${c.conf} + ${c.dropinDir}`);
    }
  });

  it('pull sources: mirrors first, pull-from-mirror and mirror-by-digest-only honoured', async () => {
    const section = expectations.pullSourcesFromReference;
    const conf = await load('testdata/pull-sources-from-reference.conf');
    for (const c of cases('pullSourcesFromReference', 9)) {
      for (const [suffix, prefixes, insecure] of [
        [section.digestSuffix, c.digestPrefixes, c.digestInsecure],
        [section.tagSuffix, c.tagPrefixes, c.tagInsecure],
      ] as [string, string[], boolean[]][]) {
        const ref = parseNamed(`${c.matchedPrefix}/${c.repo}${suffix}`);
        const reg = findRegistry(conf, referenceName(ref));
        assert.ok(reg);
        for (const sources of [registryPullSources(reg, ref), pullSources(conf, ref)]) {
          assert.deepEqual(
            sources.map((s) => s.endpoint.location),
            prefixes,
            formatReference(ref),
          );
          assert.deepEqual(
            sources.map((s) => formatReference(s.reference)),
            prefixes.map((p) => `${p}/${c.repo}${suffix}`),
          );
          assert.deepEqual(
            sources.map((s) => s.endpoint.insecure),
            insecure,
          );
        }
      }
    }
  });
});

/** A fresh scratch directory per call, all under one removed when the file's tests end. */
const scratchRoot = tempDir('berth-regconf-');
after(() => scratchRoot.cleanup());
const scratch = (): string => mkdtempSync(join(scratchRoot.path, 'd-'));

describe('registries.conf sources', () => {
  it('reads paths, then drop-in dirs, skipping missing files and non-.conf drop-ins', async () => {
    const dir = scratch();
    writeFileSync(join(dir, 'main.conf'), 'unqualified-search-registries = ["a.example"]\n[[registry]]\nlocation = "x.example"\n');
    writeFileSync(join(dir, 'user.conf'), '[registries.search]\nregistries = ["v1.example"]\n');
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', '10-b.conf'), '[[registry]]\nlocation = "x.example"\ninsecure = true\n');
    writeFileSync(join(dir, 'd', '20-a.conf'), 'short-name-mode = "enforcing"\n');
    writeFileSync(join(dir, 'd', '30.txt'), 'not toml at all [');
    const conf = await loadRegistriesConf({
      paths: [join(dir, 'main.conf'), join(dir, 'missing.conf'), join(dir, 'user.conf')],
      dropInDirs: [join(dir, 'd'), join(dir, 'nope')],
    });
    assert.deepEqual(
      conf.sources,
      ['main.conf', 'user.conf', 'd/10-b.conf', 'd/20-a.conf'].map((f) => join(dir, f)),
    );
    assert.deepEqual(searchRegistries(conf), ['v1.example']);
    assert.equal(isInsecure(conf, 'x.example/foo/bar:1'), true);
    assert.equal(conf.shortNameMode, 'enforcing');
    assert.deepEqual(conf.credentialHelpers, ['containers-auth.json']);
  });

  it('drop-ins must be v2; an explicit file must exist; defaults tolerate absence', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'v1.conf'), '[registries.block]\nregistries = ["b.example"]\n');
    await assert.rejects(loadRegistriesConf({ dropInDirs: [join(dir, 'd')] }), /v1\.conf: registry must be in v2 format but is in v1/);
    await assert.rejects(loadRegistriesConf({ explicit: join(dir, 'none.conf') }), /none\.conf: no such file or directory/);
    const conf = await loadRegistriesConf({ home: join(dir, 'home') });
    assert.ok(Array.isArray(conf.registries));
  });

  it('reports wrong types and bad wildcard prefixes as one-line USAGE errors', async () => {
    const dir = scratch();
    const write = (text: string): string => {
      const p = join(dir, `c${Math.random().toString(36).slice(2)}.conf`);
      writeFileSync(p, text);
      return p;
    };
    await assert.rejects(
      loadRegistriesConf({ explicit: write('[[registry]]\nlocation = "a.example"\ninsecure = "yes"\n') }),
      /registry\[0\]\.insecure must be a boolean/,
    );
    await assert.rejects(
      loadRegistriesConf({ explicit: write('[[registry]]\nprefix = "*.a.example/ns"\nlocation = "b.example"\n') }),
      /Wildcarded prefix should be in the format/,
    );
    await assert.rejects(loadRegistriesConf({ explicit: write('[aliases]\nimage2 = "image:1"\n') }), /validating short-name aliases/);
    const conf = await loadRegistriesConf({ explicit: write('future-key = 1\n[[registry]]\nlocation = "a.example"\nfuture = true\n') });
    assert.equal(conf.unknownKeys.length, 2);
  });

  it('pullSources without a [[registry]] is the reference itself; blocked registries are refused', async () => {
    const conf = await load('testdata/mirrors.conf');
    assert.deepEqual(
      pullSources(conf, 'quay.io/a/b:1').map((s) => [s.endpoint.location, formatReference(s.reference)]),
      [['quay.io', 'quay.io/a/b:1']],
    );
    assert.deepEqual(
      pullSources(conf, 'registry.com/image:tag').map((s) => s.endpoint.location),
      ['mirror-1.registry.com', 'mirror-2.registry.com', 'registry.com'],
    );
    assert.throws(() => pullSources(conf, 'blocked.registry.com/image:tag'), /blocked/);
  });
});
