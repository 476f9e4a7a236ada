// An esbuild plugin for the CLI bundle: how the bundle binds Node's built-in modules, so that a
// command loads only the builtins it uses and reads only the exports it uses.
//
// Why: an ES `import … from 'node:x'` makes Node build the builtin's ES facade, which reads every
// export, and getters among them load more of Node: `node:fs`'s ReadStream loads the fs streams,
// `node:util`'s TextDecoder its diff and SIGINT-watchdog modules (~3-5 ms per process, for exports
// berth never imports). And a builtin that is imported is loaded: node:child_process brings
// node:net and node:dgram (~5 ms) to a `rm`, `create` or `version` that starts no child (commander
// requires it too, for external subcommands, which berth has none of).
//
// - LAZY builtins (heavy, used by few commands, only through named exports): an import or require
//   resolves to a small CommonJS module whose exports are getters over
//   `process.getBuiltinModule('node:x')`; esbuild reads a named import from CommonJS at each use
//   (`(0, cp.spawn)(…)`), so the builtin loads at its first call.
// - Every other builtin's `import`: an ES module that takes the builtin from
//   `process.getBuiltinModule` and exports its plain data properties (functions, classes,
//   constants), not its getters, so that nothing else is read or loaded.
// - A CommonJS `require()` of one of those stays Node's own (the require() of the banner): a
//   dependency may use the module itself as a value (`class Bar extends require('events')`).
//
// The export names are those of the Node that builds, the one that runs berth (package.json's
// engines). An import of a name that is not a plain data property fails the build (esbuild: "No
// matching export"), and is then bound another way here.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Builtins bound lazily: heavy to load (or to read whole: util), used through their named exports. */
const LAZY = ['child_process', 'crypto', 'dgram', 'dns/promises', 'http', 'https', 'net', 'perf_hooks', 'readline', 'tls', 'util', 'vm', 'zlib'];

/**
 * The other builtins the bundle imports: their wrappers are evaluated at start with the LAZY ones
 * (each is loaded at Node's start, or small, or used by nearly every command). One missing here
 * still works, in a chunk of its own.
 */
const DIRECT = [
  'async_hooks',
  'buffer',
  'events',
  'fs',
  'fs/promises',
  'module',
  'os',
  'path',
  'process',
  'stream',
  'stream/promises',
  'timers/promises',
  'util',
];

const AWS_SDK = /[\\/]node_modules[\\/]@(?:aws-sdk|smithy|aws-crypto)[\\/]/;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A LAZY builtin as CommonJS: a getter per export, the builtin loaded on first use. */
function lazySource(name) {
  const id = JSON.stringify(`node:${name}`);
  const names = Object.keys(require(`node:${name}`)).filter((k) => k !== 'default' && k !== '__esModule');
  return [
    'let m;',
    `const load = () => (m ??= process.getBuiltinModule(${id}));`,
    'const lazy = {};',
    `for (const k of ${JSON.stringify(names)}) Object.defineProperty(lazy, k, { enumerable: true, get: () => load()[k] });`,
    'module.exports = lazy;',
  ].join('\n');
}

/**
 * Getters of the direct builtins that the bundle imports by name, read when the builtin is first
 * imported (the rest are left unread: fs's ReadStream, util's aborted, process's stdout…).
 */
const IMPORTED_GETTERS = { async_hooks: ['AsyncLocalStorage'] };

/** Any other builtin as an ES module: its data properties, read once, and the builtin as the default. */
function directSource(name) {
  const id = JSON.stringify(`node:${name}`);
  const real = require(`node:${name}`);
  const getters = IMPORTED_GETTERS[name] ?? [];
  const names = Object.keys(real).filter(
    (k) => k !== 'default' && IDENTIFIER.test(k) && ('value' in Object.getOwnPropertyDescriptor(real, k) || getters.includes(k)),
  );
  return [`const m = process.getBuiltinModule(${id});`, 'export default m;', names.length > 0 ? `export const { ${names.join(', ')} } = m;` : ''].join('\n');
}

export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    // The wrappers are imported by one module injected into every file, so that they share one
    // chunk instead of esbuild making a small chunk for each set of commands that uses one.
    build.initialOptions.inject = [...(build.initialOptions.inject ?? []), 'lazy-builtins:all'];
    build.onResolve({ filter: /^lazy-builtins:all$/ }, () => ({ path: 'all', namespace: 'lazy-builtins' }));
    build.onLoad({ filter: /^all$/, namespace: 'lazy-builtins' }, () => ({
      contents: [...LAZY, ...DIRECT].map((m) => `import ${JSON.stringify(`node:${m}`)};`).join('\n'),
      loader: 'js',
    }));
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      // The AWS SDK (the registry's S3 backend, loaded only with one) imports getters such as fs's
      // ReadStream: its chunk binds Node's own modules.
      if (AWS_SDK.test(args.importer) && isBuiltin(name)) return { path: `node:${name}`, external: true };
      if (LAZY.includes(name)) return { path: name, namespace: 'lazy-builtin' };
      if (args.kind === 'import-statement' && isBuiltin(name)) return { path: name, namespace: 'direct-builtin' };
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: lazySource(args.path), loader: 'js' }));
    build.onLoad({ filter: /.*/, namespace: 'direct-builtin' }, (args) => ({ contents: directSource(args.path), loader: 'js' }));
  },
};

function isBuiltin(name) {
  return require('node:module').isBuiltin(`node:${name}`) && !name.startsWith('_');
}
