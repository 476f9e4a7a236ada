import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { fixture } from '../testing/fixtures.js';
import { schemaKindFor, validate, type SchemaKind } from './schema.js';

// berth's validator against the upstream JSON schemas themselves (fixtures/schemas/image-spec*, draft-04),
// compiled here with ajv-draft-04 (only in this test: berth never loads ajv). Both must agree on every case of
// the image-spec tables, on every manifest, index, config and layout fixture, and on thousands of mutations of
// the valid ones, except where berth knowingly adds upstream's Go-side checks (listed below).

type AjvClass = typeof import('ajv-draft-04').default;
type Validator = (doc: unknown) => boolean;

function loadAjv(): AjvClass {
  // From here, or from the working directory when the tests were compiled outside the repository.
  for (const base of [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href]) {
    try {
      const mod = createRequire(base)('ajv-draft-04') as AjvClass & { default?: AjvClass };
      return mod.default ?? mod;
    } catch {
      /* try the next base */
    }
  }
  throw new Error('ajv-draft-04 is not installed');
}

const SCHEMA_FILES: Record<SchemaKind, string> = {
  manifest: 'image-manifest-schema.json',
  index: 'image-index-schema.json',
  config: 'config-schema.json',
  descriptor: 'content-descriptor.json',
  layout: 'image-layout-schema.json',
};

/** Drops nested `id`s (they move the base of relative $refs); each file gets id …/schema/image/<file> (see the README). */
function withoutIds(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutIds);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => k !== 'id')
      .map(([k, x]) => [k, withoutIds(x)]),
  );
}

function upstream(folder: string): Record<SchemaKind, Validator> {
  const Ajv = loadAjv();
  const ajv = new Ajv({ strict: false });
  // ajv-formats is not installed; these follow RFC 3986 / RFC 3339 independently of berth's own checks.
  ajv.addFormat('uri', (s: string) => {
    if (!/^[a-z][a-z0-9+.-]*:/i.test(s) || /\s/.test(s)) return false;
    try {
      new URL(s);
      return true;
    } catch {
      return false;
    }
  });
  ajv.addFormat(
    'date-time',
    (s: string) =>
      /^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$/.test(s) &&
      !Number.isNaN(Date.parse(s)) &&
      new Date(Date.parse(s.slice(0, 10))).toISOString().startsWith(s.slice(0, 10)),
  );
  const dir = fixture('schemas', folder);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 7, `${folder} schema files`);
  for (const f of files) {
    const schema = withoutIds(JSON.parse(readFileSync(join(dir, f), 'utf8'))) as Record<string, unknown>;
    ajv.addSchema({ ...schema, id: `https://opencontainers.org/schema/image/${f}` });
  }
  const out = {} as Record<SchemaKind, Validator>;
  for (const [kind, f] of Object.entries(SCHEMA_FILES) as [SchemaKind, string][]) {
    const v = ajv.getSchema(`https://opencontainers.org/schema/image/${f}`);
    assert.ok(v, `schema ${f} did not compile`);
    out[kind] = (doc) => v(doc) as boolean;
  }
  return out;
}

const SCHEMAS = { 'v1.1.1': upstream('image-spec'), main: upstream('image-spec-main') };

function parse(text: string): { doc: unknown } | undefined {
  try {
    return { doc: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Verdicts of both validators on a document's text: not JSON is invalid for both. */
function verdicts(version: keyof typeof SCHEMAS, kind: SchemaKind, text: string): { berth: boolean; ajv: boolean } {
  const p = parse(text);
  if (!p) return { berth: false, ajv: false };
  return { berth: validate(kind, p.doc).length === 0, ajv: SCHEMAS[version][kind](p.doc) };
}

/**
 * Where berth's verdict differs from the schema's, on purpose: upstream's validator adds these checks in Go
 * (fixtures/schemas/README.md lists these three for v1.1.1; main numbers them differently).
 */
const KNOWN: Record<string, string[]> = {
  'v1.1.1': ['config #9', 'descriptor #14', 'descriptor #28'],
  main: ['config #9', 'descriptor #15', 'descriptor #29'],
};

for (const version of ['v1.1.1', 'main'] as const) {
  test(`image-spec ${version} tables: berth and the upstream schemas agree but for upstream's Go-side checks`, () => {
    const differ: string[] = [];
    let total = 0;
    for (const name of ['manifest', 'imageindex', 'config', 'descriptor', 'imagelayout']) {
      const t = JSON.parse(readFileSync(fixture('schemas', 'image-spec-tests', `${name}.${version}.json`), 'utf8')) as {
        validator: string;
        cases: { fail?: boolean; document: string }[];
      };
      const kind = schemaKindFor(t.validator)!;
      t.cases.forEach((c, i) => {
        total++;
        const v = verdicts(version, kind, c.document);
        if (v.berth === v.ajv) return;
        // berth must be the one that gets it right: upstream says the case fails, the bare schema lets it pass.
        assert.ok(c.fail && v.ajv && !v.berth, `${name} #${i}: berth=${v.berth} schema=${v.ajv} expected fail=${c.fail}`);
        differ.push(`${name} #${i}`);
      });
    }
    assert.ok(total >= 65, `only ${total} cases`);
    assert.deepEqual(differ, KNOWN[version]);
  });
}

/** Every JSON document among the manifest, conversion and layout fixtures, with the schema that applies to it. */
function fixtureDocuments(): { name: string; kind: SchemaKind; text: string }[] {
  const out: { name: string; kind: SchemaKind; text: string }[] = [];
  const add = (path: string, kind?: SchemaKind) => {
    const text = readFileSync(path, 'utf8');
    const p = parse(text);
    const doc = p?.doc as Record<string, unknown> | undefined;
    const has = (k: string) => typeof doc === 'object' && doc !== null && k in doc;
    const byContent = has('rootfs')
      ? 'config'
      : has('manifests')
        ? 'index'
        : has('imageLayoutVersion')
          ? 'layout'
          : has('schemaVersion')
            ? 'manifest'
            : undefined;
    const guessed: SchemaKind = kind ?? byContent ?? (/config/.test(basename(path)) ? 'config' : 'manifest');
    out.push({ name: path.slice(path.indexOf('containers-image')), kind: guessed, text });
  };
  for (const dir of ['manifest/fixtures', 'internal/manifest/testdata', 'internal/image/fixtures']) {
    const abs = fixture('containers-image', dir);
    for (const f of readdirSync(abs)) add(join(abs, f));
  }
  const layouts = fixture('containers-image', 'oci', 'layout', 'fixtures');
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f === 'oci-layout') add(p, 'layout');
      else if (f === 'index.json') add(p, 'index');
      else if (/^[0-9a-f]{64}$/.test(f) && parse(readFileSync(p, 'utf8'))) add(p);
    }
  };
  walk(layouts);
  return out;
}

test('every containers/image manifest, config and OCI layout fixture: berth and the upstream schemas agree', (t) => {
  const docs = fixtureDocuments();
  const counts = new Map<SchemaKind, number>();
  for (const d of docs) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  assert.ok(docs.length >= 100, `only ${docs.length} documents`);
  for (const kind of ['manifest', 'index', 'config', 'layout'] as const) assert.ok((counts.get(kind) ?? 0) >= 4, `${kind}: ${counts.get(kind)}`);
  let valid = 0;
  const negativeSizes: string[] = [];
  for (const d of docs) {
    for (const version of ['v1.1.1', 'main'] as const) {
      const v = verdicts(version, d.kind, d.text);
      if (v.berth && version === 'main') valid++;
      if (v.berth === v.ajv) continue;
      // v1.1.1 lets a descriptor size be negative (containers/image writes -1 for "unknown"); berth and main do not.
      const issues = validate(d.kind, parse(d.text)!.doc);
      const onlySizes = issues.every((i) => /\/size$/.test(i.path) && /out of range/.test(i.message));
      assert.ok(version === 'v1.1.1' && v.ajv && onlySizes, `${d.name} as ${d.kind} (${version}): berth=${v.berth} schema=${v.ajv}`);
      negativeSizes.push(d.name);
    }
  }
  t.diagnostic(`${docs.length} documents (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}), ${valid} valid`);
  assert.ok(valid >= 50, `only ${valid} valid documents`);
  assert.deepEqual(
    negativeSizes,
    ['schema1-to-oci1.json', 'schema1-to-schema2.json'].map((f) => `containers-image/internal/image/fixtures/${f}`),
  );
});

// ---- mutations ---------------------------------------------------------------------------------------------------

const REPLACEMENTS: unknown[] = [42, 1.5, -1, 'x', '', 'a/b', true, null, [], {}, ['x'], [1], { a: 1 }, { a: 'b' }];

/** Every document obtained by deleting one member or replacing one value anywhere in `doc`, with its JSON pointer. */
function* mutations(doc: unknown, path = ''): Generator<{ path: string; doc: unknown }> {
  for (const r of REPLACEMENTS) yield { path, doc: structuredClone(r) };
  if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) {
      for (const m of mutations(doc[i], `${path}/${i}`)) yield { path: m.path, doc: doc.map((x, j) => (j === i ? m.doc : x)) };
    }
  } else if (typeof doc === 'object' && doc !== null) {
    for (const [k, v] of Object.entries(doc)) {
      const { [k]: _, ...rest } = doc as Record<string, unknown>;
      yield { path: `${path}/${k}`, doc: rest };
      for (const m of mutations(v, `${path}/${k}`)) yield { path: m.path, doc: { ...doc, [k]: m.doc } };
    }
  }
}

/**
 * Mutated paths where berth may reject what the schema accepts (never the other way round), each a check upstream
 * makes in Go or a type the Go structs impose where the schema is silent: `platform` on a plain descriptor,
 * `data` (base64) and `artifactType` on an index's entries, non-negative sizes (v1.1.1), NAME=value for Env.
 */
function berthStricterAt(path: string, version: string): boolean {
  return (
    /\/(subject|config|layers\/\d+)\/platform(\/|$)/.test(path) ||
    /^\/manifests\/\d+\/(data|artifactType)$/.test(path) ||
    /\/data$/.test(path) ||
    /\/config\/Env(\/\d+)?$/.test(path) ||
    (/\/size$/.test(path) && (version === 'v1.1.1' || /^\/manifests\/\d+\/size$/.test(path)))
  );
}

test('mutations of valid documents: berth and the upstream schemas agree everywhere it is not knowingly stricter', (t) => {
  const seeds = fixtureDocuments().filter((d) => verdicts('main', d.kind, d.text).berth);
  const cases = JSON.parse(readFileSync(fixture('schemas', 'image-spec-tests', 'spec-examples.v1.1.1.json'), 'utf8')) as {
    examples: { mediatype: string; document: string }[];
  };
  for (const e of cases.examples) seeds.push({ name: e.mediatype, kind: schemaKindFor(e.mediatype)!, text: e.document });
  assert.ok(seeds.length >= 60, `only ${seeds.length} seeds`);
  let compared = 0;
  let stricter = 0;
  const seen = new Set<string>();
  for (const seed of seeds) {
    for (const m of mutations(JSON.parse(seed.text))) {
      const key = `${seed.kind}:${JSON.stringify(m.doc)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      for (const version of ['v1.1.1', 'main'] as const) {
        const berth = validate(seed.kind, m.doc).length === 0;
        const ajv = SCHEMAS[version][seed.kind](m.doc);
        compared++;
        if (berth === ajv) continue;
        assert.ok(
          !berth && berth !== ajv && berthStricterAt(m.path, version),
          `${seed.name} (${seed.kind}, ${version}) mutated at ${m.path || '(root)'}: berth=${berth} schema=${ajv}\n${JSON.stringify(m.doc).slice(0, 400)}`,
        );
        stricter++;
      }
    }
  }
  t.diagnostic(`${seeds.length} seeds, ${seen.size} mutations, ${compared} comparisons, berth stricter in ${stricter}`);
  assert.ok(compared >= 20000, `only ${compared} comparisons`);
  assert.ok(stricter > 0, 'the known differences never showed: the mutations are too narrow');
});
