import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { build, type Plugin } from 'esbuild';
import { tempDir } from '../testing/cli.js';
import { repoRoot } from '../testing/fixtures.js';

const { lazyBuiltins } = (await import(pathToFileURL(join(repoRoot, 'scripts', 'lazy-builtins.mjs')).href)) as { lazyBuiltins: Plugin };

/**
 * A module that imports from node:child_process, node:fs and node:util as berth's do, and a main
 * that uses child_process only when asked to: it prints which of Node's modules were loaded.
 */
function writeProject(root: string): void {
  writeFileSync(
    join(root, 'tool.ts'),
    [
      "import { execFileSync } from 'node:child_process';",
      "import { readFileSync } from 'node:fs';",
      "import { promisify } from 'node:util';",
      'export const ls = promisify((cb: (e: null, v: string) => void) => cb(null, String(execFileSync("echo", ["spawned"]))));',
      "export const self = () => readFileSync(new URL(import.meta.url), 'utf8').length > 0;",
    ].join('\n'),
  );
  writeFileSync(
    join(root, 'main.ts'),
    [
      "const { ls, self } = await import('./tool.js');",
      "const out = process.argv[2] === 'spawn' ? (await ls()).trim() : String(self());",
      'const loaded = process.moduleLoadList.filter((m) => /^NativeModule (child_process|internal\\/fs\\/streams|internal\\/util\\/diff)$/.test(m));',
      'console.log(JSON.stringify({ out, loaded }));',
    ].join('\n'),
  );
}

async function bundleAndRun(root: string, plugins: Plugin[], arg: string): Promise<{ out: string; loaded: string[] }> {
  await build({
    entryPoints: { main: join(root, 'main.ts') },
    outdir: join(root, 'out'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    plugins,
  });
  const r = spawnSync(process.execPath, [join(root, 'out', 'main.mjs'), arg], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { out: string; loaded: string[] };
}

describe('the CLI bundle binds Node builtins lazily', { timeout: 60_000 }, () => {
  it('a builtin imported but not used is not loaded, nor the modules behind unused exports', async () => {
    const t = tempDir('berth-builtins-');
    try {
      writeProject(t.path);
      // Plain ES imports: child_process loads on import, and the facades of fs and util read
      // ReadStream and TextDecoder, which load the fs streams and util's diff.
      const plain = await bundleAndRun(t.path, [], 'read');
      assert.equal(plain.out, 'true');
      assert.ok(plain.loaded.includes('NativeModule child_process'), JSON.stringify(plain.loaded));
      const lazy = await bundleAndRun(t.path, [lazyBuiltins], 'read');
      assert.equal(lazy.out, 'true');
      assert.deepEqual(lazy.loaded, []);
    } finally {
      t.cleanup();
    }
  });

  it('a lazily bound builtin works when it is used', async () => {
    const t = tempDir('berth-builtins-');
    try {
      writeProject(t.path);
      const lazy = await bundleAndRun(t.path, [lazyBuiltins], 'spawn');
      assert.equal(lazy.out, 'spawned');
      assert.ok(lazy.loaded.includes('NativeModule child_process'));
    } finally {
      t.cleanup();
    }
  });
});
