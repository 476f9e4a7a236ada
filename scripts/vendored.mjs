// CommonJS dependencies the CLI bundle loads with a V8 code cache made here, at build time, after
// the code ran (src/cli/vendored.ts loads them). Node's compile cache holds only what V8 compiles
// before a module runs; a dependency whose work is all in functions (a parser) was compiled again
// in every process. `yaml`: a kube file's parse took 11.5 ms without this, 3.7 ms with it.
//
// - vendoredPlugin: in the CLI bundle, `import … from 'yaml'` becomes a small module that loads
//   dist/cli/vendor/yaml.cjs through loadVendored at the first use of one of its names (a pull
//   imports the YAML reader of registries.d, which it needs only where such files exist).
// - buildVendored(cliDir): writes vendor/NAME.cjs (the dependency bundled by esbuild, wrapped as a
//   function of exports, require, module, __filename, __dirname) and, by running
//   scripts/vendored-warm.mjs in a new Node of the same binary and flags, vendor/NAME.cjs.cache.
//   The cache is made after the warm-up ran the code a command runs, so it holds those functions.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The dependencies loaded this way: each has its warm-up in vendored-warm.mjs. */
export const VENDORED = ['yaml'];

const LOADER = fileURLToPath(new URL('../src/cli/vendored.ts', import.meta.url));
const WARM = fileURLToPath(new URL('./vendored-warm.mjs', import.meta.url));

export const vendoredPlugin = {
  name: 'vendored',
  setup(b) {
    const names = new RegExp(`^(${VENDORED.join('|')})$`);
    b.onResolve({ filter: names }, (args) => ({ path: args.path, namespace: 'vendored' }));
    b.onLoad({ filter: /.*/, namespace: 'vendored' }, (args) => {
      // The export names are the package's own, as this build's Node loads it.
      const exportNames = Object.keys(require(args.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
      // Each name stands for the export through a Proxy over a function (so that it can be called and
      // constructed), which loads the file at its first use; `instanceof` reads the real prototype.
      return {
        contents: [
          `import { loadVendored } from ${JSON.stringify(LOADER)};`,
          'let m;',
          `const load = () => (m ??= loadVendored(${JSON.stringify(args.path)}));`,
          'const lazy = (name) => new Proxy(function () {}, {',
          '  get: (_, k) => Reflect.get(load()[name], k),',
          '  has: (_, k) => Reflect.has(load()[name], k),',
          '  apply: (_, self, args) => Reflect.apply(load()[name], self, args),',
          '  construct: (_, args) => Reflect.construct(load()[name], args),',
          '});',
          'export default new Proxy({}, { get: (_, k) => Reflect.get(load(), k), has: (_, k) => Reflect.has(load(), k), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, k) => ({ ...Reflect.getOwnPropertyDescriptor(load(), k), configurable: true }) });',
          ...exportNames.map((n) => `export const ${n} = lazy(${JSON.stringify(n)});`),
        ].join('\n'),
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'js',
      };
    });
  },
};

/**
 * Writes cliDir/vendor/NAME.cjs and its cache for each vendored dependency; `loader` is the built
 * src/cli/vendored.ts (tsc's, in the new dist's lib/), which the warm-up loads the file with.
 */
export async function buildVendored(cliDir, loader) {
  const dir = resolve(cliDir, 'vendor');
  mkdirSync(dir, { recursive: true });
  for (const name of VENDORED) {
    const out = await build({
      entryPoints: [require.resolve(name)],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      minify: true,
      write: false,
      logLevel: 'warning',
    });
    const file = `${dir}/${name}.cjs`;
    writeFileSync(file, `(function (exports, require, module, __filename, __dirname) {${out.outputFiles[0].text}\n})`);
    // A Node of its own, started as bin/berth starts one (no V8 flags), so that V8 takes the cache.
    execFileSync(process.execPath, [WARM, resolve(loader), file, name], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
