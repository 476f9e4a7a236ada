/**
 * The CLI bundle's entry (dist/cli/berth.mjs): resolves the bundle's own chunks itself, then loads
 * the command line (main.ts, dist/cli/main.mjs).
 *
 * Why: a command loads ~30 chunks, and Node's resolver gives each `./chunk-X.mjs` a URL parse, a
 * stat and a realpath (10-15 ms of CPU for a `ps` here). A chunk's specifier is always a file beside
 * its importer, written by esbuild, so its URL is that file's URL and nothing else: the hook below
 * says so at once. Every other specifier (a builtin) takes Node's own path. Node keeps loading,
 * checking and caching every file; only the lookup is skipped. The hooks are in-thread and
 * synchronous (`module.registerHooks`, Node 22.15+); without them, Node resolves as before.
 */
const here = new URL('./', import.meta.url).href;
// Taken from process, not imported: an ES import of a builtin builds its whole facade first.
const { registerHooks } = process.getBuiltinModule('node:module');

/** `./NAME.mjs`, NAME without a directory or URL syntax: how esbuild names one chunk from another. */
const SIBLING = /^\.\/[\w.-]+\.mjs$/;

if (typeof registerHooks === 'function') {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (parent !== undefined && parent.slice(0, parent.lastIndexOf('/') + 1) === here && SIBLING.test(specifier)) {
        return { url: here + specifier.slice(2), format: 'module', shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}

// A computed specifier: main.mjs exists only in the bundle (tsc's dist/lib has main.js).
const main = `${here}main.mjs`;
await import(main);
