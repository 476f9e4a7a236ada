import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as yaml from 'yaml';
import { runVendored } from './vendored.js';

/** The CLI bundle's copy, which the build made beside dist/lib. */
const bundled = fileURLToPath(new URL('../../cli/vendor/yaml.cjs', import.meta.url));

describe('vendored dependencies (the CLI bundle loads yaml with a code cache made at build time)', { timeout: 30_000 }, () => {
  test('the build made the file and a cache that this Node takes, and the code works from it', () => {
    assert.ok(existsSync(bundled), `${bundled}: run node scripts/build.mjs`);
    // In a new process, as a command loads it: a module loaded once per process.
    const script = `import(${JSON.stringify(new URL('./vendored.js', import.meta.url).href)}).then(({ runVendored }) => {
      const m = runVendored(${JSON.stringify(bundled)});
      const docs = m.exports.parseAllDocuments('a: 0600\\n---\\nb: [x]\\n', { version: '1.1' }).map((d) => d.toJS());
      console.log(JSON.stringify({ cacheUsed: m.cacheUsed, docs, names: Object.keys(m.exports).sort() }));
    })`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { cacheUsed: boolean; docs: unknown[]; names: string[] };
    assert.equal(out.cacheUsed, true, 'V8 refused the cache the build made');
    // YAML 1.1: 0600 is octal, as kube play reads it.
    assert.deepEqual(out.docs, [{ a: 0o600 }, { b: ['x'] }]);
    assert.deepEqual(
      out.names,
      Object.keys(yaml)
        // Node's namespace of a CommonJS module adds these two.
        .filter((n) => n !== 'default' && n !== 'module.exports')
        .sort(),
    );
  });

  test('without a cache, or with one that does not fit, the code runs all the same', () => {
    const m = runVendored(bundled);
    const { stringify } = m.exports as typeof yaml;
    assert.equal(stringify({ a: [1, 'two'] }), 'a:\n  - 1\n  - two\n');
  });
});
