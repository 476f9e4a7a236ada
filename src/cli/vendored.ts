/**
 * A CommonJS dependency that the CLI bundle loads with the V8 code cache made for it at build
 * time (scripts/vendored.mjs): for the `yaml` parser, that cache holds the functions a parse
 * runs, where Node's own compile cache holds only what V8 compiles before a module runs, so every
 * `kube play` compiled the parser again (11.5 ms against 3.7 ms for a parse, measured alone).
 *
 * The file is the dependency bundled and wrapped by the build as
 * `(function (exports, require, module, __filename, __dirname) { … })`, the cache beside it
 * (`NAME.cjs.cache`). V8 checks the cache against the source and its own version and flags, and
 * compiles as usual when it does not fit (another Node, no cache): never wrong, only slower.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

type Factory = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

export interface VendoredModule {
  exports: unknown;
  /** Compiled from the file, for the build to make the cache from once the code has run. */
  script: Script;
  /** Whether V8 took the cache beside the file (undefined: there was none). */
  cacheUsed: boolean | undefined;
}

/** Loads and runs a wrapped dependency file, with `FILE.cache` where there is one. */
export function runVendored(file: string): VendoredModule {
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // built without one: V8 compiles as it goes
  }
  const script = new Script(readFileSync(file, 'utf8'), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} as unknown };
  (script.runInThisContext() as Factory)(module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script, cacheUsed: cachedData === undefined ? undefined : script.cachedDataRejected !== true };
}

/** The module.exports of the bundle's `vendor/NAME.cjs`. */
export function loadVendored(name: string): unknown {
  return runVendored(fileURLToPath(new URL(`./vendor/${name}.cjs`, import.meta.url))).exports;
}
