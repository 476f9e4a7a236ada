import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from './testing/fixtures.js';

/**
 * Imports point one way, as docs/ARCHITECTURE.md draws them: a folder may import from itself and
 * from folders before it in this list, never after. `testing/` is for tests only.
 */
const LAYERS = ['util', 'oci', 'dockerfile', 'archive', 'image', 'config', 'runtime', 'network', 'store', 'transports', 'engine', 'build', 'registry', 'cli'];

/** The registry server stands apart from the engine: it shares only these. */
const ONLY: Record<string, string[]> = { registry: ['util', 'oci', 'config', 'registry'] };

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

it('source imports follow the layering of docs/ARCHITECTURE.md', () => {
  const src = join(repoRoot, 'src');
  const files = sources(src);
  assert.ok(files.length > 30);
  const violations: string[] = [];
  for (const file of files) {
    const rel = relative(src, file);
    const folder = rel.includes('/') ? rel.split('/')[0]! : '';
    if (folder === '' || folder === 'testing') continue; // index.ts re-exports everything
    const rank = LAYERS.indexOf(folder);
    assert.notEqual(rank, -1, `${rel}: folder "${folder}" is not in the layer list`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(src, join(file, '..', m[1]!));
      const targetFolder = target.split('/')[0]!;
      if (targetFolder === 'testing') violations.push(`${rel} imports test helpers (${m[1]})`);
      const targetRank = LAYERS.indexOf(targetFolder);
      if (targetRank > rank) violations.push(`${rel} (${folder}) imports ${target} (${targetFolder})`);
      else if (ONLY[folder] && !ONLY[folder]!.includes(targetFolder)) violations.push(`${rel} (${folder}) may not import ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});
