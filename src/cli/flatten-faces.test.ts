import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { build, type Plugin } from 'esbuild';
import { tempDir } from '../testing/cli.js';
import { repoRoot } from '../testing/fixtures.js';

const { flattenFaces } = (await import(pathToFileURL(join(repoRoot, 'scripts', 'flatten-faces.mjs')).href)) as { flattenFaces: Plugin };

/**
 * A face re-exports two modules; a command imports one name through it. The command's bundle must
 * hold that module's code and not the other's, as the CLI's commands did before engine had faces.
 */
function writeProject(root: string): void {
  const file = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  file('src/engine/things/used.ts', "export const usedThing = () => 'USED_CODE';\n");
  file('src/engine/things/unused.ts', "export const big = ['UNUSED_CODE'].map((s) => s.toLowerCase());\nexport const unusedThing = () => big;\n");
  file('src/engine/things/index.ts', "export { usedThing } from './used.js';\nexport { unusedThing } from './unused.js';\n");
  file('src/engine/index.ts', "export * from './things/index.js';\n");
  file('src/cli/commands/cmd.ts', "import { usedThing } from '../../engine/index.js';\nexport const run = () => usedThing();\n");
  file('src/cli/commands/other.ts', "import { unusedThing as renamed } from '../../engine/things/index.js';\nexport const run = () => renamed();\n");
  file('src/cli/main.ts', "export const load = (n: string) => (n === 'cmd' ? import('./commands/cmd.js') : import('./commands/other.js'));\n");
}

/** The code `berth cmd` loads: its chunk and every chunk it imports, as the bundle is split. */
async function loadedByCmd(root: string, plugins: Plugin[]): Promise<string> {
  const result = await build({
    entryPoints: { main: join(root, 'src/cli/main.ts') },
    outdir: join(root, 'out'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins,
  });
  const outputs = result.metafile.outputs;
  const text = new Map(result.outputFiles.map((f) => [f.path.slice(root.length + 1), f.text]));
  const entry = Object.keys(outputs).find((k) => outputs[k]!.entryPoint?.endsWith('src/cli/commands/cmd.ts'));
  assert.ok(entry, 'no chunk for the command');
  const seen = new Set<string>();
  const visit = (chunk: string) => {
    if (seen.has(chunk)) return;
    seen.add(chunk);
    for (const i of outputs[chunk]!.imports) if (i.kind === 'import-statement' && outputs[i.path]) visit(i.path);
  };
  visit(entry);
  return [...seen].map((c) => text.get(c.slice(c.indexOf('out/'))) ?? '').join('\n');
}

describe('the CLI bundle flattens engine faces', { timeout: 30_000 }, () => {
  it('a command loads the modules whose names it imports through a face, not the rest', async () => {
    const t = tempDir('berth-faces-');
    try {
      writeProject(t.path);
      // Without the plugin, code splitting hands the command every module the face re-exports.
      const plain = await loadedByCmd(t.path, []);
      assert.match(plain, /USED_CODE/);
      assert.match(plain, /UNUSED_CODE/);
      const flat = await loadedByCmd(t.path, [flattenFaces]);
      assert.match(flat, /USED_CODE/);
      assert.doesNotMatch(flat, /UNUSED_CODE/);
    } finally {
      t.cleanup();
    }
  });

  it('refuses a face loaded with import(), which would load it whole', async () => {
    const t = tempDir('berth-faces-');
    try {
      writeProject(t.path);
      writeFileSync(join(t.path, 'src/cli/commands/cmd.ts'), "export const run = async () => (await import('../../engine/things/index.js')).usedThing();\n");
      await assert.rejects(loadedByCmd(t.path, [flattenFaces]), /loaded whole/);
    } finally {
      t.cleanup();
    }
  });
});
