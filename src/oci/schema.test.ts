import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fixture } from '../testing/fixtures.js';
import { digestOf } from './digest.js';
import { MediaType } from './mediatypes.js';
import { formatIssues, schemaKindFor, validate, validateJSON, type SchemaKind } from './schema.js';

// The image-spec's own validation tables (schema/*_test.go as JSON, see fixtures/schemas/README.md), run through
// berth's hand-written validator. schema.upstream.test.ts checks the same verdicts against the upstream schemas.

interface Case {
  comment: string;
  fail?: boolean;
  document: string;
  validator?: string;
  digest?: string;
}
interface Table {
  validator?: string;
  cases: Case[];
}

function table(name: string): Table {
  return JSON.parse(readFileSync(fixture('schemas', 'image-spec-tests', name), 'utf8')) as Table;
}

function kindOf(mediaType: string | undefined): SchemaKind {
  const kind = mediaType === undefined ? undefined : schemaKindFor(mediaType);
  assert.ok(kind, `no schema for validator ${mediaType}`);
  return kind;
}

const TABLES = ['manifest', 'imageindex', 'config', 'descriptor', 'imagelayout'];
/** Case counts per table as fixtures/schemas/README.md gives them (v1.1.1; main differs only in descriptor: 31). */
const COUNTS: Record<string, number> = { manifest: 12, imageindex: 12, config: 10, descriptor: 29, imagelayout: 2 };

for (const version of ['v1.1.1', 'main']) {
  test(`image-spec ${version} validation tables: berth gives upstream's verdict on every case`, () => {
    let total = 0;
    for (const name of TABLES) {
      const t = table(`${name}.${version}.json`);
      const expected = name === 'descriptor' && version === 'main' ? 31 : COUNTS[name]!;
      assert.equal(t.cases.length, expected, `${name}.${version}.json case count`);
      const kind = kindOf(t.validator);
      t.cases.forEach((c, i) => {
        const issues = validateJSON(kind, c.document);
        const label = `${name}.${version} #${i} (${c.comment || 'no comment'})`;
        if (c.fail) assert.ok(issues.length > 0, `${label}: should fail but validated`);
        else assert.deepEqual(issues, [], `${label}: should validate`);
        total++;
      });
    }
    assert.ok(total >= 65, `only ${total} cases ran`);
  });
}

test('image-spec examples from the spec text all validate', () => {
  const examples = (
    JSON.parse(readFileSync(fixture('schemas', 'image-spec-tests', 'spec-examples.v1.1.1.json'), 'utf8')) as {
      examples: { title: string; mediatype: string; document: string }[];
    }
  ).examples;
  assert.ok(examples.length >= 13);
  for (const e of examples) assert.deepEqual(validateJSON(kindOf(e.mediatype), e.document), [], e.title);
});

for (const version of ['v1.1.1', 'main']) {
  test(`backwards compatibility (${version}): Docker schema 2 documents keep their digest and validate`, () => {
    const t = table(`backwards_compatibility.${version}.json`);
    assert.ok(t.cases.length >= 4);
    const replacements: [string, string][] = [
      [MediaType.DockerManifestList, MediaType.OciIndex],
      [MediaType.DockerManifest, MediaType.OciManifest],
      [MediaType.DockerLayerGzip, MediaType.OciLayerGzip],
      [MediaType.DockerConfig, MediaType.OciConfig],
    ];
    for (const c of t.cases) {
      assert.equal(digestOf(c.document), c.digest, `${c.comment}: the exact bytes give the digest`);
      const oci = replacements.reduce((s, [from, to]) => s.split(from).join(to), c.document);
      const kind = kindOf(c.validator);
      assert.deepEqual(validateJSON(kind, oci), [], `${c.digest} with OCI media types`);
      // berth validates Docker schema 2 documents with the same rules, media types as they are.
      assert.deepEqual(validateJSON(kind, c.document), [], `${c.digest} as Docker`);
    }
  });
}

test('every kind reports where and what is wrong', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const cases: [SchemaKind, unknown, string[]][] = [
    ['descriptor', [], ['(root)']],
    ['descriptor', { mediaType: 'x', size: -1, digest: 'sha256:abc' }, ['/mediaType', '/size', '/digest']],
    ['descriptor', { mediaType: 'a/b', size: 1, digest, urls: ['relative/path'], data: 'YQ', annotations: { k: 1 } }, ['/urls/0', '/data', '/annotations/k']],
    ['descriptor', { mediaType: 'a/b', size: 1.5, digest: `sha512:${'a'.repeat(64)}` }, ['/size', '/digest']],
    ['descriptor', { mediaType: 'a/b', size: 1, digest, platform: { os: 'linux' } }, ['/platform/architecture']],
    ['manifest', { schemaVersion: 1, layers: {} }, ['/config', '/schemaVersion', '/layers']],
    ['manifest', { schemaVersion: 2, config: { mediaType: 'a/b', size: 1, digest }, layers: [] }, ['/layers']],
    [
      'index',
      { schemaVersion: 2, manifests: [{ mediaType: 'a/b', size: 1, digest, platform: { architecture: 1, os: 'linux' } }] },
      ['/manifests/0/platform/architecture'],
    ],
    ['index', { schemaVersion: 2, manifests: [], subject: 'nope', annotations: { a: null } }, ['/subject', '/annotations/a']],
    ['config', { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, created: '2020-02-30T00:00:00Z' }, ['/created']],
    [
      'config',
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'x' }, config: { Env: ['A'], Cmd: 'sh', Volumes: ['/v'], Labels: null, ArgsEscaped: 1 } },
      ['/rootfs/diff_ids', '/rootfs/type', '/config/Env/0', '/config/Cmd', '/config/Volumes', '/config/ArgsEscaped'],
    ],
    [
      'config',
      { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: [{ empty_layer: 'yes', created: 'yesterday' }] },
      ['/history/0/empty_layer', '/history/0/created'],
    ],
    ['layout', { imageLayoutVersion: '1.1.0' }, ['/imageLayoutVersion']],
  ];
  for (const [kind, doc, paths] of cases) {
    const issues = validate(kind, doc);
    const got = issues.map((i) => i.path || '(root)');
    assert.deepEqual(got.sort(), [...paths].sort(), `${kind} ${JSON.stringify(doc)}: ${formatIssues(issues, 10)}`);
  }
  assert.deepEqual(validate('manifest', { schemaVersion: 2, config: { mediaType: 'a/b', size: 1, digest }, layers: [] }, { allowEmptyLayers: true }), []);
  assert.deepEqual(
    validateJSON('layout', '{"imageLayoutVersion": 1.0.0}').map((i) => i.path),
    [''],
  );
  assert.deepEqual(validateJSON('layout', new Uint8Array([0xff, 0xfe])), [{ path: '', message: 'not valid UTF-8' }]);
  assert.match(formatIssues(validate('descriptor', {})), /^\/mediaType: is required; \/size: is required; \/digest: is required$/);
  assert.match(formatIssues(validate('descriptor', {}), 1), /\(and 2 more\)$/);
});

test('digests: registered algorithms need exact lower-case hex, others only the grammar', () => {
  const d = (digest: string) => validate('descriptor', { mediaType: 'a/b', size: 0, digest }).length === 0;
  assert.ok(d(`sha256:${'0'.repeat(64)}`));
  assert.ok(d(`sha384:${'0'.repeat(96)}`));
  assert.ok(d(`sha512:${'0'.repeat(128)}`));
  assert.ok(!d(`sha256:${'0'.repeat(63)}`));
  assert.ok(!d(`sha384:${'0'.repeat(64)}`));
  assert.ok(!d(`sha256:${'A'.repeat(64)}`));
  assert.ok(d('blake3:Zz_-='));
  assert.ok(!d('sha256+:abc'));
  assert.ok(!d(''));
});

test('schema validation is plain code: the oci modules never load ajv, even at run time', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const modules = ['manifest.js', 'mediatypes.js', 'platform.js', 'schema.js', '_check.js'];
  assert.ok(readdirSync(here).filter((f) => modules.includes(f)).length === modules.length, 'compiled modules missing');
  for (const m of modules) assert.doesNotMatch(readFileSync(join(here, m), 'utf8'), /['"]ajv(-draft-04)?['"]/, `${m} refers to ajv`);
  // In a fresh node: import every oci module, then look for ajv among loaded CommonJS modules; then load ajv
  // there too, to prove that the probe would have seen it. (ajv is found from here, or from the working directory
  // when the tests were compiled outside the repository.)
  const ajvPath = [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href]
    .map((base) => {
      try {
        return createRequire(base).resolve('ajv-draft-04');
      } catch {
        return undefined;
      }
    })
    .find((p) => p !== undefined);
  assert.ok(ajvPath, 'ajv-draft-04 is not installed');
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const loaded = () => Object.keys(require.cache).filter((k) => /[\\\\/]ajv/.test(k)).length;
    for (const m of ${JSON.stringify(modules.map((m) => join(here, m)))}) await import(m);
    const before = loaded();
    await import(${JSON.stringify(pathToFileURL(ajvPath).href)});
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: here, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
  assert.equal(before, 0, 'ajv was loaded by importing the oci modules');
  assert.ok(after > 0, 'the probe cannot see ajv being loaded');
});
