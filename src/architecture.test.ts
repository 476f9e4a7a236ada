import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './testing/fixtures.js';

/**
 * Two rules of docs/ARCHITECTURE.md, read from it rather than copied here:
 * - a folder imports only from itself and from the folders its row of the "may import" table names;
 * - an import from another top-level folder into a folder that has an index.ts goes through that
 *   index.ts (its public face), never to the modules behind it.
 */
const src = join(repoRoot, 'src');

/** Folders that must keep a face: the engine and its nouns, the docker transport, the registry server, the Dockerfile language. */
const FACES = [
  'engine',
  'engine/images',
  'engine/containers',
  'engine/volumes',
  'engine/networks',
  'engine/pods',
  'engine/kube',
  'engine/secrets',
  'engine/system',
  'engine/settings',
  'engine/build',
  'transports/docker',
  'registry',
  'dockerfile',
];

/** folder -> the folders it may import (itself included), from the table; undefined: anything. */
function mayImport(): Map<string, Set<string> | undefined> {
  const doc = readFileSync(join(repoRoot, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const table = new Map<string, Set<string> | undefined>();
  for (const line of doc.split('\n')) {
    const m = /^\| `([a-z]+)\/` \|.*\| ([^|]+) \|$/.exec(line);
    if (!m) continue;
    const cell = m[2]!.trim();
    if (cell === 'anything') {
      table.set(m[1]!, undefined);
      continue;
    }
    // "store (lookups), oci": the first word of each item; "—" is nothing.
    const names = cell === '—' ? [] : cell.split(',').map((item) => item.trim().split(/[\s(]/)[0]!);
    table.set(m[1]!, new Set([m[1]!, ...names]));
  }
  return table;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every relative module a file names: import, export … from, import(). */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom|\bimport\(|^import)\s*'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
}

/** The deepest folder holding `target` that has an index.ts (below src/ itself), if any. */
function faceOf(target: string): string | undefined {
  for (let dir = dirname(target); dir !== '.' && dir !== ''; dir = dirname(dir)) {
    if (existsSync(join(src, dir, 'index.ts'))) return dir;
  }
  return undefined;
}

const top = (path: string) => (path.includes('/') ? path.split('/')[0]! : '');

describe('architecture', { timeout: 30_000 }, () => {
  const table = mayImport();
  const files = sources(src).map((f) => relative(src, f));

  it('reads a "may import" row for every folder', () => {
    assert.ok(table.size >= 10, `only ${table.size} rows read from docs/ARCHITECTURE.md`);
    for (const folder of new Set(files.map(top))) {
      if (folder !== '') assert.ok(table.has(folder), `src/${folder}/ has no row in docs/ARCHITECTURE.md's table`);
    }
  });

  it('source imports follow the "may import" table of docs/ARCHITECTURE.md', () => {
    const violations: string[] = [];
    for (const rel of files) {
      const folder = top(rel);
      if (folder === '') continue; // src/index.ts is the library entry: it re-exports the engine
      const allowed = table.get(folder);
      for (const spec of importsOf(readFileSync(join(src, rel), 'utf8'))) {
        const target = relative(src, join(src, rel, '..', spec));
        const targetFolder = top(target);
        if (targetFolder === 'testing' && folder !== 'testing') violations.push(`${rel} imports test helpers (${spec})`);
        else if (allowed && !allowed.has(targetFolder)) violations.push(`${rel} (${folder}) may not import ${target}`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it('imports from another folder go through its index.ts', () => {
    const violations: string[] = [];
    for (const rel of files) {
      if (top(rel) === '' || top(rel) === 'testing') continue;
      for (const spec of importsOf(readFileSync(join(src, rel), 'utf8'))) {
        const target = relative(src, join(src, rel, '..', spec)).replace(/\.js$/, '.ts');
        if (top(target) === top(rel)) continue; // inside one top-level folder, modules meet directly
        const face = faceOf(target);
        if (face !== undefined && target !== join(face, 'index.ts')) violations.push(`${rel} imports ${target}: use ${face}/index.ts`);
      }
    }
    assert.deepEqual(violations, []);
  });

  it('each face exists and names what it exports (export * only of another face)', () => {
    const problems: string[] = [];
    for (const face of FACES) {
      const path = join(src, face, 'index.ts');
      if (!existsSync(path)) {
        problems.push(`${face}/index.ts is missing`);
        continue;
      }
      for (const m of readFileSync(path, 'utf8').matchAll(/export\s*\*\s*(?:as\s+\w+\s*)?from\s*'([^']+)'/g)) {
        if (!/(^|\/)index\.js$/.test(m[1]!)) problems.push(`${face}/index.ts: export * from ${m[1]} (name what callers need)`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
