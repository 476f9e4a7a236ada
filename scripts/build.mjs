// Builds two outputs: the library and tests with tsc (dist/lib, with .d.ts), and the CLI as an
// esbuild bundle split per command (dist/cli), so that `berth version` loads a few kB, not the engine.
//
// Both are built into a sibling folder of dist/ and swapped in by renames at the end: a berth
// installed from this checkout (/usr/local/bin/berth, and conmon's callbacks to it) runs from dist/,
// and deleting dist/ first left it without its code for the whole build.
import { build } from 'esbuild';
import { flattenFaces } from './flatten-faces.mjs';
import { lazyBuiltins } from './lazy-builtins.mjs';
import { buildNative } from './build-native.mjs';
import { buildVendored, vendoredPlugin } from './vendored.mjs';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const out = `dist.new-${process.pid}`;

/** Removes what killed builds left: dist.new-<pid> and dist.old-<pid>-<n> of processes that are gone. */
function sweepLeftovers() {
  for (const name of readdirSync('.')) {
    const m = /^dist\.(?:new|old)-(\d+)(?:-\d+)?$/.exec(name);
    if (m && !alive(Number(m[1]))) rmSync(name, { recursive: true, force: true });
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Puts `out` in place of dist/: the old one is renamed away, the new one renamed in, the old one
 * removed. Another build swapping at the same time may put its dist/ back in between; then that
 * one is renamed away too and this one tried again.
 */
function swapIn() {
  for (let attempt = 0; ; attempt++) {
    const old = `dist.old-${process.pid}-${attempt}`;
    try {
      renameSync('dist', old);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    try {
      renameSync(out, 'dist');
      rmSync(old, { recursive: true, force: true });
      return;
    } catch (e) {
      rmSync(old, { recursive: true, force: true });
      if ((e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') || attempt >= 10) throw e;
    }
  }
}

/**
 * Gives a `require` to each chunk that uses one: the CommonJS dependencies bundled into ES modules
 * call it (through esbuild's `__require`) for Node's builtins. A banner on every chunk made ~190 of
 * ~210 chunks that never use it build a CommonJS module each at load (`createRequire`), ~2 ms per
 * command. The line goes first, so each source map gets one empty line in front (a `;`).
 */
function defineRequireWhereUsed(dir) {
  const line = "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);\n";
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.mjs')) continue;
    const file = `${dir}/${name}`;
    const code = readFileSync(file, 'utf8');
    if (!/\brequire\b/.test(code)) continue;
    writeFileSync(file, line + code);
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
    map.mappings = `;${map.mappings}`;
    writeFileSync(`${file}.map`, JSON.stringify(map));
  }
}

sweepLeftovers();
try {
  // --outDir overrides tsconfig.json's dist/lib; the depth is the same, so source maps still point at src/.
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--outDir', `${out}/lib`], { stdio: 'inherit' });
  // What both CLI builds share: ES modules for this Node, minified, with linked source maps.
  const cli = {
    outdir: `${out}/cli`,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'linked',
    minify: true,
    logLevel: 'warning',
  };
  await build({ ...cli, entryPoints: { main: 'src/cli/main.ts' }, bundle: true, splitting: true, plugins: [flattenFaces, lazyBuiltins, vendoredPlugin] });
  defineRequireWhereUsed(`${out}/cli`);
  // The dependencies the bundle loads with a code cache made after they ran (yaml).
  await buildVendored(`${out}/cli`, `${out}/lib/cli/vendored.js`);
  // The entry (dist/cli/berth.mjs, what bin/berth starts): the chunks' resolver, then main.mjs. A
  // bundle of its own: it must run before main.mjs and its chunks are resolved.
  await build({ ...cli, entryPoints: { berth: 'src/cli/entry.ts' }, bundle: true });
  // The addon beside the modules that load it (src/util/native.ts asks for ./berth-native.node):
  // the bundle's chunks and the library's util/.
  const addon = buildNative();
  if (addon) for (const dir of [`${out}/cli`, `${out}/lib/util`]) if (existsSync(dir)) copyFileSync(addon, `${dir}/berth-native.node`);
  swapIn();
} catch (e) {
  rmSync(out, { recursive: true, force: true });
  // tsc has printed its errors already; esbuild's and the swap's are printed here.
  if (e?.status === undefined) console.error(e?.message ?? e);
  process.exit(1);
}
