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
import { siblingChunkUrl } from './sibling-chunks.js';

const here = new URL('./', import.meta.url).href;
// Taken from process, not imported: an ES import of a builtin builds its whole facade first.
const { registerHooks } = process.getBuiltinModule('node:module');

if (typeof registerHooks === 'function') {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const url = siblingChunkUrl(specifier, context.parentURL, here);
      return url === undefined ? nextResolve(specifier, context) : { url, format: 'module', shortCircuit: true };
    },
  });
}

// A computed specifier: main.mjs exists only in the bundle (tsc's dist/lib has main.js).
const main = `${here}main.mjs`;
await import(main);
